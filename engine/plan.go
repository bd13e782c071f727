package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
	"github.com/csfle/csfle/planner"
	"github.com/csfle/csfle/vault"
)

// Refused is the error of a plan the planner or a plan-time check refused.
// Diagnostics point at the configuration where they can.
type Refused struct {
	Diagnostics hcl.Diagnostics
}

func (r *Refused) Error() string { return r.Diagnostics.Error() }

// Plan reads the key vault once, plans, and checks that every key the plan
// must unwrap can be unwrapped with the configured credentials, before
// anything is written.
func (s *Session) Plan(ctx context.Context, opts planner.Options) (*plan.Plan, error) {
	live, err := s.readLive(ctx)
	if err != nil {
		return nil, err
	}
	opts.AllowReplace = opts.AllowReplace || s.opts.AllowReplace
	p, refusals := planner.Plan(s.Config.Desired(), live, s.prior(), opts)
	if len(refusals) > 0 {
		return nil, s.refused(refusals)
	}
	if err := s.checkUnwrap(ctx, p); err != nil {
		return nil, err
	}
	if err := s.checkUsage(ctx, p, live); err != nil {
		return nil, err
	}
	return p, nil
}

// readLive reads the key vault and the managed collections.
func (s *Session) readLive(ctx context.Context) (model.Live, error) {
	live, err := s.vault.Read(ctx)
	if err != nil {
		return live, err
	}
	if ns := s.managedNamespaces(); len(ns) > 0 {
		if live.Collections, err = s.vault.ReadCollections(ctx, ns); err != nil {
			return live, err
		}
	}
	return live, nil
}

// managedNamespaces are the collections the configuration or the state
// names, sorted.
func (s *Session) managedNamespaces() []string {
	set := map[string]bool{}
	for _, c := range s.Config.Desired().Collections {
		set[c.Namespace()] = true
	}
	for _, c := range s.state.Collections {
		set[c.Database+"."+c.Name] = true
	}
	out := make([]string, 0, len(set))
	for ns := range set {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// checkUsage refuses to delete a key that documents still use: that hold
// ciphertext made with it, or that name it by alt name in a field a keyId
// pointer of their collection's $jsonSchema reads. By default it scans the
// encrypted paths of every managed collection; with ScanAll, every field of
// every collection of the cluster.
func (s *Session) checkUsage(ctx context.Context, p *plan.Plan, live model.Live) error {
	var ids []model.KeyID
	altNames := map[string]model.KeyID{}
	for _, c := range p.Changes {
		if c.Action == plan.Delete && c.Addr.Type == "data_key" {
			if id, ok := c.KeyID(); ok {
				ids = append(ids, id)
				for _, a := range c.Before.AltNames {
					altNames[a] = id
				}
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	targets, scanned, err := s.scanTargets(ctx, live)
	if err != nil {
		return err
	}
	usage, err := s.vault.ScanUsage(ctx, targets, ids, vault.ScanProgress(s.opts.ScanProgress))
	if err != nil {
		return err
	}
	named, err := s.vault.CountAltNameReferences(ctx, targets, altNames)
	if err != nil {
		return err
	}
	for id, byNS := range named {
		if usage[id] == nil {
			usage[id] = map[string]int64{}
		}
		for ns, n := range byNS {
			usage[id][ns] += n
		}
	}
	if refusals := planner.CheckUsage(p, usage, scanned); len(refusals) > 0 {
		return s.refused(refusals)
	}
	return nil
}

func (s *Session) scanTargets(ctx context.Context, live model.Live) ([]vault.ScanTarget, string, error) {
	if s.opts.ScanAll {
		targets, err := s.vault.AllCollections(ctx)
		return targets, fmt.Sprintf("every field of the %d collections of the cluster", len(targets)), err
	}
	paths := map[string]map[string]bool{}
	add := func(ns string, fields []model.EncryptedField) {
		if paths[ns] == nil {
			paths[ns] = map[string]bool{}
		}
		for _, f := range fields {
			paths[ns][f.Path] = true
		}
	}
	for _, c := range s.Config.Desired().Collections {
		add(c.Namespace(), c.Fields)
	}
	for _, c := range s.state.Collections {
		add(c.Database+"."+c.Name, c.Fields)
	}
	validators := map[string]string{}
	for _, c := range live.Collections {
		validators[c.Database+"."+c.Name] = c.JSONSchema
	}
	var targets []vault.ScanTarget
	for _, ns := range s.managedNamespaces() {
		db, coll, _ := strings.Cut(ns, ".")
		pointers, err := vault.AltNamePointers(validators[ns])
		if err != nil {
			return nil, "", err
		}
		t := vault.ScanTarget{Database: db, Collection: coll, AltNamePointers: pointers}
		for p := range paths[ns] {
			t.Paths = append(t.Paths, p)
		}
		sort.Strings(t.Paths)
		targets = append(targets, t)
	}
	return targets, fmt.Sprintf("the encrypted fields of the %d managed collections; -scan-all scans every collection", len(targets)), nil
}

// checkUnwrap proves, for each key to be rewrapped, that its current master
// key unwraps it with the configured credentials (a wrong local key or a
// revoked KMS permission stops the plan here, not half-way through apply).
func (s *Session) checkUnwrap(ctx context.Context, p *plan.Plan) error {
	var refusals []planner.Refusal
	for _, c := range p.Changes {
		if c.Action != plan.Rewrap {
			continue
		}
		id, _ := c.KeyID()
		if err := s.vault.CheckDecrypt(ctx, id); err != nil {
			refusals = append(refusals, planner.Refusal{Addr: c.Addr,
				Summary: "Cannot unwrap the key to rewrap it",
				Detail: fmt.Sprintf("%s (id %s) is wrapped by %s, and the configured %q provider could not unwrap it: %v. Check that the kms %q block holds the master key or credentials that wrapped it.",
					c.Addr, id, c.Before.MasterKey, c.Before.MasterKey.Provider, err, model.ProviderKind(c.Before.MasterKey.Provider))})
		}
	}
	if len(refusals) > 0 {
		return s.refused(refusals)
	}
	return nil
}

func (s *Session) refused(refusals []planner.Refusal) error {
	var diags hcl.Diagnostics
	for _, r := range refusals {
		d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: r.Summary, Detail: r.Detail}
		switch r.Addr.Type {
		case "data_key":
			if k := s.Config.DataKey(r.Addr.Name); k != nil {
				rng := k.DeclRange
				d.Subject = &rng
			}
		case "collection":
			db, coll, _ := strings.Cut(r.Addr.Name, ".")
			if c := s.Config.Collection(db, coll); c != nil {
				rng := c.DeclRange
				d.Subject = &rng
			}
		}
		diags = append(diags, d)
	}
	return &Refused{Diagnostics: diags}
}
