// Package statetest is the conformance suite that every state.Backend must
// pass. A backend's tests call Run with a constructor of empty backends.
package statetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/state"
)

// Run checks that backends made by newBackend behave as state.Backend says.
// Each subtest gets a new, empty backend.
func Run(t *testing.T, newBackend func(t *testing.T) state.Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b state.Backend)
	}{
		{"ReadEmpty", testReadEmpty},
		{"RoundTrip", testRoundTrip},
		{"ReadReturnsCopy", testReadReturnsCopy},
		{"SerialIncrements", testSerialIncrements},
		{"LineageMismatchRefused", testLineageMismatch},
		{"StaleWriteRefused", testStaleWrite},
		{"InvalidStateRefused", testInvalidState},
		{"LockExcludes", testLockExcludes},
		{"LockWaitsForUnlock", testLockWaits},
		{"LockTimeoutNamesHolder", testLockTimeout},
		{"LockFreeWithExpiredContext", testLockExpiredContext},
		{"ConcurrentWritersUnderLock", testConcurrentWriters},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newBackend(t)) })
	}
}

// Key returns a distinct data key for name, for tests.
func Key(name string) model.PriorKey {
	var id model.KeyID
	copy(id[:], fmt.Sprintf("%-16.16s", name))
	return model.PriorKey{
		Addr:     model.DataKeyAddr(name),
		ID:       id,
		AltNames: []string{name},
		MasterKey: model.MasterKey{Provider: model.KindAWS, Fields: map[string]string{
			"key":    "arn:aws:kms:us-east-1:111122223333:key/" + name,
			"region": "us-east-1",
		}},
		Updated: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC),
	}
}

func sample() *state.State {
	s := state.New(model.DefaultKeyVaultNamespace)
	s.CSFLEVersion = "v0.0.0-test"
	s.SetKey(Key("ssn"))
	local := Key("card & <pin>") // characters JSON likes to escape
	local.MasterKey = model.MasterKey{Provider: model.KindLocal}
	local.PreventDestroy = true
	s.SetKey(local)
	s.SetKey(Key("address"))
	return s
}

func testReadEmpty(t *testing.T, b state.Backend) {
	s, err := b.Read(context.Background())
	if s != nil || err != nil {
		t.Fatalf("Read of an empty backend = (%v, %v), want (nil, nil)", s, err)
	}
}

func testRoundTrip(t *testing.T, b state.Backend) {
	ctx := context.Background()
	s := sample()
	if err := b.Write(ctx, s); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if s.Serial != 1 || s.FormatVersion != state.FormatVersion {
		t.Errorf("after the first Write: serial %d, format %d; want 1, %d", s.Serial, s.FormatVersion, state.FormatVersion)
	}
	got, err := b.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("Read after Write (-wrote +read):\n%s", diff)
	}
}

func testReadReturnsCopy(t *testing.T, b state.Backend) {
	ctx := context.Background()
	s := sample()
	if err := b.Write(ctx, s); err != nil {
		t.Fatalf("Write: %v", err)
	}
	want := s.DeepCopy()
	s.Keys[0].AltNames[0] = "changed after write"
	got := mustRead(t, b)
	got.Keys[0].AltNames[0] = "changed after read"
	got.RemoveKey(got.Keys[1].Addr)
	if diff := cmp.Diff(want, mustRead(t, b)); diff != "" {
		t.Errorf("stored state changed through a caller's copy (-want +got):\n%s", diff)
	}
}

func testSerialIncrements(t *testing.T, b state.Backend) {
	ctx := context.Background()
	s := state.New("db.keys")
	for want := uint64(1); want <= 3; want++ {
		s.SetKey(Key(fmt.Sprintf("k%d", want)))
		if err := b.Write(ctx, s); err != nil {
			t.Fatalf("Write %d: %v", want, err)
		}
		if s.Serial != want {
			t.Errorf("serial after write %d = %d", want, s.Serial)
		}
		if got := mustRead(t, b); got.Serial != want || len(got.Keys) != int(want) {
			t.Errorf("after write %d read serial %d with %d keys", want, got.Serial, len(got.Keys))
		}
	}
	// A state read back and written again carries on from the stored serial.
	again := mustRead(t, b)
	if err := b.Write(ctx, again); err != nil {
		t.Fatalf("Write of the state read back: %v", err)
	}
	if again.Serial != 4 {
		t.Errorf("serial after writing the state read back = %d, want 4", again.Serial)
	}
}

func testLineageMismatch(t *testing.T, b state.Backend) {
	ctx := context.Background()
	first := sample()
	if err := b.Write(ctx, first); err != nil {
		t.Fatalf("Write: %v", err)
	}
	other := state.New(model.DefaultKeyVaultNamespace)
	other.Serial = 10
	err := b.Write(ctx, other)
	if err == nil || !strings.Contains(err.Error(), "lineage") {
		t.Fatalf("Write of another lineage: err = %v, want a refusal naming the lineage", err)
	}
	if other.Serial != 10 {
		t.Errorf("refused Write changed the serial to %d", other.Serial)
	}
	if diff := cmp.Diff(first, mustRead(t, b)); diff != "" {
		t.Errorf("refused Write changed the stored state (-want +got):\n%s", diff)
	}
}

