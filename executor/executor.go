package executor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
)

// Vault carries out single changes on the key vault.
type Vault interface {
	CreateKey(ctx context.Context, mk model.MasterKey, altNames []string) (model.KeyID, error)
	SetAltNames(ctx context.Context, id model.KeyID, add, remove []string) error
	Rewrap(ctx context.Context, id model.KeyID, mk model.MasterKey) error
	Delete(ctx context.Context, id model.KeyID) error
	Get(ctx context.Context, id model.KeyID) (model.LiveKey, bool, error)
	// VerifyDecrypt proves the key unwraps through the KMS its document
	// names, bypassing any cache of unwrapped keys.
	VerifyDecrypt(ctx context.Context, id model.KeyID) error
	CreateAltNamesIndex(ctx context.Context) error

	// CreateCollection creates a collection with a $jsonSchema validator or
	// with encryptedFields, and reads it back.
	CreateCollection(ctx context.Context, db, coll, jsonSchema, encryptedFields string) error
	// SetValidator replaces (or, with "", removes) a collection's
	// $jsonSchema validator, and reads it back.
	SetValidator(ctx context.Context, db, coll, jsonSchema string) error
	// DropEmpty drops a collection that holds no document, and refuses
	// one that does.
	DropEmpty(ctx context.Context, db, coll string) error
	// KeyDocument is a key's whole document, for a backup.
	KeyDocument(ctx context.Context, id model.KeyID) (string, error)
	// FindByAltName finds the key that carries an alt name.
	FindByAltName(ctx context.Context, name string) (model.LiveKey, bool, error)
}

// Recorder persists the outcome of each step before the next one starts.
// Calls are serialized by the executor.
type Recorder interface {
	PutKey(ctx context.Context, k model.PriorKey) error
	RemoveKey(ctx context.Context, addr model.Addr) error
	SetIndexUnsupported(ctx context.Context, reason string) error
	PutCollection(ctx context.Context, c model.PriorCollection) error
	RemoveCollection(ctx context.Context, addr model.Addr) error
	// KeyID is the id the state records for a data key: collections are
	// written with the ids of keys created earlier in the same apply.
	KeyID(addr model.Addr) (model.KeyID, bool)
	// Backup keeps a key document before a rewrap or a delete changes it.
	Backup(ctx context.Context, addr model.Addr, id model.KeyID, doc string) error
}

// Phase is where a change is in its life.
type Phase int

const (
	Started Phase = iota
	Done
	Failed
)

// Event reports progress on one change.
type Event struct {
	Change  plan.Change
	Phase   Phase
	KeyID   model.KeyID // known once done (for a create: the new id)
	Elapsed time.Duration
	Err     error
	Warning string
}

// Options tune an apply.
type Options struct {
	// Concurrency is how many independent changes of one phase run at once.
	Concurrency int
	// OnEvent is called for every event, from one goroutine at a time.
	OnEvent func(Event)
	// Transient says which errors are worth trying again (a KMS or server
	// that dropped a connection, answered 5xx or throttled). Nil: none.
	Transient func(error) bool
	// Attempts bounds the tries of one step on transient errors (default 4),
	// with exponential backoff from Backoff (default 250ms).
	Attempts int
	Backoff  time.Duration
	// DeleteDelay, if set, is waited before keys are deleted, after the
	// schemas that named them have changed: applications' libmongocrypt
	// caches data keys for 60 seconds, and one that still holds a key
	// could encrypt new values with it. OnWait is told first.
	DeleteDelay time.Duration
	OnWait      func(time.Duration)
	// StepTimeout bounds one try of a step (default 2 minutes). A KMS that
	// accepts a connection and never answers would otherwise hang the
	// apply: the driver reads KMS replies without a deadline. A try that
	// times out is abandoned with its context cancelled, so it can no
	// longer write to the key vault, and is tried again.
	StepTimeout time.Duration
}

// ErrStepTimeout is wrapped by the error of a try that did not finish in
// Options.StepTimeout.
var ErrStepTimeout = errors.New("no answer in time")

