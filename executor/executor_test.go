package executor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
)

// fakeVault is an in-memory key vault with knobs to make it fail or lie.
type fakeVault struct {
	mu           sync.Mutex
	keys         map[model.KeyID]model.LiveKey
	next         byte
	failCreate   map[string]bool // by first alt name
	lieOnRewrap  bool
	noDecrypt    map[string]bool // by provider
	noIndex      bool
	index        bool
	noValidators bool
	collections  map[string]string
	// transientCreates fails that many creates with errTransient; with
	// writeThenFail the key document is written before the failure.
	transientCreates int
	writeThenFail    bool
	calls            []string
}

func newFakeVault(keys ...model.LiveKey) *fakeVault {
	v := &fakeVault{keys: map[model.KeyID]model.LiveKey{}, next: 100}
	for _, k := range keys {
		v.keys[k.ID] = k
	}
	return v
}

func (v *fakeVault) log(s string, args ...any) {
	v.calls = append(v.calls, fmt.Sprintf(s, args...))
}

func (v *fakeVault) CreateKey(_ context.Context, mk model.MasterKey, alt []string) (model.KeyID, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.failCreate[alt[0]] {
		return model.KeyID{}, errors.New("kms unreachable")
	}
	if v.transientCreates > 0 {
		v.transientCreates--
		if v.writeThenFail {
			v.next++
			id := model.KeyID{15: v.next}
			v.keys[id] = model.LiveKey{ID: id, MasterKey: mk, AltNames: append([]string(nil), alt...)}
		}
		return model.KeyID{}, errTransient
	}
	v.next++
	id := model.KeyID{15: v.next}
	v.keys[id] = model.LiveKey{ID: id, MasterKey: mk, AltNames: append([]string(nil), alt...)}
	v.log("create %s", alt[0])
	return id, nil
}

func (v *fakeVault) SetAltNames(_ context.Context, id model.KeyID, add, remove []string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	k := v.keys[id]
	names := map[string]bool{}
	for _, a := range k.AltNames {
		names[a] = true
	}
	for _, a := range add {
		names[a] = true
	}
	for _, a := range remove {
		delete(names, a)
	}
	k.AltNames = nil
	for a := range names {
		k.AltNames = append(k.AltNames, a)
	}
	sort.Strings(k.AltNames)
	v.keys[id] = k
	v.log("altnames %s +%v -%v", id, add, remove)
	return nil
}

func (v *fakeVault) Rewrap(_ context.Context, id model.KeyID, mk model.MasterKey) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	k, ok := v.keys[id]
	if !ok {
		return errors.New("no such key")
	}
	if !v.lieOnRewrap {
		k.MasterKey = mk
	}
	v.keys[id] = k
	v.log("rewrap %s %s", id, mk.Provider)
	return nil
}

func (v *fakeVault) Delete(_ context.Context, id model.KeyID) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.keys, id)
	v.log("delete %s", id)
	return nil
}

func (v *fakeVault) Get(_ context.Context, id model.KeyID) (model.LiveKey, bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	k, ok := v.keys[id]
	return k, ok, nil
}

func (v *fakeVault) VerifyDecrypt(_ context.Context, id model.KeyID) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.noDecrypt[v.keys[id].MasterKey.Provider] {
		return errors.New("access denied")
	}
	v.log("check %s", id)
	return nil
}

func (v *fakeVault) CreateAltNamesIndex(context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.noIndex {
		return fmt.Errorf("vault: %w (NotImplemented)", model.ErrIndexUnsupported)
	}
	v.index = true
	return nil
}

func (v *fakeVault) CreateCollection(_ context.Context, db, coll, jsonSchema, encryptedFields string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.noValidators && jsonSchema != "" {
		return errors.New("vault: create with a validator: the server does not support it (NotImplemented)")
	}
	if v.collections == nil {
		v.collections = map[string]string{}
	}
	v.collections[db+"."+coll] = jsonSchema + encryptedFields
	v.log("create collection %s.%s", db, coll)
	return nil
}

