package planner

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
)

// Options change what is planned.
type Options struct {
	// Destroy plans the deletion of every managed key, as if the
	// configuration declared none.
	Destroy bool
	// AllowReplace lets a plan recreate a Queryable Encryption collection
	// whose encryptedFields changed.
	AllowReplace bool
}

// Refusal is a reason the planner will not produce a plan. It names the
// object at fault so the caller can point at the configuration.
type Refusal struct {
	Addr    model.Addr
	Summary string
	Detail  string
}

func (r Refusal) Error() string { return r.Addr.String() + ": " + r.Summary + ": " + r.Detail }

// Plan diffs desired against live, using prior to know which keys csfle
// manages. It returns a plan, or the refusals that stop one from being made;
// never both.
func Plan(desired model.Desired, live model.Live, prior model.Prior, opts Options) (*plan.Plan, []Refusal) {
	p := &planner{
		desired: desired, live: live, prior: prior, opts: opts,
		liveByAlt:   make(map[string][]int, len(live.Keys)),
		priorByAddr: make(map[model.Addr]model.PriorKey, len(prior.Keys)),
		ownerOfID:   make(map[model.KeyID]model.Addr, len(prior.Keys)),
	}
	for i, k := range live.Keys {
		for _, a := range k.AltNames {
			p.liveByAlt[a] = append(p.liveByAlt[a], i)
		}
	}
	for _, k := range prior.Keys {
		p.priorByAddr[k.Addr] = k
		p.ownerOfID[k.ID] = k.Addr
	}
	if opts.Destroy {
		p.desired.Keys = nil
	}
	return p.run()
}

type planner struct {
	desired model.Desired
	live    model.Live
	prior   model.Prior
	opts    Options

	liveByAlt   map[string][]int // alt name to indexes in live.Keys
	priorByAddr map[model.Addr]model.PriorKey
	ownerOfID   map[model.KeyID]model.Addr

	// Changes are collected by phase so the plan runs in dependency order:
	// the index that guards alt names, then keys appear, change, and go.
	index, adopts, creates, updates, rewraps, deletes []plan.Change
	// collections change after the keys they name exist, and before keys
	// they no longer name are deleted.
	collections []plan.Change
	drift       []plan.Drift
	warnings    []string
	refusals    []Refusal
}

func (p *planner) run() (*plan.Plan, []Refusal) {
	if !p.opts.Destroy {
		p.planIndex()
	}
	desiredAddrs := map[model.Addr]bool{}
	for _, d := range p.desired.Keys {
		desiredAddrs[d.Addr] = true
		p.planKey(d)
	}
	for _, k := range p.prior.Keys {
		if !desiredAddrs[k.Addr] {
			p.planDelete(k)
		}
	}
	p.planCollections()
	if len(p.refusals) > 0 {
		return nil, p.refusals
	}
	out := &plan.Plan{
		FormatVersion: plan.FormatVersion,
		Basis: plan.Basis{
			StateLineage: p.prior.Lineage,
			StateSerial:  p.prior.Serial,
			VaultDigest:  p.live.Digest(),
			Namespace:    p.live.Namespace,
		},
		Destroy:      p.opts.Destroy,
		AllowReplace: p.opts.AllowReplace,
		Changes:      []plan.Change{},
		Drift:        p.drift,
		Warnings:     p.warnings,
	}
	for _, phase := range [][]plan.Change{p.index, p.adopts, p.creates, p.updates, p.rewraps, p.collections, p.deletes} {
		out.Changes = append(out.Changes, phase...)
	}
	if out.Drift == nil {
		out.Drift = []plan.Drift{}
	}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	return out, nil
}

func (p *planner) planIndex() {
	switch p.live.AltNamesIndex {
	case model.IndexPresent:
	case model.IndexUnprotected:
		p.warnings = append(p.warnings, fmt.Sprintf(
			"the index on keyAltNames in %s is not a unique partial index, so two keys could be given the same alt name; drop it and run csfle apply to create the right one",
			p.live.Namespace))
	case model.IndexMissing:
		if p.prior.IndexUnsupported != "" {
			p.warnings = append(p.warnings, fmt.Sprintf(
				"%s has no unique index on keyAltNames (%s), so nothing but csfle's own checks stops two keys from sharing an alt name",
				p.live.Namespace, p.prior.IndexUnsupported))
			return
		}
		p.index = append(p.index, plan.Change{
			Addr:   model.KeyVaultIndexAddr,
			Action: plan.Create,
			Reason: "MongoDB requires a unique index on keyAltNames (partial: only keys that have alt names) so two keys can never share an alt name; drivers do not create it",
		})
	}
}