// Result is what an apply did. A partial apply is a normal result: Applied
// lists what was done and recorded, Failed what stopped it, NotRun the rest.
type Result struct {
	Applied []plan.Change
	// Skipped are changes the server could not make and that need not stop
	// the apply (the keyAltNames index on a server without partial indexes);
	// Warnings say why.
	Skipped  []plan.Change
	Failed   []Failure
	NotRun   []plan.Change
	Warnings []string
}

// Failure is a change that did not complete.
type Failure struct {
	Change plan.Change
	Err    error
}

// Err summarises the failures, or is nil.
func (r Result) Err() error {
	var errs []error
	for _, f := range r.Failed {
		errs = append(errs, fmt.Errorf("%s (%s): %w", f.Change.Addr, f.Change.Action, f.Err))
	}
	return errors.Join(errs...)
}

type executor struct {
	v    Vault
	rec  Recorder
	opts Options
	mu   sync.Mutex // serializes Recorder calls, events and the result
	res  Result
}

// Apply carries out p. It first records the drift the plan found, so the
// state describes the vault as it is, then applies the changes phase by
// phase: changes of a phase are independent of each other and run up to
// Options.Concurrency at a time; a phase starts when the one before it has
// finished without failure.
//
// Cancelling ctx stops the apply between steps: no new step starts, and the
// steps already running finish, are checked and are recorded, so an
// interrupt never leaves a write unrecorded.
func Apply(ctx context.Context, p *plan.Plan, v Vault, rec Recorder, opts Options) (Result, error) {
	if opts.Concurrency < 1 {
		opts.Concurrency = 1
	}
	if opts.Attempts < 1 {
		opts.Attempts = 4
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 250 * time.Millisecond
	}
	if opts.StepTimeout <= 0 {
		opts.StepTimeout = 2 * time.Minute
	}
	e := &executor{v: v, rec: rec, opts: opts}
	if err := e.refresh(context.WithoutCancel(ctx), p.Drift); err != nil {
		e.res.NotRun = append(e.res.NotRun, p.Changes...)
		return e.res, err
	}
	phases := splitPhases(p.Changes)
	waited := false
	for i, phase := range phases {
		if !waited && opts.DeleteDelay > 0 && phase[0].Action == plan.Delete && phase[0].Addr.Type == "data_key" {
			waited = true
			if opts.OnWait != nil {
				opts.OnWait(opts.DeleteDelay)
			}
			select {
			case <-ctx.Done():
			case <-time.After(opts.DeleteDelay):
			}
		}
		if ctx.Err() != nil {
			for _, rest := range phases[i:] {
				e.res.NotRun = append(e.res.NotRun, rest...)
			}
			break
		}
		e.runPhase(ctx, phase)
		if len(e.res.Failed) > 0 || ctx.Err() != nil {
			for _, rest := range phases[i+1:] {
				e.res.NotRun = append(e.res.NotRun, rest...)
			}
			break
		}
	}
	if err := e.res.Err(); err != nil {
		return e.res, err
	}
	if ctx.Err() != nil && len(e.res.NotRun) > 0 {
		return e.res, fmt.Errorf("executor: interrupted: %w", ctx.Err())
	}
	return e.res, nil
}

// refresh writes what drift the plan found into the state.
func (e *executor) refresh(ctx context.Context, drift []plan.Drift) error {
	for _, d := range drift {
		if d.After == nil || d.After.ID == nil {
			continue
		}
		k := model.PriorKey{Addr: d.Addr, ID: *d.After.ID, AltNames: d.After.AltNames, MasterKey: d.After.MasterKey}
		if d.Before != nil {
			k.PreventDestroy = d.Before.PreventDestroy
		}
		if err := e.rec.PutKey(ctx, k); err != nil {
			return fmt.Errorf("executor: recording drift of %s: %w", d.Addr, err)
		}
	}
	return nil
}

// splitPhases groups consecutive changes of the same action; the planner
// orders a plan so that such a group never holds two changes to one key.
func splitPhases(changes []plan.Change) [][]plan.Change {
	var phases [][]plan.Change
	for i, c := range changes {
		if i == 0 || changes[i-1].Action != c.Action || changes[i-1].Addr.Type != c.Addr.Type || containsAddr(phases[len(phases)-1], c.Addr) {
			phases = append(phases, nil)
		}
		phases[len(phases)-1] = append(phases[len(phases)-1], c)
	}
	return phases
}

