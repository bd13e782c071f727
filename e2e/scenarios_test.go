package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/csfle/csfle/state"
)

// Scenarios a user meets after the first apply: saved plans, changes made
// outside csfle, keys made before csfle, renames, refusals and the lock.

const oneKey = localProvider + `
data_key "ssn" {
  kms = kms.local
}
`

const oneKeyAndExtra = oneKey + `
data_key "extra" {
  kms = kms.local
}
`

// createKeyOutside makes a data key as an application would, with the
// driver, and returns its base64 id.
func createKeyOutside(t *testing.T, w *workspace, alt ...string) string {
	t.Helper()
	a := newApp(t, w, "local")
	id, err := a.ce.CreateDataKey(context.Background(), "local", options.DataKey().SetKeyAltNames(alt))
	if err != nil {
		t.Fatalf("CreateDataKey: %v", err)
	}
	return base64.StdEncoding.EncodeToString(id.Data)
}

// planDrift is the drift section of plan -json.
type planDrift struct {
	Drift []struct {
		Address string `json:"address"`
		Kind    string `json:"kind"`
	} `json:"drift"`
}

func (w *workspace) drift() planDrift {
	w.t.Helper()
	r := w.ok("plan", "-json")
	var d planDrift
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		w.t.Fatalf("plan -json: %v\n%s", err, r.stdout)
	}
	return d
}

// actions is "address action" for each change of a plan, sorted.
func actions(p planDoc) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, c.Address+" "+c.Action)
	}
	sort.Strings(out)
	return out
}

func sorted(xs []string) []string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	return out
}

func hasAction(p planDoc, address, action string) bool {
	for _, c := range p.Changes {
		if c.Address == address && c.Action == action {
			return true
		}
	}
	return false
}

