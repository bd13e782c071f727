package engine

import (
	"context"
	"fmt"
	"sort"

	"github.com/csfle/csfle/model"
)

// HealthCheck is one line of a provider health report.
type HealthCheck struct {
	Provider string `json:"provider"`
	Check    string `json:"check"`
	OK       bool   `json:"ok"`
	Detail   string `json:"detail,omitempty"`
}

// Health checks each configured KMS provider: its credentials were found
// (Open already resolved them, or failed), each aws master key the
// configuration names passes DescribeKey, and for each master key that
// wraps keys in the state, one of those keys unwraps with the configured
// credentials.
func (s *Session) Health(ctx context.Context) []HealthCheck {
	var out []HealthCheck
	for _, p := range s.Config.Providers {
		out = append(out, HealthCheck{Provider: p.Name, Check: "credentials", OK: true, Detail: "found"})
	}
	seen := map[string]bool{}
	for _, k := range s.desired.Keys {
		if model.ProviderKind(k.MasterKey.Provider) != model.KindAWS || seen[k.MasterKey.String()] {
			continue
		}
		seen[k.MasterKey.String()] = true
		hc := HealthCheck{Provider: k.MasterKey.Provider, Check: "DescribeKey " + k.MasterKey.Fields["key"], OK: true}
		if err := s.providers.CheckAWSKey(ctx, k.MasterKey); err != nil {
			hc.OK, hc.Detail = false, err.Error()
		}
		out = append(out, hc)
	}
	// One key per master key is enough to prove the credentials unwrap it.
	byMaster := map[string]model.PriorKey{}
	var masters []string
	for _, k := range s.state.Keys {
		m := k.MasterKey.String()
		if _, ok := byMaster[m]; !ok {
			byMaster[m] = k
			masters = append(masters, m)
		}
	}
	sort.Strings(masters)
	for _, m := range masters {
		k := byMaster[m]
		hc := HealthCheck{Provider: k.MasterKey.Provider, Check: fmt.Sprintf("unwrap %s (%s)", k.Addr, m), OK: true}
		if !s.providers.Has(k.MasterKey.Provider) {
			hc.OK, hc.Detail = false, fmt.Sprintf("the %q provider is not configured", k.MasterKey.Provider)
		} else if err := s.vault.CheckDecrypt(ctx, k.ID); err != nil {
			hc.OK, hc.Detail = false, err.Error()
		}
		out = append(out, hc)
	}
	return out
}