func containsAddr(cs []plan.Change, a model.Addr) bool {
	return slices.ContainsFunc(cs, func(c plan.Change) bool { return c.Addr == a })
}

func (e *executor) runPhase(ctx context.Context, phase []plan.Change) {
	sem := make(chan struct{}, e.opts.Concurrency)
	var wg sync.WaitGroup
	for i, c := range phase {
		if e.stopped(ctx) {
			e.mu.Lock()
			e.res.NotRun = append(e.res.NotRun, phase[i:]...)
			e.mu.Unlock()
			break
		}
		sem <- struct{}{}
		if e.stopped(ctx) {
			<-sem
			e.mu.Lock()
			e.res.NotRun = append(e.res.NotRun, phase[i:]...)
			e.mu.Unlock()
			break
		}
		wg.Add(1)
		go func(c plan.Change) {
			defer wg.Done()
			defer func() { <-sem }()
			e.one(ctx, c)
		}(c)
	}
	wg.Wait()
}

func (e *executor) stopped(ctx context.Context) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.res.Failed) > 0 || ctx.Err() != nil
}

func (e *executor) emit(ev Event) {
	if e.opts.OnEvent != nil {
		e.opts.OnEvent(ev)
	}
}

// one carries out a change. The step itself runs without ctx's
// cancellation, so an interrupt never cuts a write from its read-back and
// record; ctx only stops further tries.
func (e *executor) one(ctx context.Context, c plan.Change) {
	start := time.Now()
	e.mu.Lock()
	e.emit(Event{Change: c, Phase: Started})
	e.mu.Unlock()

	id, warning, err := e.withRetries(ctx, c)

	e.mu.Lock()
	defer e.mu.Unlock()
	ev := Event{Change: c, KeyID: id, Elapsed: time.Since(start), Warning: warning}
	if err != nil {
		ev.Phase, ev.Err = Failed, err
		e.res.Failed = append(e.res.Failed, Failure{Change: c, Err: err})
	} else {
		ev.Phase = Done
		if warning != "" {
			e.res.Skipped = append(e.res.Skipped, c)
			e.res.Warnings = append(e.res.Warnings, warning)
		} else {
			e.res.Applied = append(e.res.Applied, c)
		}
	}
	e.emit(ev)
}

// withRetries tries a step again on transient errors, with exponential
// backoff, up to Options.Attempts times in all. A create that failed after
// its key document may have been written is not repeated blindly: the
// retry first looks for the key by its alt name.
func (e *executor) withRetries(ctx context.Context, c plan.Change) (model.KeyID, string, error) {
	delay := e.opts.Backoff
	var err error
	for attempt := 1; ; attempt++ {
		var id model.KeyID
		var warning string
		id, warning, err = e.try(ctx, c, attempt)
		transient := errors.Is(err, ErrStepTimeout) || (e.opts.Transient != nil && err != nil && e.opts.Transient(err))
		if err == nil || !transient {
			return id, warning, err
		}
		if attempt >= e.opts.Attempts {
			return id, warning, fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
		}
		select {
		case <-ctx.Done():
			return id, warning, err
		case <-time.After(delay):
		}
		delay *= 2
	}
}

type outcome struct {
	id      model.KeyID
	warning string
	err     error
}

// try runs one try of a step, bounded by StepTimeout.
func (e *executor) try(ctx context.Context, c plan.Change, attempt int) (model.KeyID, string, error) {
	stepCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.opts.StepTimeout)
	defer cancel()
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		if attempt > 1 && c.Action == plan.Create && c.After != nil && c.Addr.Type == "data_key" {
			o.id, o.warning, o.err = e.createOrFind(stepCtx, c)
		} else {
			o.id, o.warning, o.err = e.apply(stepCtx, c)
		}
		done <- o
	}()
	select {
	case o := <-done:
		return o.id, o.warning, o.err
	case <-stepCtx.Done():
		return model.KeyID{}, "", fmt.Errorf("executor: %s (%s): %w after %s (a KMS or the server did not reply)", c.Addr, c.Action, ErrStepTimeout, e.opts.StepTimeout)
	}
}

// record runs a Recorder call under the executor's lock.
func (e *executor) record(f func() error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return f()
}
