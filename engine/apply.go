package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/csfle/csfle/executor"
	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
	"github.com/csfle/csfle/planner"
	"github.com/csfle/csfle/state"
	"github.com/csfle/csfle/vault"
)

// StaleError says why a saved plan can no longer be applied.
type StaleError struct{ Reason string }

func (e *StaleError) Error() string {
	return "the saved plan is stale: " + e.Reason + ". Run csfle plan again and review the new plan."
}

// CheckFresh refuses a plan whose basis no longer holds: the state was
// written, or the key vault changed, since the plan was made.
func (s *Session) CheckFresh(ctx context.Context, p *plan.Plan) error {
	b := p.Basis
	if b.StateLineage != "" && b.StateLineage != s.state.Lineage {
		return &StaleError{Reason: fmt.Sprintf("it was made for state lineage %s, and the state file now has lineage %s", b.StateLineage, s.state.Lineage)}
	}
	if b.StateSerial != s.state.Serial {
		return &StaleError{Reason: fmt.Sprintf("the state was written since (serial %d then, %d now)", b.StateSerial, s.state.Serial)}
	}
	if b.Namespace != s.Config.KeyVault.Namespace {
		return &StaleError{Reason: fmt.Sprintf("it was made for key vault %s, and the configuration names %s", b.Namespace, s.Config.KeyVault.Namespace)}
	}
	live, err := s.readLive(ctx)
	if err != nil {
		return err
	}
	if d := live.Digest(); d != b.VaultDigest {
		return &StaleError{Reason: "the key vault changed since it was made (keys were added, removed, renamed or rewrapped)"}
	}
	// The same inputs must still give the same plan: this catches variables
	// or files that now evaluate differently, and a plan file edited with
	// a recomputed checksum. It also reruns the plan-time checks.
	s.opts.ScanAll = p.ScanAll
	fresh, err := s.Plan(ctx, planner.Options{Destroy: p.Destroy, AllowReplace: p.AllowReplace})
	if err != nil {
		return err
	}
	if !sameChanges(p.Changes, fresh.Changes) {
		return &StaleError{Reason: "planning again from the same state and key vault gives different changes, so the configuration or its variables now evaluate differently"}
	}
	return nil
}

// sameChanges compares two change lists in their JSON form (the one a
// saved plan went through), leaving out the reasons, which are for people.
func sameChanges(a, b []plan.Change) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		x.Reason, y.Reason = "", ""
		jx, errx := json.Marshal(x)
		jy, erry := json.Marshal(y)
		if errx != nil || erry != nil || !bytes.Equal(jx, jy) {
			return false
		}
	}
	return true
}

// Apply carries out p, recording the state after every step. The caller
// decides whether p must be checked with CheckFresh first (a saved plan) or
// was just made in this session.
func (s *Session) Apply(ctx context.Context, p *plan.Plan, onEvent func(executor.Event)) (executor.Result, error) {
	rec := &recorder{backend: s.backend, state: s.state, version: s.opts.Version, backupDir: s.opts.backupDir()}
	return executor.Apply(ctx, p, s.vault, rec, executor.Options{Concurrency: s.opts.Concurrency, OnEvent: onEvent, Transient: vault.IsTransient,
		DeleteDelay: s.opts.KeyCacheWait, OnWait: s.opts.OnWait, StepTimeout: s.opts.StepTimeout})
}

// recorder writes the state after every step. The executor serializes calls.
type recorder struct {
	backend   state.Backend
	state     *state.State
	version   string
	backupDir string
}

func (r *recorder) write(ctx context.Context) error {
	// A try abandoned after its timeout must not record anything: the
	// executor has moved on and may have tried again.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("engine: not recording an abandoned step: %w", err)
	}
	r.state.CSFLEVersion = r.version
	if err := r.backend.Write(ctx, r.state); err != nil {
		return fmt.Errorf("engine: writing the state: %w", err)
	}
	return nil
}

func (r *recorder) PutKey(ctx context.Context, k model.PriorKey) error {
	r.state.SetKey(k)
	return r.write(ctx)
}

func (r *recorder) RemoveKey(ctx context.Context, addr model.Addr) error {
	r.state.RemoveKey(addr)
	return r.write(ctx)
}

// PutCollection records c; paths it no longer encrypts are retired, so the
// check before a key delete keeps scanning them.
func (r *recorder) PutCollection(ctx context.Context, c model.PriorCollection) error {
	if old, ok := r.state.Collection(c.Addr); ok {
		r.state.Retire(old.Database+"."+old.Name, droppedPaths(old.Fields, c.Fields))
	}
	r.state.SetCollection(c)
	return r.write(ctx)
}

func (r *recorder) RemoveCollection(ctx context.Context, addr model.Addr) error {
	if old, ok := r.state.Collection(addr); ok {
		r.state.Retire(old.Database+"."+old.Name, droppedPaths(old.Fields, nil))
	}
	r.state.RemoveCollection(addr)
	return r.write(ctx)
}

func droppedPaths(before, after []model.EncryptedField) []string {
	var out []string
	for _, b := range before {
		if !slices.ContainsFunc(after, func(a model.EncryptedField) bool { return a.Path == b.Path && a.Key == b.Key }) {
			out = append(out, b.Path)
		}
	}
	return out
}

func (r *recorder) KeyID(addr model.Addr) (model.KeyID, bool) {
	k, ok := r.state.Key(addr)
	return k.ID, ok
}

func (r *recorder) SetIndexUnsupported(ctx context.Context, reason string) error {
	r.state.IndexUnsupported = reason
	return r.write(ctx)
}
