package state_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
	"github.com/csfle/csfle/state"
)

// FuzzDecodeState: the state reader never panics on any input, and a state
// it accepts encodes and decodes back to itself.
func FuzzDecodeState(f *testing.F) {
	s := state.New("encryption.__keyVault")
	s.SetKey(model.PriorKey{Addr: model.DataKeyAddr("ssn"), ID: model.KeyID{1}, AltNames: []string{"ssn"}, MasterKey: model.MasterKey{Provider: "local"}})
	s.SetCollection(model.PriorCollection{Addr: model.CollectionAddr("a", "b"), Database: "a", Name: "b", Mode: model.ModeSchemaMap})
	good, err := state.Encode(s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"format_version":1,"serial":3,"lineage":"x","data_keys":[]}`))
	f.Add([]byte(`{"format_version":99}`))
	f.Add([]byte(`{`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := state.Decode(data, "fuzz")
		if err != nil {
			return
		}
		again, err := state.Encode(got)
		if err != nil {
			return // Decode accepts some states Encode refuses to write (checked on write)
		}
		back, err := state.Decode(again, "fuzz")
		if err != nil {
			t.Fatalf("a state that was read and written cannot be read again: %v\n%s", err, again)
		}
		if diff := cmp.Diff(got, back); diff != "" {
			t.Fatalf("round trip changed the state (-first +second):\n%s", diff)
		}
	})
}

// FuzzDecodePlanFile: the saved-plan reader never panics, and only accepts
// a file whose checksum matches, so a plan it accepts re-encodes to one it
// accepts too.
func FuzzDecodePlanFile(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "p.plan")
	id := model.KeyID{2}
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Changes: []plan.Change{{Addr: model.DataKeyAddr("k"), Action: plan.Rewrap,
		Before: &plan.Key{ID: &id, AltNames: []string{"k"}, MasterKey: model.MasterKey{Provider: "local"}},
		After:  &plan.Key{ID: &id, AltNames: []string{"k"}, MasterKey: model.MasterKey{Provider: "aws", Fields: map[string]string{"key": "arn"}}}}}}
	if err := state.WritePlanFile(path, p, "sha256:x"); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"format_version":"1.0","plan":{"format_version":"1.0"},"checksum":"sha256:0"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		pf, err := state.DecodePlanFile(data, "fuzz.plan")
		if err != nil {
			return
		}
		out := filepath.Join(t.TempDir(), "again.plan")
		if err := state.WritePlanFile(out, &pf.Plan, pf.ConfigDigest); err != nil {
			return
		}
		if _, err := state.ReadPlanFile(out); err != nil {
			t.Fatalf("a plan that was accepted and written again is refused: %v", err)
		}
	})
}
