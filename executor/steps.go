package executor

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
)

// apply carries out one change, reads back the result, checks it and
// records it. It returns the key id the change ended with.
func (e *executor) apply(ctx context.Context, c plan.Change) (model.KeyID, string, error) {
	if c.Addr == model.KeyVaultIndexAddr {
		warning, err := e.createIndex(ctx)
		return model.KeyID{}, warning, err
	}
	if c.Collection != nil {
		return model.KeyID{}, "", e.collection(ctx, c)
	}
	switch c.Action {
	case plan.Create:
		return e.create(ctx, c)
	case plan.Adopt:
		return e.adopt(ctx, c)
	case plan.Update:
		return e.update(ctx, c)
	case plan.Rewrap:
		return e.rewrap(ctx, c)
	case plan.Delete:
		return e.delete(ctx, c)
	}
	return model.KeyID{}, "", fmt.Errorf("executor: %s: cannot apply action %s", c.Addr, c.Action)
}

func (e *executor) createIndex(ctx context.Context) (string, error) {
	err := e.v.CreateAltNamesIndex(ctx)
	if errors.Is(err, model.ErrIndexUnsupported) {
		warning := fmt.Sprintf("the key vault has no unique index on keyAltNames (%v), so nothing but csfle's own checks stops two keys from getting the same alt name", err)
		return warning, e.record(func() error { return e.rec.SetIndexUnsupported(ctx, err.Error()) })
	}
	return "", err
}

func priorFrom(c plan.Change, k model.LiveKey) model.PriorKey {
	return model.PriorKey{Addr: c.Addr, ID: k.ID, AltNames: k.AltNames, MasterKey: k.MasterKey, Updated: k.Updated, PreventDestroy: c.After.PreventDestroy}
}

func (e *executor) create(ctx context.Context, c plan.Change) (model.KeyID, string, error) {
	id, err := e.v.CreateKey(ctx, c.After.MasterKey, c.After.AltNames)
	if err != nil {
		return model.KeyID{}, "", err
	}
	k, err := e.readBack(ctx, c, id)
	if err != nil {
		return id, "", err
	}
	return id, "", e.record(func() error { return e.rec.PutKey(ctx, priorFrom(c, k)) })
}

// createOrFind retries a create: if an earlier try wrote the key document
// before failing, the key is there under its alt name and is recorded
// instead of created twice.
func (e *executor) createOrFind(ctx context.Context, c plan.Change) (model.KeyID, string, error) {
	k, found, err := e.v.FindByAltName(ctx, c.After.AltNames[0])
	if err != nil {
		return model.KeyID{}, "", err
	}
	if !found {
		return e.create(ctx, c)
	}
	k, err = e.readBack(ctx, c, k.ID)
	if err != nil {
		return k.ID, "", err
	}
	return k.ID, "", e.record(func() error { return e.rec.PutKey(ctx, priorFrom(c, k)) })
}

func (e *executor) adopt(ctx context.Context, c plan.Change) (model.KeyID, string, error) {
	id := *c.After.ID
	k, err := e.readBack(ctx, c, id)
	if err != nil {
		return id, "", err
	}
	return id, "", e.record(func() error { return e.rec.PutKey(ctx, priorFrom(c, k)) })
}

func (e *executor) update(ctx context.Context, c plan.Change) (model.KeyID, string, error) {
	id := *c.After.ID
	var add, remove []string
	for _, a := range c.After.AltNames {
		if !slices.Contains(c.Before.AltNames, a) {
			add = append(add, a)
		}
	}
	for _, a := range c.Before.AltNames {
		if !slices.Contains(c.After.AltNames, a) {
			remove = append(remove, a)
		}
	}
	if err := e.v.SetAltNames(ctx, id, add, remove); err != nil {
		return id, "", err
	}
	k, err := e.readBack(ctx, c, id)
	if err != nil {
		return id, "", err
	}
	return id, "", e.record(func() error { return e.rec.PutKey(ctx, priorFrom(c, k)) })
}

func (e *executor) rewrap(ctx context.Context, c plan.Change) (model.KeyID, string, error) {
	id := *c.After.ID
	if err := e.backup(ctx, c.Addr, id); err != nil {
		return id, "", err
	}
	if err := e.v.Rewrap(ctx, id, c.After.MasterKey); err != nil {
		return id, "", err
	}
	k, err := e.readBack(ctx, c, id)
	if err != nil {
		return id, "", err
	}
	// The key document now names the new master key, so this round trip
	// unwraps through the new KMS: proof the data stays readable.
	if err := e.v.VerifyDecrypt(ctx, id); err != nil {
		return id, "", fmt.Errorf("executor: key %s was rewrapped under %s but does not decrypt through it: %w", id, c.After.MasterKey, err)
	}
	return id, "", e.record(func() error { return e.rec.PutKey(ctx, priorFrom(c, k)) })
}

func (e *executor) delete(ctx context.Context, c plan.Change) (model.KeyID, string, error) {
	id := *c.Before.ID
	if _, exists, err := e.v.Get(ctx, id); err != nil {
		return id, "", err
	} else if exists {
		if err := e.backup(ctx, c.Addr, id); err != nil {
			return id, "", err
		}
	}
	if err := e.v.Delete(ctx, id); err != nil {
		return id, "", err
	}
	if _, exists, err := e.v.Get(ctx, id); err != nil {
		return id, "", err
	} else if exists {
		return id, "", fmt.Errorf("executor: key %s is still in the key vault after it was deleted", id)
	}
	return id, "", e.record(func() error { return e.rec.RemoveKey(ctx, c.Addr) })
}

// backup keeps the key's document before a rewrap or a delete, so that a
// mistake can be undone (csfle state restore).
func (e *executor) backup(ctx context.Context, addr model.Addr, id model.KeyID) error {
	doc, err := e.v.KeyDocument(ctx, id)
	if err != nil {
		return err
	}
	if err := e.record(func() error { return e.rec.Backup(ctx, addr, id, doc) }); err != nil {
		return fmt.Errorf("executor: backing up key %s before changing it: %w", id, err)
	}
	return nil
}

// readBack reads the key after a write and checks it against the plan.
func (e *executor) readBack(ctx context.Context, c plan.Change, id model.KeyID) (model.LiveKey, error) {
	k, ok, err := e.v.Get(ctx, id)
	if err != nil {
		return k, err
	}
	if !ok {
		return k, fmt.Errorf("executor: key %s is not in the key vault after %s", id, c.Action)
	}
	want := c.After
	if !k.MasterKey.Satisfies(want.MasterKey) {
		return k, fmt.Errorf("executor: key %s reads back with master key %s, not %s as planned", id, k.MasterKey, want.MasterKey)
	}
	if !sameSet(k.AltNames, want.AltNames) {
		return k, fmt.Errorf("executor: key %s reads back with alt names %q, not %q as planned", id, k.AltNames, want.AltNames)
	}
	return k, nil
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