func (v *fakeVault) SetValidator(_ context.Context, db, coll, jsonSchema string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.noValidators {
		return errors.New("vault: collMod: the server does not support it (NotImplemented)")
	}
	if v.collections == nil {
		v.collections = map[string]string{}
	}
	v.collections[db+"."+coll] = jsonSchema
	v.log("collMod %s.%s", db, coll)
	return nil
}

func (v *fakeVault) FindByAltName(_ context.Context, name string) (model.LiveKey, bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, k := range v.keys {
		for _, a := range k.AltNames {
			if a == name {
				return k, true, nil
			}
		}
	}
	return model.LiveKey{}, false, nil
}

func (v *fakeVault) KeyDocument(_ context.Context, id model.KeyID) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	k, ok := v.keys[id]
	if !ok {
		return "", errors.New("no such key")
	}
	return fmt.Sprintf(`{"_id":%q,"masterKey":%q,"keyMaterial":"wrapped"}`, id, k.MasterKey), nil
}

func (v *fakeVault) DropEmpty(_ context.Context, db, coll string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.collections, db+"."+coll)
	v.log("drop %s.%s", db, coll)
	return nil
}

// fakeRecorder is the state, recorded after every step.
type fakeRecorder struct {
	backups     map[model.KeyID]string
	keys        map[model.Addr]model.PriorKey
	collections map[model.Addr]model.PriorCollection
	writes      int
	unsupported string
	failAfter   int // fail the write after this many, if > 0
}

func newRecorder() *fakeRecorder {
	return &fakeRecorder{keys: map[model.Addr]model.PriorKey{}, collections: map[model.Addr]model.PriorCollection{}}
}

func (r *fakeRecorder) PutCollection(_ context.Context, c model.PriorCollection) error {
	if err := r.write(); err != nil {
		return err
	}
	r.collections[c.Addr] = c
	return nil
}

func (r *fakeRecorder) RemoveCollection(_ context.Context, a model.Addr) error {
	if err := r.write(); err != nil {
		return err
	}
	delete(r.collections, a)
	return nil
}

func (r *fakeRecorder) Backup(_ context.Context, addr model.Addr, id model.KeyID, doc string) error {
	if r.backups == nil {
		r.backups = map[model.KeyID]string{}
	}
	r.backups[id] = doc
	return nil
}

func (r *fakeRecorder) KeyID(a model.Addr) (model.KeyID, bool) {
	k, ok := r.keys[a]
	return k.ID, ok
}

func (r *fakeRecorder) write() error {
	if r.failAfter > 0 && r.writes >= r.failAfter {
		return errors.New("disk full")
	}
	r.writes++
	return nil
}
func (r *fakeRecorder) PutKey(_ context.Context, k model.PriorKey) error {
	if err := r.write(); err != nil {
		return err
	}
	r.keys[k.Addr] = k
	return nil
}
func (r *fakeRecorder) RemoveKey(_ context.Context, a model.Addr) error {
	if err := r.write(); err != nil {
		return err
	}
	delete(r.keys, a)
	return nil
}
func (r *fakeRecorder) SetIndexUnsupported(_ context.Context, reason string) error {
	r.unsupported = reason
	return r.write()
}

var (
	local = model.MasterKey{Provider: "local"}
	aws   = model.MasterKey{Provider: "aws", Fields: map[string]string{"key": "arn:one", "region": "us-east-1"}}
)

func kid(n byte) *model.KeyID { return &model.KeyID{15: n} }

