package engine

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
	"github.com/csfle/csfle/planner"
	"github.com/csfle/csfle/schema"
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
	p, refusals := planner.Plan(s.desired, live, s.prior(), opts)
	if len(refusals) > 0 {
		return nil, s.refused(refusals)
	}
	if err := s.checkUnwrap(ctx, p); err != nil {
		return nil, err
	}
	if err := s.checkAWSKeys(ctx); err != nil {
		return nil, err
	}
	if err := s.checkLibmongocrypt(p, vault.LibmongocryptVersion()); err != nil {
		return nil, err
	}
	if err := s.checkUsage(ctx, p, live); err != nil {
		return nil, err
	}
	if err := s.checkReplaces(ctx, p); err != nil {
		return nil, err
	}
	p.ScanAll = s.opts.ScanAll
	return p, nil
}

// checkAWSKeys asks AWS KMS, once per distinct master key, whether each
// aws master key the configuration names can wrap data keys (it exists, is
// enabled, symmetric, for ENCRYPT_DECRYPT, in the stated region).
func (s *Session) checkAWSKeys(ctx context.Context) error {
	type result struct {
		err   error
		addrs []model.Addr
	}
	checked := map[string]*result{}
	var order []string
	for _, k := range s.desired.Keys {
		if model.ProviderKind(k.MasterKey.Provider) != model.KindAWS {
			continue
		}
		id := k.MasterKey.String()
		r, ok := checked[id]
		if !ok {
			r = &result{err: s.providers.CheckAWSKey(ctx, k.MasterKey)}
			checked[id] = r
			order = append(order, id)
		}
		r.addrs = append(r.addrs, k.Addr)
	}
	var refusals []planner.Refusal
	for _, id := range order {
		r := checked[id]
		if r.err == nil {
			continue
		}
		for _, a := range r.addrs {
			refusals = append(refusals, planner.Refusal{Addr: a, Summary: "AWS KMS key cannot wrap data keys",
				Detail: strings.TrimPrefix(r.err.Error(), "kms: ") + "."})
		}
	}
	if len(refusals) > 0 {
		return s.refused(refusals)
	}
	return nil
}

// checkLibmongocrypt refuses changes the linked libmongocrypt cannot make,
// before anything is written. 1.7 ignores an azure or gcp access token when
// it wraps a key (it asks the provider's default login endpoint for a token
// instead, and fails), and it has no delegated KMIP keys.
func (s *Session) checkLibmongocrypt(p *plan.Plan, version string) error {
	if !strings.HasPrefix(version, "1.7.") {
		return nil
	}
	var refusals []planner.Refusal
	for _, c := range p.Changes {
		if (c.Action != plan.Create && c.Action != plan.Rewrap) || c.After == nil {
			continue
		}
		name := c.After.MasterKey.Provider
		if c.After.MasterKey.Fields["delegated"] == "true" {
			refusals = append(refusals, planner.Refusal{Addr: c.Addr, Summary: "Delegated KMIP keys need a newer libmongocrypt",
				Detail: fmt.Sprintf("the linked libmongocrypt %s cannot use a kmip master key with delegated = true (it has no KMIP Encrypt and Decrypt). Leave delegated out, or link libmongocrypt 1.8 or newer.", version)})
			continue
		}
		if prov := s.Config.Provider(name); prov != nil && !prov.AccessToken.IsZero() {
			refusals = append(refusals, planner.Refusal{Addr: c.Addr, Summary: "Access token cannot wrap keys with this libmongocrypt",
				Detail: fmt.Sprintf("the linked libmongocrypt %s uses a %s access_token only to unwrap keys, not to wrap them, so %s would fail. Give the kms %q block its long-lived credentials (%s) instead, or link a newer libmongocrypt.",
					version, model.ProviderKind(name), c.Addr, name, map[string]string{model.KindAzure: "client_id and client_secret", model.KindGCP: "email and private_key"}[model.ProviderKind(name)])})
		}
	}
	if len(refusals) > 0 {
		return s.refused(refusals)
	}
	return nil
}