// A saved plan is applied exactly, or refused as stale or modified, with
// nothing written.
func TestSavedPlan(t *testing.T) {
	t.Run("applied as made", func(t *testing.T) {
		w := newWorkspace(t)
		w.config(oneKey)
		r := w.ok("plan", "-out", "p.plan")
		expect(t, r, 0, "stdout", "Saved the plan to p.plan", "csfle apply p.plan")
		// No prompt: the plan was reviewed when it was made.
		r = w.runIn("", "apply", "p.plan")
		expect(t, r, 0, "stdout", "data_key.ssn: Creation complete", "Apply complete! Resources: 1 created")
		if strings.Contains(r.stdout, "Enter a value") {
			t.Errorf("apply PLANFILE asked for confirmation:\n%s", r)
		}
		if n := len(withAlt(vaultDocs(t, w.namespace), "ssn")); n != 1 {
			t.Errorf("%d keys with alt name ssn, want 1", n)
		}
		// Applying it a second time is refused: the state moved on.
		expect(t, w.run("apply", "p.plan"), 1, "stderr", "stale")
		if n := len(withAlt(vaultDocs(t, w.namespace), "ssn")); n != 1 {
			t.Errorf("second apply of the plan: %d keys with alt name ssn, want 1", n)
		}
	})

	t.Run("state written since", func(t *testing.T) {
		w := newWorkspace(t)
		w.config(oneKey)
		w.ok("plan", "-out", "p.plan")
		// Someone applies another configuration (ssn and an extra key) and
		// puts the files back as they were, so only the state has moved.
		w.config(oneKeyAndExtra)
		w.ok("apply", "-auto-approve")
		w.config(oneKey)
		before := rawVault(t, w.namespace)
		r := w.run("apply", "p.plan")
		expect(t, r, 1, "stderr", "the saved plan is stale", "the state was written since", "Run csfle plan again")
		if after := rawVault(t, w.namespace); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("a stale plan changed the key vault")
		}
		if n := len(withAlt(vaultDocs(t, w.namespace), "ssn")); n != 1 {
			t.Errorf("%d keys with alt name ssn, want 1: the stale plan created it again", n)
		}
	})

	t.Run("key vault changed since", func(t *testing.T) {
		w := newWorkspace(t)
		w.config(oneKey)
		w.ok("apply", "-auto-approve")
		w.config(oneKeyAndExtra)
		w.ok("plan", "-out", "p.plan")
		createKeyOutside(t, w, "someone-else")
		r := w.run("apply", "p.plan")
		expect(t, r, 1, "stderr", "the saved plan is stale", "the key vault changed since it was made")
		if n := len(withAlt(vaultDocs(t, w.namespace), "extra")); n != 0 {
			t.Errorf("a stale plan created the extra key")
		}
	})

	t.Run("modified file", func(t *testing.T) {
		w := newWorkspace(t)
		w.config(oneKeyAndExtra)
		w.ok("plan", "-out", "p.plan")
		// One byte: the address of the first key the plan creates.
		plan := w.read("p.plan")
		i := strings.Index(plan, `"address": "data_key.extra"`)
		if i < 0 {
			t.Fatalf("the saved plan does not create data_key.extra:\n%s", plan)
		}
		j := i + len(`"address": "data_key.extr`)
		edited := plan[:j] + "b" + plan[j+1:]
		if len(edited) != len(plan) {
			t.Fatal("edit changed the length")
		}
		w.write("p.plan", edited)
		r := w.run("apply", "p.plan")
		expect(t, r, 1, "stderr", "p.plan was modified after it was made")
		if n := len(vaultDocs(t, w.namespace)); n != 0 {
			t.Errorf("a modified plan created %d keys", n)
		}
		if w.exists("csfle.state.json") {
			t.Error("a modified plan wrote the state")
		}
		expect(t, w.run("show", "p.plan"), 1, "stderr", "modified")
	})

	t.Run("configuration changed since", func(t *testing.T) {
		w := newWorkspace(t)
		w.config(oneKey)
		w.ok("plan", "-out", "p.plan")
		w.config(oneKeyAndExtra)
		r := w.run("apply", "p.plan")
		expect(t, r, 1, "stderr", "the saved plan is stale", "the configuration files changed since it was made")
		if n := len(vaultDocs(t, w.namespace)); n != 0 {
			t.Errorf("a stale plan created %d keys", n)
		}
		// A new file counts as a change of the configuration too.
		w.config(oneKey)
		w.write("more.csfle.hcl", "data_key \"more\" {\n  kms = kms.local\n}\n")
		expect(t, w.run("apply", "p.plan"), 1, "stderr", "stale")
		if n := len(vaultDocs(t, w.namespace)); n != 0 {
			t.Errorf("a stale plan created %d keys", n)
		}
	})
}