func TestApplyMixedPlan(t *testing.T) {
	v := newFakeVault(
		model.LiveKey{ID: *kid(1), MasterKey: local, AltNames: []string{"billing"}},
		model.LiveKey{ID: *kid(2), MasterKey: local, AltNames: []string{"old"}},
		model.LiveKey{ID: *kid(3), MasterKey: local, AltNames: []string{"tax"}},
	)
	rec := newRecorder()
	p := &plan.Plan{Changes: []plan.Change{
		{Addr: model.KeyVaultIndexAddr, Action: plan.Create},
		{Addr: model.DataKeyAddr("ssn"), Action: plan.Create, After: &plan.Key{AltNames: []string{"ssn"}, MasterKey: local, PreventDestroy: true}},
		{Addr: model.DataKeyAddr("tax"), Action: plan.Update,
			Before: &plan.Key{ID: kid(3), AltNames: []string{"tax"}, MasterKey: local},
			After:  &plan.Key{ID: kid(3), AltNames: []string{"tax", "tax-v2"}, MasterKey: local}},
		{Addr: model.DataKeyAddr("billing"), Action: plan.Rewrap,
			Before: &plan.Key{ID: kid(1), AltNames: []string{"billing"}, MasterKey: local},
			After:  &plan.Key{ID: kid(1), AltNames: []string{"billing"}, MasterKey: aws}},
		{Addr: model.DataKeyAddr("old"), Action: plan.Delete, Before: &plan.Key{ID: kid(2), AltNames: []string{"old"}, MasterKey: local}},
	}}
	var events []string
	res, err := Apply(context.Background(), p, v, rec, Options{OnEvent: func(e Event) {
		events = append(events, fmt.Sprintf("%s %s %d", e.Change.Addr, e.Change.Action, e.Phase))
	}})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(res.Applied) != 5 || len(res.NotRun) != 0 {
		t.Fatalf("applied %d, not run %d", len(res.Applied), len(res.NotRun))
	}
	if !v.index {
		t.Error("index not created")
	}
	wantCalls := []string{
		"create ssn",
		"altnames 00000000-0000-0000-0000-000000000003 +[tax-v2] -[]",
		"rewrap 00000000-0000-0000-0000-000000000001 aws",
		"check 00000000-0000-0000-0000-000000000001",
		"delete 00000000-0000-0000-0000-000000000002",
	}
	if diff := cmp.Diff(wantCalls, v.calls); diff != "" {
		t.Errorf("vault calls (-want +got):\n%s", diff)
	}
	if rec.writes != 4 {
		t.Errorf("state written %d times, want once per key step (4)", rec.writes)
	}
	if len(rec.backups) != 2 || !strings.Contains(rec.backups[*kid(1)], `"masterKey":"local"`) || rec.backups[*kid(2)] == "" {
		t.Errorf("backups = %v, want the rewrapped key (as it was before) and the deleted one", rec.backups)
	}
	ssn := rec.keys[model.DataKeyAddr("ssn")]
	if ssn.ID != *kid(101) || !ssn.PreventDestroy {
		t.Errorf("state of ssn = %+v", ssn)
	}
	if got := rec.keys[model.DataKeyAddr("billing")].MasterKey; !got.Equal(aws) {
		t.Errorf("state of billing has master key %s", got)
	}
	if _, ok := rec.keys[model.DataKeyAddr("old")]; ok {
		t.Error("deleted key still in state")
	}
	if len(events) != 10 {
		t.Errorf("events = %v, want a start and a done per change", events)
	}
}

func TestApplyStopsAtFirstFailureAndKeepsWhatWasDone(t *testing.T) {
	v := newFakeVault()
	v.failCreate = map[string]bool{"k3": true}
	rec := newRecorder()
	p := &plan.Plan{}
	for i := 1; i <= 5; i++ {
		name := fmt.Sprintf("k%d", i)
		p.Changes = append(p.Changes, plan.Change{Addr: model.DataKeyAddr(name), Action: plan.Create, After: &plan.Key{AltNames: []string{name}, MasterKey: local}})
	}
	p.Changes = append(p.Changes, plan.Change{Addr: model.DataKeyAddr("x"), Action: plan.Delete, Before: &plan.Key{ID: kid(9), MasterKey: local}})
	res, err := Apply(context.Background(), p, v, rec, Options{})
	if err == nil {
		t.Fatal("Apply succeeded despite a failing create")
	}
	if len(res.Applied) != 2 || len(res.Failed) != 1 || len(res.NotRun) != 3 {
		t.Fatalf("applied %d failed %d not run %d, want 2/1/3", len(res.Applied), len(res.Failed), len(res.NotRun))
	}
	if res.Failed[0].Change.Addr.Name != "k3" {
		t.Errorf("failed = %s", res.Failed[0].Change.Addr)
	}
	if len(rec.keys) != 2 {
		t.Errorf("state holds %d keys, want the 2 created", len(rec.keys))
	}
}

