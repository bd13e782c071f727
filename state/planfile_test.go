package state_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
	"github.com/csfle/csfle/state"
)

func samplePlan() *plan.Plan {
	id := model.KeyID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	return &plan.Plan{
		FormatVersion: plan.FormatVersion,
		Basis:         plan.Basis{StateLineage: "lin", StateSerial: 7, VaultDigest: "sha256:vault", Namespace: model.DefaultKeyVaultNamespace},
		Changes: []plan.Change{
			{Addr: model.DataKeyAddr("ssn"), Action: plan.Rewrap, Reason: "master key moves from local to aws",
				Before: &plan.Key{ID: &id, AltNames: []string{"ssn"}, MasterKey: model.MasterKey{Provider: "local"}},
				After: &plan.Key{ID: &id, AltNames: []string{"ssn"}, MasterKey: model.MasterKey{Provider: "aws",
					Fields: map[string]string{"key": "arn:aws:kms:us-east-1:1:key/x", "region": "us-east-1"}}}},
			{Addr: model.DataKeyAddr("card"), Action: plan.Create, Reason: "new <key> & more",
				After: &plan.Key{AltNames: []string{"card"}, MasterKey: model.MasterKey{Provider: "local"}}},
		},
		Warnings: []string{"a warning"},
	}
}

func writePlan(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "saved.plan")
	if err := state.WritePlanFile(path, samplePlan(), "sha256:config"); err != nil {
		t.Fatalf("WritePlanFile: %v", err)
	}
	return path
}

func TestPlanFileRoundTrip(t *testing.T) {
	before := time.Now()
	path := writePlan(t)
	f, err := state.ReadPlanFile(path)
	if err != nil {
		t.Fatalf("ReadPlanFile: %v", err)
	}
	if diff := cmp.Diff(samplePlan(), &f.Plan); diff != "" {
		t.Errorf("plan (-wrote +read):\n%s", diff)
	}
	wd, _ := os.Getwd()
	if f.FormatVersion != state.PlanFileFormatVersion || f.ConfigDigest != "sha256:config" || f.ConfigDir != wd ||
		f.CreatedAt.Before(before.Add(-time.Second)) || !strings.HasPrefix(f.Checksum, "sha256:") {
		t.Errorf("PlanFile = %+v", f)
	}
	assertFiles(t, filepath.Dir(path), "saved.plan")
	data, _ := os.ReadFile(path)
	if !bytes.HasSuffix(data, []byte("}\n")) {
		t.Errorf("saved plan does not end in a newline")
	}
}

func TestPlanFileFillsPlanVersion(t *testing.T) {
	p := samplePlan()
	p.FormatVersion = ""
	path := filepath.Join(t.TempDir(), "saved.plan")
	if err := state.WritePlanFile(path, p, "d"); err != nil {
		t.Fatal(err)
	}
	f, err := state.ReadPlanFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Plan.FormatVersion != plan.FormatVersion || p.FormatVersion != "" {
		t.Errorf("plan format %q (caller's %q), want %q and the caller's plan untouched", f.Plan.FormatVersion, p.FormatVersion, plan.FormatVersion)
	}
}

func TestPlanFileReindentedStillReads(t *testing.T) {
	path := writePlan(t)
	data, _ := os.ReadFile(path)
	var buf bytes.Buffer
	if err := json.Indent(&buf, data, "", "\t\t"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, buf.Bytes(), 0o600)
	if _, err := state.ReadPlanFile(path); err != nil {
		t.Errorf("ReadPlanFile of a re-indented plan: %v", err)
	}
}

func TestPlanFileRefuses(t *testing.T) {
	const modified = "was modified after it was made; run csfle plan again"
	tests := []struct {
		name string
		edit func(doc map[string]any, raw string) string
		want string
	}{
		{"changed action", func(_ map[string]any, raw string) string {
			return strings.Replace(raw, `"action": "create"`, `"action": "delete"`, 1)
		}, modified},
		{"changed digest", func(doc map[string]any, _ string) string {
			doc["config_digest"] = "sha256:other"
			return marshal(doc)
		}, modified},
		{"added member", func(doc map[string]any, _ string) string {
			doc["vars"] = map[string]any{"x": 1}
			return marshal(doc)
		}, modified},
		{"no checksum", func(doc map[string]any, _ string) string {
			delete(doc, "checksum")
			return marshal(doc)
		}, modified},
		{"newer major version", func(doc map[string]any, _ string) string {
			doc["format_version"] = "2.0"
			return marshal(doc)
		}, "is a saved plan of format version 2.0, which this csfle cannot read"},
		{"newer plan major version", func(doc map[string]any, _ string) string {
			doc["plan"].(map[string]any)["format_version"] = "2.1"
			return marshal(doc)
		}, `holds a plan of format version "2.1"`},
		{"no format version", func(doc map[string]any, _ string) string {
			delete(doc, "format_version")
			return marshal(doc)
		}, "has no format_version"},
		{"truncated", func(_ map[string]any, raw string) string { return raw[:len(raw)/2] },
			"is not a valid saved plan"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writePlan(t)
			raw, _ := os.ReadFile(path)
			var doc map[string]any
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			edited := tc.edit(doc, string(raw))
			if edited == string(raw) {
				t.Fatal("the edit changed nothing")
			}
			os.WriteFile(path, []byte(edited), 0o600)
			f, err := state.ReadPlanFile(path)
			if err == nil {
				t.Fatalf("ReadPlanFile = %+v, want an error", f)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not say %q and name the file", err, tc.want)
			}
		})
	}
}

func TestPlanFileMinorVersionReads(t *testing.T) {
	// Minor versions only add members, so a reader of 1.0 reads 1.3 as
	// long as the checksum, computed as documented, matches.
	path := writePlan(t)
	raw, _ := os.ReadFile(path)
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	doc["format_version"] = "1.3"
	doc["added_in_1_3"] = "something new"
	doc["checksum"] = documentedChecksum(t, []byte(marshal(doc)))
	os.WriteFile(path, []byte(marshal(doc)), 0o600)
	if _, err := state.ReadPlanFile(path); err != nil {
		t.Errorf("ReadPlanFile of a 1.3 plan: %v", err)
	}
}

// documentedChecksum is the saved plan's checksum as PlanFile documents it:
// SHA-256 of the top-level members other than "checksum", in name order,
// with values compacted.
func documentedChecksum(t *testing.T, doc []byte) string {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(doc, &members); err != nil {
		t.Fatal(err)
	}
	delete(members, "checksum")
	canonical, err := json.Marshal(members)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("sha256:%x", sha256.Sum256(canonical))
}

func marshal(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return string(b)
}