// A key renamed or deleted outside csfle is shown as drift, apart from the
// planned changes, and the plan brings the key vault back to the config.
func TestDriftOutsideCsfle(t *testing.T) {
	// setUp applies twoKeys and returns the ids and the key vault collection.
	setUp := func(t *testing.T) (*workspace, map[string]string, *mongo.Collection) {
		w := newWorkspace(t)
		w.config(twoKeys)
		w.ok("apply", "-auto-approve")
		return w, w.keyIDs(), vaultColl(t, w.namespace)
	}
	ctx := context.Background()

	t.Run("alt name added by hand", func(t *testing.T) {
		w, ids, coll := setUp(t)
		res, err := coll.UpdateOne(ctx, bson.M{"_id": keyBinary(t, ids["ssn"])},
			bson.M{"$addToSet": bson.M{"keyAltNames": "added-by-hand"}})
		if err != nil || res.ModifiedCount != 1 {
			t.Fatalf("$addToSet: %v %+v", err, res)
		}
		r := w.ok("plan")
		expect(t, r, 0, "stdout", "Changes outside csfle since the last apply:", "data_key.ssn was renamed outside csfle",
			"data_key.ssn will be updated in place", `remove "added-by-hand"`)
		if i, j := strings.Index(r.stdout, "outside csfle since"), strings.Index(r.stdout, "will be updated in place"); i < 0 || j < i {
			t.Errorf("drift is not shown apart from (before) the planned changes:\n%s", r.stdout)
		}
		if d := w.drift(); len(d.Drift) != 1 || d.Drift[0].Address != "data_key.ssn" || d.Drift[0].Kind != "renamed" {
			t.Errorf("plan -json drift: %+v", d)
		}
		if p := w.planJSON(); fmt.Sprint(actions(p)) != "[data_key.ssn update]" {
			t.Errorf("plan for a renamed key: %v", actions(p))
		}
		expect(t, w.run("plan", "-markdown"), 0, "stdout", "outside csfle")
		expect(t, w.run("apply", "-auto-approve"), 0, "stdout", "Apply complete! Resources: 0 created, 0 rewrapped, 1 updated")
		if alts := vaultDocs(t, w.namespace)[ids["ssn"]]; fmt.Sprint(alts) != "[ssn]" {
			t.Errorf("ssn's alt names after apply: %v, want [ssn]", alts)
		}
		expect(t, w.run("plan", "-detailed-exitcode"), 0, "stdout", "No changes.")
	})

	t.Run("key deleted by hand", func(t *testing.T) {
		// Shown as drift, and created again: a new key, since the old one
		// is gone for good.
		w, ids, coll := setUp(t)
		del, err := coll.DeleteOne(ctx, bson.M{"_id": keyBinary(t, ids["billing"])})
		if err != nil || del.DeletedCount != 1 {
			t.Fatalf("delete: %v %+v", err, del)
		}
		r := w.ok("plan")
		expect(t, r, 0, "stdout", "Changes outside csfle since the last apply:", "data_key.billing was deleted outside csfle",
			"data_key.billing will be created")
		if d := w.drift(); len(d.Drift) != 1 || d.Drift[0].Address != "data_key.billing" || d.Drift[0].Kind != "deleted" {
			t.Errorf("plan -json drift: %+v", d)
		}
		if p := w.planJSON(); fmt.Sprint(actions(p)) != "[data_key.billing create]" {
			t.Errorf("plan for a deleted key: %v", actions(p))
		}
		expect(t, w.run("apply", "-auto-approve"), 0, "stdout", "Apply complete! Resources: 1 created")
		after := w.keyIDs()
		if after["billing"] == ids["billing"] || after["ssn"] != ids["ssn"] {
			t.Errorf("ids after recreating billing: before %v, after %v", ids, after)
		}
		docs := vaultDocs(t, w.namespace)
		if len(docs) != 2 || fmt.Sprint(sorted(docs[after["billing"]])) != "[billing billing-2026]" {
			t.Errorf("key vault after recreating billing: %v", docs)
		}
		expect(t, w.run("plan", "-detailed-exitcode"), 0, "stdout", "No changes.")
		if len(w.drift().Drift) != 0 {
			t.Error("drift is still reported after apply")
		}
	})
}

// A key an application made before csfle, with the block's alt name, is
// adopted: recorded in the state, not created again.
func TestAdoptExistingKey(t *testing.T) {
	w := newWorkspace(t)
	id := createKeyOutside(t, w, "ssn")
	w.config(oneKey)

	p := w.planJSON()
	if !hasAction(p, "data_key.ssn", "adopt") || hasAction(p, "data_key.ssn", "create") {
		t.Fatalf("plan does not adopt ssn: %v", actions(p))
	}
	for _, c := range p.Changes {
		if c.Address == "data_key.ssn" && (c.After == nil || c.After.ID != uuidOf(keyBinary(t, id).Data)) {
			t.Errorf("adopt of the wrong key: %+v, want id %s", c.After, uuidOf(keyBinary(t, id).Data))
		}
	}
	expect(t, w.ok("plan"), 0, "stdout", "data_key.ssn will be adopted into state", uuidOf(keyBinary(t, id).Data), "1 to adopt")

	r := w.ok("apply", "-auto-approve")
	expect(t, r, 0, "stdout", "0 created", "1 adopted")
	if got := strings.TrimSpace(w.ok("output", "-raw", "ssn").stdout); got != id {
		t.Errorf("state records ssn as %s, the key made outside is %s", got, id)
	}
	docs := vaultDocs(t, w.namespace)
	if ids := withAlt(docs, "ssn"); len(ids) != 1 || ids[0] != id || len(docs) != 1 {
		t.Errorf("key vault after adopt: %v, want only %s", docs, id)
	}
	expect(t, w.run("plan", "-detailed-exitcode"), 0, "stdout", "No changes.")

	// The adopted key still decrypts what was encrypted with it.
	a := newApp(t, w, "local")
	if v, err := a.decrypt(a.encrypt(id, "kept")); err != nil || v != "kept" {
		t.Errorf("adopted key: %q %v", v, err)
	}
}