func TestApplyConcurrentCreatesRecordEveryKey(t *testing.T) {
	v := newFakeVault()
	rec := newRecorder()
	p := &plan.Plan{}
	for i := 0; i < 50; i++ {
		name := fmt.Sprintf("user_%02d", i)
		p.Changes = append(p.Changes, plan.Change{Addr: model.DataKeyAddr(name), Action: plan.Create, After: &plan.Key{AltNames: []string{name}, MasterKey: local}})
	}
	if _, err := Apply(context.Background(), p, v, rec, Options{Concurrency: 8}); err != nil {
		t.Fatal(err)
	}
	if len(rec.keys) != 50 || len(v.keys) != 50 || rec.writes != 50 {
		t.Errorf("state %d keys, vault %d keys, %d writes; want 50 each", len(rec.keys), len(v.keys), rec.writes)
	}
}

func TestReadBackCatchesAWriteThatDidNotHappen(t *testing.T) {
	v := newFakeVault(model.LiveKey{ID: *kid(1), MasterKey: local, AltNames: []string{"b"}})
	v.lieOnRewrap = true
	rec := newRecorder()
	p := &plan.Plan{Changes: []plan.Change{{Addr: model.DataKeyAddr("b"), Action: plan.Rewrap,
		Before: &plan.Key{ID: kid(1), AltNames: []string{"b"}, MasterKey: local},
		After:  &plan.Key{ID: kid(1), AltNames: []string{"b"}, MasterKey: aws}}}}
	_, err := Apply(context.Background(), p, v, rec, Options{})
	if err == nil || !contains(err.Error(), "reads back with master key local") {
		t.Fatalf("err = %v, want a read-back mismatch", err)
	}
	if rec.writes != 0 {
		t.Error("a failed rewrap was recorded")
	}
}

func TestRewrapThatDoesNotDecryptIsNotRecorded(t *testing.T) {
	v := newFakeVault(model.LiveKey{ID: *kid(1), MasterKey: local, AltNames: []string{"b"}})
	v.noDecrypt = map[string]bool{"aws": true}
	rec := newRecorder()
	p := &plan.Plan{Changes: []plan.Change{{Addr: model.DataKeyAddr("b"), Action: plan.Rewrap,
		Before: &plan.Key{ID: kid(1), AltNames: []string{"b"}, MasterKey: local},
		After:  &plan.Key{ID: kid(1), AltNames: []string{"b"}, MasterKey: aws}}}}
	_, err := Apply(context.Background(), p, v, rec, Options{})
	if err == nil || !contains(err.Error(), "does not decrypt through it") {
		t.Fatalf("err = %v", err)
	}
	if rec.writes != 0 {
		t.Error("an unverified rewrap was recorded")
	}
}