func testStaleWrite(t *testing.T, b state.Backend) {
	ctx := context.Background()
	if err := b.Write(ctx, sample()); err != nil {
		t.Fatalf("Write: %v", err)
	}
	mine, theirs := mustRead(t, b), mustRead(t, b)
	theirs.SetKey(Key("theirs"))
	if err := b.Write(ctx, theirs); err != nil {
		t.Fatalf("Write: %v", err)
	}
	mine.SetKey(Key("mine"))
	if err := b.Write(ctx, mine); err == nil || !strings.Contains(err.Error(), "csfle plan again") {
		t.Fatalf("Write of a state read before another write: err = %v, want a refusal", err)
	}
	if diff := cmp.Diff(theirs, mustRead(t, b)); diff != "" {
		t.Errorf("refused Write changed the stored state (-want +got):\n%s", diff)
	}
}

func testInvalidState(t *testing.T, b state.Backend) {
	ctx := context.Background()
	dup := sample()
	dup.Keys = append(dup.Keys, dup.Keys[0])
	if err := b.Write(ctx, dup); err == nil || !strings.Contains(err.Error(), "more than once") {
		t.Errorf("Write with a duplicate address: err = %v", err)
	}
	noLineage := sample()
	noLineage.Lineage = ""
	if err := b.Write(ctx, noLineage); err == nil || !strings.Contains(err.Error(), "no lineage") {
		t.Errorf("Write without lineage: err = %v", err)
	}
	if s, err := b.Read(ctx); s != nil || err != nil {
		t.Errorf("refused Writes stored something: (%v, %v)", s, err)
	}
}

func testLockExcludes(t *testing.T, b state.Backend) {
	first := state.NewLockInfo("apply")
	unlock, err := b.Lock(context.Background(), first)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if _, err := b.Lock(timeout(t, 50*time.Millisecond), state.NewLockInfo("plan")); err == nil {
		t.Fatal("a second Lock succeeded while the first was held")
	}
	if err := unlock(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if err := unlock(); err != nil {
		t.Errorf("second unlock: %v", err)
	}
	unlock2, err := b.Lock(timeout(t, 5*time.Second), state.NewLockInfo("plan"))
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	if _, err := b.Lock(timeout(t, 50*time.Millisecond), first); err == nil {
		t.Fatal("the first locker's second Lock succeeded while the second held it")
	}
	unlock2()
}

func testLockWaits(t *testing.T, b state.Backend) {
	unlock, err := b.Lock(context.Background(), state.NewLockInfo("apply"))
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	released := make(chan time.Time, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		released <- time.Now()
		unlock()
	}()
	unlock2, err := b.Lock(timeout(t, 10*time.Second), state.NewLockInfo("plan"))
	acquired := time.Now()
	if err != nil {
		t.Fatalf("Lock while another unlocks: %v", err)
	}
	defer unlock2()
	if at := <-released; acquired.Before(at) {
		t.Errorf("second Lock returned %v before the first was released", at.Sub(acquired))
	}
}

func testLockTimeout(t *testing.T, b state.Backend) {
	holder := state.NewLockInfo("apply")
	unlock, err := b.Lock(context.Background(), holder)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	defer unlock()

	const wait = 200 * time.Millisecond
	start := time.Now()
	_, err = b.Lock(timeout(t, wait), state.NewLockInfo("plan"))
	elapsed := time.Since(start)
	var le *state.LockError
	if !errors.As(err, &le) {
		t.Fatalf("Lock on a held lock: err = %v (%T), want *state.LockError", err, err)
	}
	if elapsed < wait-10*time.Millisecond {
		t.Errorf("Lock gave up after %v, before its %v deadline", elapsed, wait)
	}
	if elapsed > wait+3*time.Second {
		t.Errorf("Lock gave up %v after its %v deadline", elapsed-wait, wait)
	}
	if diff := cmp.Diff(holder, le.Holder); diff != "" {
		t.Errorf("LockError.Holder (-want +got):\n%s", diff)
	}
	msg := err.Error()
	for _, want := range []string{holder.Who, "apply", fmt.Sprintf("pid %d", holder.PID), holder.ID, holder.Created.UTC().Format(time.RFC3339)} {
		if !strings.Contains(msg, want) {
			t.Errorf("LockError %q does not mention %q", msg, want)
		}
	}
}

func testLockExpiredContext(t *testing.T, b state.Backend) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	unlock, err := b.Lock(ctx, state.NewLockInfo("apply"))
	if err != nil {
		t.Fatalf("Lock of a free lock with -lock-timeout=0: %v", err)
	}
	unlock()
}

func testConcurrentWriters(t *testing.T, b state.Backend) {
	ctx := context.Background()
	if err := b.Write(ctx, state.New("db.keys")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	const writers, rounds = 4, 5
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				if err := lockedUpdate(b, Key(fmt.Sprintf("w%d_%d", w, r))); err != nil {
					t.Errorf("writer %d round %d: %v", w, r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := mustRead(t, b)
	if got.Serial != 1+writers*rounds {
		t.Errorf("serial after %d locked writes = %d, want %d", writers*rounds, got.Serial, 1+writers*rounds)
	}
	for w := range writers {
		for r := range rounds {
			if _, ok := got.Key(model.DataKeyAddr(fmt.Sprintf("w%d_%d", w, r))); !ok {
				t.Errorf("key w%d_%d was lost", w, r)
			}
		}
	}
}

func lockedUpdate(b state.Backend, k model.PriorKey) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	unlock, err := b.Lock(ctx, state.NewLockInfo("apply"))
	if err != nil {
		return err
	}
	defer unlock()
	s, err := b.Read(ctx)
	if err != nil {
		return err
	}
	s.SetKey(k)
	return b.Write(ctx, s)
}

func mustRead(t *testing.T, b state.Backend) *state.State {
	t.Helper()
	s, err := b.Read(context.Background())
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if s == nil {
		t.Fatal("Read returned no state after a write")
	}
	return s
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
