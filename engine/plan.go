package engine

import (
	"context"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
	"github.com/csfle/csfle/planner"
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
	live, err := s.vault.Read(ctx)
	if err != nil {
		return nil, err
	}
	p, refusals := planner.Plan(s.Config.Desired(), live, s.prior(), opts)
	if len(refusals) > 0 {
		return nil, s.refused(refusals)
	}
	if err := s.checkUnwrap(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
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
		if r.Addr.Type == "data_key" {
			if k := s.Config.DataKey(r.Addr.Name); k != nil {
				rng := k.DeclRange
				d.Subject = &rng
			}
		}
		diags = append(diags, d)
	}
	return &Refused{Diagnostics: diags}
}