// Changing alt_names updates the key in place: same id, new names.
func TestAltNamesUpdate(t *testing.T) {
	w := newWorkspace(t)
	w.config(twoKeys)
	w.ok("apply", "-auto-approve")
	ids := w.keyIDs()

	w.config(strings.Replace(twoKeys, `["billing", "billing-2026"]`, `["billing", "billing-2027", "invoices"]`, 1))
	p := w.planJSON()
	if fmt.Sprint(actions(p)) != "[data_key.billing update]" {
		t.Fatalf("plan for new alt names: %v", actions(p))
	}
	expect(t, w.ok("plan"), 0, "stdout", "data_key.billing will be updated in place", "billing-2027", "0 to create", "1 to update", "0 to delete")
	expect(t, w.ok("apply", "-auto-approve"), 0, "stdout", "Apply complete! Resources: 0 created, 0 rewrapped, 1 updated, 0 deleted")

	docs := vaultDocs(t, w.namespace)
	if fmt.Sprint(sorted(docs[ids["billing"]])) != "[billing billing-2027 invoices]" {
		t.Errorf("billing's alt names in the key vault: %v", docs[ids["billing"]])
	}
	if len(docs) != 2 || w.keyIDs()["billing"] != ids["billing"] {
		t.Errorf("update changed the ids: %v", docs)
	}
	var out struct {
		DataKeys map[string]struct {
			AltNames []string `json:"alt_names"`
		} `json:"data_keys"`
	}
	if err := json.Unmarshal([]byte(w.ok("output", "-json").stdout), &out); err != nil || len(out.DataKeys["billing"].AltNames) != 3 {
		t.Errorf("state's alt names for billing: %v %+v", err, out)
	}
	expect(t, w.run("plan", "-detailed-exitcode"), 0, "stdout", "No changes.")
}

// Moving keys to AWS without the local provider that wraps them is refused
// at plan time, and apply writes nothing.
func TestRewrapWithoutOldProviderIsRefused(t *testing.T) {
	w := newWorkspace(t)
	w.config(stage1)
	w.ok("apply", "-auto-approve")
	before := rawVault(t, w.namespace)
	stateBefore := w.read("csfle.state.json")

	w.config(strings.Replace(stage2, localProvider, "", 1))
	for _, args := range [][]string{{"plan"}, {"apply", "-auto-approve"}, {"plan", "-out", "refused.plan"}} {
		r := w.run(args...)
		expect(t, r, 1, "stderr", "Cannot unwrap the key to rewrap it", `"local" KMS provider, which is not configured`, `kms "local"`)
		if strings.Contains(r.stdout, "Apply complete") || strings.Contains(r.stdout, "Rewrapping") {
			t.Errorf("csfle %v reports work done:\n%s", args, r)
		}
	}
	if w.exists("refused.plan") {
		t.Error("a refused plan was saved")
	}
	if after := rawVault(t, w.namespace); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the refused rewrap changed the key vault:\nbefore %v\nafter  %v", before, after)
	}
	if w.read("csfle.state.json") != stateBefore {
		t.Error("the refused rewrap wrote the state")
	}
	w.assertNoSecrets()
}