// checkReplaces refuses to recreate a Queryable Encryption collection that
// holds documents: csfle never drops data.
func (s *Session) checkReplaces(ctx context.Context, p *plan.Plan) error {
	var refusals []planner.Refusal
	for _, c := range p.Changes {
		if c.Action != plan.Replace || c.Collection == nil || c.Collection.After == nil {
			continue
		}
		a := c.Collection.After
		n, err := s.vault.CountDocuments(ctx, a.Database, a.Name)
		if err != nil {
			return err
		}
		if n > 0 {
			refusals = append(refusals, planner.Refusal{Addr: c.Addr, Summary: "Collection holds documents",
				Detail: fmt.Sprintf("%s.%s holds %d documents. Changing its encryptedFields means creating it again, and csfle only drops an empty collection. Migrate the documents to another collection (through automatic encryption), empty this one, and plan again.", a.Database, a.Name, n)})
		}
	}
	if len(refusals) > 0 {
		return s.refused(refusals)
	}
	return nil
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
	for _, c := range s.desired.Collections {
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
	namedBy, err := s.namedBy(p, live, targets)
	if err != nil {
		return err
	}
	if refusals := planner.CheckUsage(p, usage, namedBy, scanned); len(refusals) > 0 {
		return s.refused(refusals)
	}
	return nil
}

// namedBy finds the schemas that will still be on the server after the
// plan and name keys by id: the encryptedFields of Queryable Encryption
// collections the configuration lets go (MongoDB cannot remove them), and,
// with ScanAll, the validators and encryptedFields of collections csfle
// does not manage.
func (s *Session) namedBy(p *plan.Plan, live model.Live, targets []vault.ScanTarget) (map[model.KeyID][]string, error) {
	desired := map[string]bool{}
	for _, c := range s.desired.Collections {
		desired[c.Namespace()] = true
	}
	named := map[model.KeyID][]string{}
	add := func(ns string, ids []model.KeyID) {
		for _, id := range ids {
			if !slices.Contains(named[id], ns) {
				named[id] = append(named[id], ns)
			}
		}
	}
	for _, c := range live.Collections {
		ns := c.Database + "." + c.Name
		if desired[ns] || c.EncryptedFields == "" {
			continue
		}
		fields, err := schema.QEFields(c.EncryptedFields)
		if err != nil {
			return nil, fmt.Errorf("engine: the encryptedFields of %s: %w", ns, err)
		}
		for _, f := range fields {
			add(ns, f.KeyIDs)
		}
	}
	for _, t := range targets {
		if !desired[t.Namespace()] {
			add(t.Namespace(), t.NamedKeyIDs)
		}
	}
	return named, nil
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
	for _, c := range s.desired.Collections {
		add(c.Namespace(), c.Fields)
	}
	for _, c := range s.state.Collections {
		add(c.Database+"."+c.Name, c.Fields)
	}
	namespaces := s.managedNamespaces()
	for _, r := range s.state.Retired {
		for _, path := range r.Paths {
			add(r.Namespace, []model.EncryptedField{{Path: path}})
		}
		if !slices.Contains(namespaces, r.Namespace) {
			namespaces = append(namespaces, r.Namespace)
		}
	}
	validators := map[string]string{}
	for _, c := range live.Collections {
		validators[c.Database+"."+c.Name] = c.JSONSchema
	}
	var targets []vault.ScanTarget
	for _, ns := range namespaces {
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
	return targets, fmt.Sprintf("the encrypted fields, present and past, of %d managed collections; -scan-all scans every collection", len(targets)), nil
}

// checkUnwrap proves, for each key to be rewrapped, that its current master
// key unwraps it with the configured credentials (a wrong local key or a
// revoked KMS permission stops the plan here, not half-way through apply).
func (s *Session) checkUnwrap(ctx context.Context, p *plan.Plan) error {
	// One round trip per master key: the credentials either reach it or
	// not, and a bulk rewrap of many keys under one master key must not
	// cost a KMS call per key before anything is done.
	checked := map[string]error{}
	var refusals []planner.Refusal
	for _, c := range p.Changes {
		if c.Action != plan.Rewrap {
			continue
		}
		id, _ := c.KeyID()
		master := c.Before.MasterKey.String()
		err, done := checked[master]
		if !done {
			err = s.vault.CheckDecrypt(ctx, id)
			checked[master] = err
		}
		if err != nil {
			refusals = append(refusals, planner.Refusal{Addr: c.Addr,
				Summary: "Cannot unwrap the key to rewrap it",
				Detail: fmt.Sprintf("%s (id %s) is wrapped by %s, and the configured %q provider could not unwrap a key under it: %v. Check that the kms %q block holds the master key or credentials that wrapped it.",
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