func liveToPlanKey(k model.LiveKey) *plan.Key {
	id := k.ID
	return &plan.Key{ID: &id, AltNames: k.AltNames, MasterKey: k.MasterKey}
}

func priorToPlanKey(k model.PriorKey) *plan.Key {
	id := k.ID
	return &plan.Key{ID: &id, AltNames: k.AltNames, MasterKey: k.MasterKey, PreventDestroy: k.PreventDestroy}
}

func desiredToPlanKey(d model.DesiredKey, id *model.KeyID) *plan.Key {
	return &plan.Key{ID: id, AltNames: d.AltNames, MasterKey: d.MasterKey, PreventDestroy: d.PreventDestroy}
}

func (p *planner) refuse(addr model.Addr, summary, detail string, args ...any) {
	p.refusals = append(p.refusals, Refusal{Addr: addr, Summary: summary, Detail: fmt.Sprintf(detail, args...)})
}

// planKey plans one desired key: find the live key it corresponds to (by
// state, or by alt name for a key csfle does not manage yet), then bring it
// to the desired alt names and master key.
func (p *planner) planKey(d model.DesiredKey) {
	if prior, ok := p.priorByAddr[d.Addr]; ok {
		if l, ok := p.live.KeyByID(prior.ID); ok {
			p.noteDuplicates(d, l)
			p.noteDrift(prior, l)
			p.converge(d, l, prior.PreventDestroy)
			p.reverify(d, prior, l)
			return
		}
		p.drift = append(p.drift, plan.Drift{
			Addr: d.Addr, Kind: "deleted", Before: priorToPlanKey(prior),
			Detail: fmt.Sprintf("key %s was deleted from the key vault outside csfle; anything encrypted with it can no longer be decrypted", prior.ID),
		})
	}
	l, found := p.findByAltNames(d)
	if len(p.refusals) > 0 {
		return
	}
	if found {
		// A key is adopted by one block only.
		p.ownerOfID[l.ID] = d.Addr
		after := liveToPlanKey(l)
		after.PreventDestroy = d.PreventDestroy
		p.adopts = append(p.adopts, plan.Change{
			Addr: d.Addr, Action: plan.Adopt, After: after,
			Reason: fmt.Sprintf("a key with alt name %q is already in the key vault (id %s); it is recorded in the state, not created again", sharedAltName(d.AltNames, l.AltNames), l.ID),
		})
		p.converge(d, l, d.PreventDestroy)
		return
	}
	p.creates = append(p.creates, plan.Change{
		Addr: d.Addr, Action: plan.Create, After: desiredToPlanKey(d, nil),
		Reason: "declared in the configuration and not in the key vault",
	})
}

// findByAltNames looks for an unmanaged live key that already carries one of
// the desired alt names: it is the same key, created earlier by csfle (the
// state write may have been lost) or by hand.
func (p *planner) findByAltNames(d model.DesiredKey) (model.LiveKey, bool) {
	seen := map[model.KeyID]model.LiveKey{}
	for _, a := range d.AltNames {
		for _, i := range p.liveByAlt[a] {
			seen[p.live.Keys[i].ID] = p.live.Keys[i]
		}
	}
	if len(seen) == 0 {
		return model.LiveKey{}, false
	}
	if len(seen) > 1 {
		ids := make([]string, 0, len(seen))
		for id := range seen {
			ids = append(ids, id.String())
		}
		sort.Strings(ids)
		p.refuse(d.Addr, "Alt names belong to several keys",
			"the alt names %s are carried by %d different keys in the key vault (%s); csfle cannot tell which one %s is. Give the block alt names that only one key has, or remove the extra names from the other keys.",
			quoteAll(d.AltNames), len(ids), strings.Join(ids, ", "), d.Addr)
		return model.LiveKey{}, false
	}
	var l model.LiveKey
	for _, k := range seen {
		l = k
	}
	if owner, ok := p.ownerOfID[l.ID]; ok {
		p.refuse(d.Addr, "Alt name already used by a managed key",
			"the key with alt name %q (id %s) is managed as %s; alt names must be unique. Choose another alt name for %s.",
			sharedAltName(d.AltNames, l.AltNames), l.ID, owner, d.Addr)
		return model.LiveKey{}, false
	}
	return l, true
}