func TestUnsupportedIndexIsAWarningAndRemembered(t *testing.T) {
	v := newFakeVault()
	v.noIndex = true
	rec := newRecorder()
	p := &plan.Plan{Changes: []plan.Change{{Addr: model.KeyVaultIndexAddr, Action: plan.Create}}}
	res, err := Apply(context.Background(), p, v, rec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 0 || len(res.Skipped) != 1 {
		t.Errorf("applied %d, skipped %d; want the index skipped", len(res.Applied), len(res.Skipped))
	}
	if len(res.Warnings) != 1 || !contains(res.Warnings[0], "no unique index on keyAltNames") {
		t.Errorf("warnings = %q", res.Warnings)
	}
	if !contains(rec.unsupported, "NotImplemented") {
		t.Errorf("state did not remember why: %q", rec.unsupported)
	}
}

func TestStateWriteFailureStopsTheApply(t *testing.T) {
	v := newFakeVault()
	rec := newRecorder()
	rec.failAfter = 1
	p := &plan.Plan{}
	for _, n := range []string{"a", "b", "c"} {
		p.Changes = append(p.Changes, plan.Change{Addr: model.DataKeyAddr(n), Action: plan.Create, After: &plan.Key{AltNames: []string{n}, MasterKey: local}})
	}
	res, err := Apply(context.Background(), p, v, rec, Options{})
	if err == nil || !contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
	if len(res.Applied) != 1 || len(res.NotRun) != 1 {
		t.Errorf("applied %d, not run %d", len(res.Applied), len(res.NotRun))
	}
}

func TestDriftIsRecordedBeforeChanges(t *testing.T) {
	v := newFakeVault()
	rec := newRecorder()
	rec.keys[model.DataKeyAddr("a")] = model.PriorKey{Addr: model.DataKeyAddr("a"), ID: *kid(1), MasterKey: local, AltNames: []string{"a"}, PreventDestroy: true}
	p := &plan.Plan{Drift: []plan.Drift{{Addr: model.DataKeyAddr("a"), Kind: "rewrapped",
		Before: &plan.Key{ID: kid(1), AltNames: []string{"a"}, MasterKey: local, PreventDestroy: true},
		After:  &plan.Key{ID: kid(1), AltNames: []string{"a"}, MasterKey: aws}}}}
	if _, err := Apply(context.Background(), p, v, rec, Options{}); err != nil {
		t.Fatal(err)
	}
	got := rec.keys[model.DataKeyAddr("a")]
	if !got.MasterKey.Equal(aws) || !got.PreventDestroy {
		t.Errorf("state after refresh = %+v", got)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// slowVault lets a test cancel the apply while a step is in flight.
type slowVault struct {
	*fakeVault
	started chan struct{}
	release chan struct{}
}

func (v *slowVault) CreateKey(ctx context.Context, mk model.MasterKey, alt []string) (model.KeyID, error) {
	v.started <- struct{}{}
	<-v.release
	if ctx.Err() != nil {
		return model.KeyID{}, ctx.Err()
	}
	return v.fakeVault.CreateKey(ctx, mk, alt)
}

func TestInterruptFinishesAndRecordsTheStepInFlight(t *testing.T) {
	v := &slowVault{fakeVault: newFakeVault(), started: make(chan struct{}), release: make(chan struct{})}
	rec := newRecorder()
	p := &plan.Plan{}
	for _, n := range []string{"a", "b", "c"} {
		p.Changes = append(p.Changes, plan.Change{Addr: model.DataKeyAddr(n), Action: plan.Create, After: &plan.Key{AltNames: []string{n}, MasterKey: local}})
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var res Result
	var err error
	go func() {
		res, err = Apply(ctx, p, v, rec, Options{})
		close(done)
	}()
	<-v.started // "a" is being created
	cancel()
	close(v.release)
	<-done
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("err = %v, want interrupted", err)
	}
	if len(res.Applied) != 1 || len(res.NotRun) != 2 {
		t.Fatalf("applied %d, not run %d; want the step in flight finished and the rest not started", len(res.Applied), len(res.NotRun))
	}
	if _, ok := rec.keys[model.DataKeyAddr("a")]; !ok || len(v.keys) != 1 {
		t.Errorf("the step in flight was not recorded: state %v, vault %d keys", rec.keys, len(v.keys))
	}
}

func TestCollectionIsWrittenWithTheIDOfAKeyCreatedEarlierInTheApply(t *testing.T) {
	v := newFakeVault()
	rec := newRecorder()
	coll := &plan.Collection{Database: "medical", Name: "patients", Mode: model.ModeValidator, Fields: []plan.CollectionField{{
		EncryptedField: model.EncryptedField{Path: "ssn", BSONType: "string", Algorithm: model.AlgorithmDeterministic, Key: model.DataKeyAddr("ssn")}}}}
	p := &plan.Plan{Changes: []plan.Change{
		{Addr: model.DataKeyAddr("ssn"), Action: plan.Create, After: &plan.Key{AltNames: []string{"ssn"}, MasterKey: local}},
		{Addr: model.CollectionAddr("medical", "patients"), Action: plan.Create, Collection: &plan.CollectionChange{After: coll}},
	}}
	if _, err := Apply(context.Background(), p, v, rec, Options{}); err != nil {
		t.Fatal(err)
	}
	id := rec.keys[model.DataKeyAddr("ssn")].ID
	doc := v.collections["medical.patients"]
	if !strings.Contains(doc, id.Base64()) || !strings.Contains(doc, "Deterministic") {
		t.Errorf("validator written = %s, want it to name key %s", doc, id.Base64())
	}
	got := rec.collections[model.CollectionAddr("medical", "patients")]
	if got.Document != doc || got.Mode != model.ModeValidator || len(got.Fields) != 1 {
		t.Errorf("state of the collection = %+v", got)
	}
}

func TestCollectionTheServerRefusesIsNotRecorded(t *testing.T) {
	v := newFakeVault()
	v.noValidators = true
	rec := newRecorder()
	rec.keys[model.DataKeyAddr("ssn")] = model.PriorKey{Addr: model.DataKeyAddr("ssn"), ID: *kid(1)}
	coll := &plan.Collection{Database: "medical", Name: "patients", Mode: model.ModeValidator, Fields: []plan.CollectionField{{
		EncryptedField: model.EncryptedField{Path: "ssn", BSONType: "string", Algorithm: model.AlgorithmRandom, Key: model.DataKeyAddr("ssn")}}}}
	p := &plan.Plan{Changes: []plan.Change{{Addr: model.CollectionAddr("medical", "patients"), Action: plan.Create, Collection: &plan.CollectionChange{After: coll}}}}
	_, err := Apply(context.Background(), p, v, rec, Options{})
	if err == nil || !strings.Contains(err.Error(), "does not support it") {
		t.Fatalf("err = %v", err)
	}
	if len(rec.collections) != 0 || rec.writes != 0 {
		t.Errorf("a refused collection was recorded: %+v", rec.collections)
	}
}

func TestSchemaMapCollectionWritesNothingToTheServer(t *testing.T) {
	v := newFakeVault()
	rec := newRecorder()
	rec.keys[model.DataKeyAddr("ssn")] = model.PriorKey{Addr: model.DataKeyAddr("ssn"), ID: *kid(1)}
	coll := &plan.Collection{Database: "hr", Name: "employees", Mode: model.ModeSchemaMap, Fields: []plan.CollectionField{{
		EncryptedField: model.EncryptedField{Path: "ssn", BSONType: "string", Algorithm: model.AlgorithmDeterministic, Key: model.DataKeyAddr("ssn")}}}}
	p := &plan.Plan{Changes: []plan.Change{{Addr: model.CollectionAddr("hr", "employees"), Action: plan.Create, Collection: &plan.CollectionChange{After: coll}}}}
	if _, err := Apply(context.Background(), p, v, rec, Options{}); err != nil {
		t.Fatal(err)
	}
	if len(v.collections) != 0 || len(v.calls) != 0 {
		t.Errorf("schema_map wrote to the server: %v", v.calls)
	}
	if c := rec.collections[model.CollectionAddr("hr", "employees")]; !strings.Contains(c.Document, kid(1).Base64()) {
		t.Errorf("recorded document = %q", c.Document)
	}
}

var errTransient = errors.New("connection reset by peer")

func isTransient(err error) bool { return errors.Is(err, errTransient) }

func TestTransientErrorsAreRetriedWithoutDuplicatingKeys(t *testing.T) {
	for _, writeThenFail := range []bool{false, true} {
		v := newFakeVault()
		v.transientCreates, v.writeThenFail = 2, writeThenFail
		rec := newRecorder()
		p := &plan.Plan{Changes: []plan.Change{{Addr: model.DataKeyAddr("k"), Action: plan.Create, After: &plan.Key{AltNames: []string{"k"}, MasterKey: local}}}}
		if _, err := Apply(context.Background(), p, v, rec, Options{Transient: isTransient, Backoff: time.Millisecond}); err != nil {
			t.Fatalf("writeThenFail=%v: %v", writeThenFail, err)
		}
		if len(v.keys) != 1 || len(rec.keys) != 1 {
			t.Errorf("writeThenFail=%v: %d keys in the vault, %d in the state; want exactly one", writeThenFail, len(v.keys), len(rec.keys))
		}
		if rec.keys[model.DataKeyAddr("k")].ID.IsZero() {
			t.Errorf("writeThenFail=%v: the state has no id", writeThenFail)
		}
	}
}

func TestPersistentTransientErrorsGiveUp(t *testing.T) {
	v := newFakeVault()
	v.transientCreates = 10
	rec := newRecorder()
	p := &plan.Plan{Changes: []plan.Change{{Addr: model.DataKeyAddr("k"), Action: plan.Create, After: &plan.Key{AltNames: []string{"k"}, MasterKey: local}}}}
	_, err := Apply(context.Background(), p, v, rec, Options{Transient: isTransient, Attempts: 3, Backoff: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts") || !strings.Contains(err.Error(), "data_key.k") {
		t.Fatalf("err = %v", err)
	}
	if v.transientCreates != 7 || len(rec.keys) != 0 {
		t.Errorf("%d tries left, %d keys recorded; want 3 tries and nothing recorded", v.transientCreates, len(rec.keys))
	}
}

func TestNonTransientErrorsAreNotRetried(t *testing.T) {
	v := newFakeVault()
	v.failCreate = map[string]bool{"k": true}
	calls := 0
	p := &plan.Plan{Changes: []plan.Change{{Addr: model.DataKeyAddr("k"), Action: plan.Create, After: &plan.Key{AltNames: []string{"k"}, MasterKey: local}}}}
	_, err := Apply(context.Background(), p, v, newRecorder(), Options{Transient: func(error) bool { calls++; return false }, Backoff: time.Millisecond})
	if err == nil || calls != 1 {
		t.Errorf("err = %v, transient asked %d times; want one try", err, calls)
	}
}

func TestDeletesWaitForDataKeyCaches(t *testing.T) {
	v := newFakeVault(model.LiveKey{ID: *kid(1), MasterKey: local, AltNames: []string{"old"}})
	rec := newRecorder()
	p := &plan.Plan{Changes: []plan.Change{
		{Addr: model.DataKeyAddr("new"), Action: plan.Create, After: &plan.Key{AltNames: []string{"new"}, MasterKey: local}},
		{Addr: model.DataKeyAddr("old"), Action: plan.Delete, Before: &plan.Key{ID: kid(1), AltNames: []string{"old"}, MasterKey: local}},
	}}
	var order []string
	start := time.Now()
	_, err := Apply(context.Background(), p, v, rec, Options{DeleteDelay: 50 * time.Millisecond, OnWait: func(d time.Duration) {
		order = append(order, fmt.Sprintf("wait %s after %d calls", d, len(v.calls)))
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(order) != 1 || order[0] != "wait 50ms after 1 calls" || time.Since(start) < 50*time.Millisecond {
		t.Errorf("waits = %v (after %s); want one 50ms wait between the create and the delete", order, time.Since(start))
	}
	if len(v.keys) != 1 {
		t.Errorf("vault keys = %d", len(v.keys))
	}
}

// hangingVault's first create never returns, as with a KMS that accepts a
// connection and never answers; it ignores its context like the driver.
type hangingVault struct {
	*fakeVault
	calls atomic.Int32
}

func (v *hangingVault) CreateKey(ctx context.Context, mk model.MasterKey, alt []string) (model.KeyID, error) {
	if v.calls.Add(1) == 1 {
		select {} // stalls forever
	}
	return v.fakeVault.CreateKey(ctx, mk, alt)
}

func TestAStalledStepIsAbandonedAndTriedAgain(t *testing.T) {
	v := &hangingVault{fakeVault: newFakeVault()}
	rec := newRecorder()
	p := &plan.Plan{Changes: []plan.Change{{Addr: model.DataKeyAddr("k"), Action: plan.Create, After: &plan.Key{AltNames: []string{"k"}, MasterKey: local}}}}
	if _, err := Apply(context.Background(), p, v, rec, Options{StepTimeout: 50 * time.Millisecond, Backoff: time.Millisecond}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if v.calls.Load() != 2 || len(v.keys) != 1 || len(rec.keys) != 1 {
		t.Errorf("creates tried %d times, %d keys, %d recorded; want a second try that made the one key", v.calls.Load(), len(v.keys), len(rec.keys))
	}
}