// A run that finds the state locked names the holder, and one given
// -lock-timeout waits for it.
func TestStateLock(t *testing.T) {
	w := newWorkspace(t)
	w.config(oneKey)
	backend := state.NewLocal(filepath.Join(w.dir, "csfle.state.json"))
	info := state.NewLockInfo("e2e-lock-holder")
	unlock, err := backend.Lock(context.Background(), info)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	for _, args := range [][]string{{"plan"}, {"apply", "-auto-approve"}} {
		r := w.run(args...)
		expect(t, r, 1, "stderr", "locked by "+info.Who, "e2e-lock-holder", fmt.Sprintf("pid %d", os.Getpid()), info.ID)
	}
	if n := len(vaultDocs(t, w.namespace)); n != 0 {
		t.Errorf("apply under someone else's lock created %d keys", n)
	}

	// A short wait is not enough.
	start := time.Now()
	expect(t, w.run("plan", "-lock-timeout", "300ms"), 1, "stderr", "locked by")
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("plan -lock-timeout 300ms gave up after %v", d)
	}

	released := make(chan struct{})
	go func() {
		time.Sleep(500 * time.Millisecond)
		_ = unlock()
		close(released)
	}()
	start = time.Now()
	r := w.run("apply", "-auto-approve", "-lock-timeout", "2s")
	waited := time.Since(start)
	<-released
	expect(t, r, 0, "stdout", "Apply complete! Resources: 1 created")
	if waited < 400*time.Millisecond {
		t.Errorf("apply finished after %v, before the lock was released", waited)
	}
	if n := len(withAlt(vaultDocs(t, w.namespace), "ssn")); n != 1 {
		t.Errorf("%d keys with alt name ssn after the wait, want 1", n)
	}

	// csfle released its own lock: we can take it again at once.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	again, err := backend.Lock(ctx, state.NewLockInfo("e2e-after"))
	if err != nil {
		t.Fatalf("the lock is still held after csfle exited: %v", err)
	}
	_ = again()
}

// An apply that rewrapped a key and stopped before verifying and recording
// it (a crash, a KMS refusing Decrypt) leaves a key whose state says local
// and whose document says aws. The next plan must not take that as done:
// it rewraps the key again under the same master key and verifies it.
func TestUnrecordedRewrapIsVerifiedByTheNextApply(t *testing.T) {
	w := newWorkspace(t)
	w.config(stage1)
	w.ok("apply", "-auto-approve")
	ids := w.keyIDs()

	// What the interrupted apply did: the rewrap, and nothing after it.
	a := newApp(t, w, "local", "aws")
	mk := bson.D{{Key: "key", Value: env.CMKARN}, {Key: "region", Value: "us-east-1"}, {Key: "endpoint", Value: env.KMSEndpoint}}
	if _, err := a.ce.RewrapManyDataKey(context.Background(), bson.D{{Key: "_id", Value: keyBinary(t, ids["ssn"])}},
		options.RewrapManyDataKey().SetProvider("aws").SetMasterKey(mk)); err != nil {
		t.Fatalf("RewrapManyDataKey: %v", err)
	}

	w.config(stage2)
	p := w.planJSON()
	want := []string{"data_key.billing rewrap", "data_key.ssn rewrap"}
	if got := actions(p); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("plan = %v, want %v: the unverified rewrap of ssn must be planned again", got, want)
	}
	if d := w.drift(); len(d.Drift) != 1 || d.Drift[0].Address != "data_key.ssn" || d.Drift[0].Kind != "rewrapped" {
		t.Errorf("drift = %+v, want data_key.ssn rewrapped", d.Drift)
	}
	r := w.ok("apply", "-auto-approve")
	if !strings.Contains(r.stdout, "2 rewrapped") {
		t.Errorf("apply: %s", r)
	}
	if r := w.run("plan", "-detailed-exitcode"); r.code != 0 {
		t.Errorf("plan after the verified rewrap: %s", r)
	}
}