// converge plans the changes that bring live key l to d. protected is the
// prevent_destroy the state recorded for it.
func (p *planner) converge(d model.DesiredKey, l model.LiveKey, protected bool) {
	cur := liveToPlanKey(l)
	cur.PreventDestroy = protected
	add, remove := diffStrings(l.AltNames, d.AltNames)
	if len(add)+len(remove) > 0 || protected != d.PreventDestroy {
		for _, a := range add {
			for _, i := range p.liveByAlt[a] {
				if other := p.live.Keys[i]; other.ID != l.ID {
					p.refuse(d.Addr, "Alt name already used by another key",
						"alt name %q is already carried by key %s in the key vault; alt names must be unique. Choose another alt name.", a, other.ID)
					return
				}
			}
		}
		after := &plan.Key{ID: cur.ID, AltNames: d.AltNames, MasterKey: l.MasterKey, PreventDestroy: d.PreventDestroy}
		p.updates = append(p.updates, plan.Change{
			Addr: d.Addr, Action: plan.Update, Before: cur, After: after,
			Reason: updateReason(add, remove, protected, d.PreventDestroy),
		})
		cur = after
	}
	if !l.MasterKey.Satisfies(d.MasterKey) {
		if !p.desired.HasProvider(l.MasterKey.Provider) {
			p.refuse(d.Addr, "Cannot unwrap the key to rewrap it",
				"%s (id %s) is wrapped by the %q KMS provider, which is not configured. csfle must unwrap the key with it before wrapping it under %s. Keep a kms %q block with the credentials or master key that wrap it until the rewrap is applied.",
				d.Addr, l.ID, l.MasterKey.Provider, d.MasterKey.Provider, model.ProviderKind(l.MasterKey.Provider))
			return
		}
		after := &plan.Key{ID: cur.ID, AltNames: d.AltNames, MasterKey: d.MasterKey, PreventDestroy: d.PreventDestroy}
		p.rewraps = append(p.rewraps, plan.Change{
			Addr: d.Addr, Action: plan.Rewrap, Before: cur, After: after,
			Reason: fmt.Sprintf("the configuration wraps it with the %s provider's master key; its id and key material stay the same", d.MasterKey.Provider),
		})
	}
}

func updateReason(add, remove []string, protectedBefore, protectedAfter bool) string {
	var parts []string
	if len(add)+len(remove) > 0 {
		parts = append(parts, altNamesReason(add, remove))
	}
	if protectedBefore != protectedAfter {
		parts = append(parts, fmt.Sprintf("lifecycle.prevent_destroy: %t -> %t (recorded in the state only)", protectedBefore, protectedAfter))
	}
	return strings.Join(parts, "; ")
}

func (p *planner) planDelete(k model.PriorKey) {
	if k.PreventDestroy {
		p.refuse(k.Addr, "Key is protected by prevent_destroy",
			"%s (id %s) was last applied with lifecycle { prevent_destroy = true }. Deleting it makes everything encrypted with it unreadable forever. If that is really intended, set prevent_destroy = false, apply, and then remove the block.",
			k.Addr, k.ID)
		return
	}
	l, ok := p.live.KeyByID(k.ID)
	if !ok {
		p.drift = append(p.drift, plan.Drift{Addr: k.Addr, Kind: "deleted", Before: priorToPlanKey(k),
			Detail: fmt.Sprintf("key %s was deleted from the key vault outside csfle", k.ID)})
		p.deletes = append(p.deletes, plan.Change{Addr: k.Addr, Action: plan.Delete, Before: priorToPlanKey(k),
			Reason: "removed from the configuration and already gone from the key vault: only the state entry is removed"})
		return
	}
	p.noteDrift(k, l)
	before := liveToPlanKey(l)
	p.deletes = append(p.deletes, plan.Change{Addr: k.Addr, Action: plan.Delete, Before: before,
		Reason: fmt.Sprintf("removed from the configuration: key %s is deleted from the key vault, and anything still encrypted with it becomes unreadable", l.ID)})
}

// reverify plans a rewrap of a key whose master key moved, since the last
// state write, to the one the configuration wants. Either someone rewrapped
// it by hand, or an apply stopped after rewrapping it and before proving it
// decrypts through the new KMS. Rewrapping it again under the same master
// key unwraps it through that KMS, and the executor then verifies it: the
// proof is never skipped.
func (p *planner) reverify(d model.DesiredKey, prior model.PriorKey, l model.LiveKey) {
	if prior.MasterKey.Equal(l.MasterKey) || !l.MasterKey.Satisfies(d.MasterKey) {
		return
	}
	before := liveToPlanKey(l)
	before.AltNames, before.PreventDestroy = d.AltNames, d.PreventDestroy
	after := *before
	p.rewraps = append(p.rewraps, plan.Change{
		Addr: d.Addr, Action: plan.Rewrap, Before: before, After: &after,
		Reason: fmt.Sprintf("the state recorded it under %s, and nothing has yet proved that it decrypts through %s: it is rewrapped again under the same master key and verified", prior.MasterKey, l.MasterKey),
	})
}

// noteDuplicates warns of other keys that carry one of a managed key's alt
// names. A unique index on keyAltNames prevents them; on a server without
// one, a write an interrupted apply had sent can leave one behind.
func (p *planner) noteDuplicates(d model.DesiredKey, l model.LiveKey) {
	for _, a := range l.AltNames {
		for _, i := range p.liveByAlt[a] {
			if other := p.live.Keys[i]; other.ID != l.ID {
				p.warnings = append(p.warnings, fmt.Sprintf(
					"alt name %q of %s (id %s) is also carried by key %s, which csfle does not manage: applications that look keys up by alt name get an error until one is removed. If no data uses key %s (csfle's in-use scan can tell), delete it.",
					a, d.Addr, l.ID, other.ID, other.ID))
			}
		}
	}
}

// noteDrift records what changed in the vault since the state was written.
func (p *planner) noteDrift(prior model.PriorKey, l model.LiveKey) {
	if !prior.MasterKey.Equal(l.MasterKey) {
		p.drift = append(p.drift, plan.Drift{Addr: prior.Addr, Kind: "rewrapped", Before: priorToPlanKey(prior), After: liveToPlanKey(l),
			Detail: fmt.Sprintf("master key changed from %s to %s outside csfle, or by an apply that stopped before recording it", prior.MasterKey, l.MasterKey)})
	}
	if add, remove := diffStrings(prior.AltNames, l.AltNames); len(add)+len(remove) > 0 {
		p.drift = append(p.drift, plan.Drift{Addr: prior.Addr, Kind: "renamed", Before: priorToPlanKey(prior), After: liveToPlanKey(l),
			Detail: "alt names changed outside csfle: " + altNamesReason(add, remove)})
	}
}

func altNamesReason(add, remove []string) string {
	var parts []string
	if len(add) > 0 {
		parts = append(parts, "add "+quoteAll(add))
	}
	if len(remove) > 0 {
		parts = append(parts, "remove "+quoteAll(remove))
	}
	return "alt names: " + strings.Join(parts, ", ")
}

// diffStrings returns what is in want but not have, and in have but not want.
// Alt name lists are short, so a linear search beats building sets, which
// matters when a vault holds a million keys.
func diffStrings(have, want []string) (add, remove []string) {
	for _, w := range want {
		if !slices.Contains(have, w) {
			add = append(add, w)
		}
	}
	for _, h := range have {
		if !slices.Contains(want, h) {
			remove = append(remove, h)
		}
	}
	return add, remove
}

func sharedAltName(a, b []string) string {
	for _, x := range a {
		if slices.Contains(b, x) {
			return x
		}
	}
	return ""
}

func quoteAll(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}
