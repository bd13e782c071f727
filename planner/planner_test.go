package planner

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
)

var (
	local  = model.MasterKey{Provider: "local"}
	awsKey = model.MasterKey{Provider: "aws", Fields: map[string]string{"key": "arn:aws:kms:us-east-1:111122223333:key/one", "region": "us-east-1"}}
	awsTwo = model.MasterKey{Provider: "aws", Fields: map[string]string{"key": "arn:aws:kms:us-east-1:111122223333:key/two", "region": "us-east-1"}}
)

func id(n byte) model.KeyID { return model.KeyID{15: n} }
func idp(n byte) *model.KeyID {
	i := id(n)
	return &i
}

func desired(providers []string, keys ...model.DesiredKey) model.Desired {
	return model.Desired{KeyVaultNamespace: "encryption.__keyVault", Providers: providers, Keys: keys}
}

func dk(name string, mk model.MasterKey, alt ...string) model.DesiredKey {
	if len(alt) == 0 {
		alt = []string{name}
	}
	return model.DesiredKey{Addr: model.DataKeyAddr(name), MasterKey: mk, AltNames: alt}
}

func live(keys ...model.LiveKey) model.Live {
	model.SortKeys(keys)
	return model.Live{Namespace: "encryption.__keyVault", Keys: keys, AltNamesIndex: model.IndexPresent}
}

func lk(n byte, mk model.MasterKey, alt ...string) model.LiveKey {
	return model.LiveKey{ID: id(n), MasterKey: mk, AltNames: alt}
}

func protectedKey(name string, n byte, mk model.MasterKey) model.PriorKey {
	k := pk(name, n, mk)
	k.PreventDestroy = true
	return k
}

func protectedDesired(name string, mk model.MasterKey) model.DesiredKey {
	d := dk(name, mk)
	d.PreventDestroy = true
	return d
}

func prior(keys ...model.PriorKey) model.Prior {
	return model.Prior{Lineage: "lin", Serial: 3, Keys: keys}
}

func pk(name string, n byte, mk model.MasterKey, alt ...string) model.PriorKey {
	if len(alt) == 0 {
		alt = []string{name}
	}
	return model.PriorKey{Addr: model.DataKeyAddr(name), ID: id(n), MasterKey: mk, AltNames: alt}
}

// change is the part of a plan.Change the tables compare; reasons are for
// people and are checked separately.
type change struct {
	Addr   string
	Action plan.Action
	Before *plan.Key
	After  *plan.Key
}

func changesOf(p *plan.Plan) []change {
	var out []change
	for _, c := range p.Changes {
		out = append(out, change{c.Addr.String(), c.Action, c.Before, c.After})
	}
	return out
}

func TestPlan(t *testing.T) {
	both := []string{"local", "aws"}
	tests := []struct {
		name      string
		desired   model.Desired
		live      model.Live
		prior     model.Prior
		opts      Options
		want      []change
		wantDrift []string // "addr kind"
		wantWarn  int
	}{
		{
			name:    "empty",
			desired: desired([]string{"local"}),
			live:    live(),
		},
		{
			name:    "create",
			desired: desired([]string{"local"}, dk("ssn", local)),
			live:    live(),
			want: []change{{"data_key.ssn", plan.Create, nil,
				&plan.Key{AltNames: []string{"ssn"}, MasterKey: local}}},
		},
		{
			name:    "no changes once applied",
			desired: desired([]string{"local"}, dk("ssn", local)),
			live:    live(lk(1, local, "ssn")),
			prior:   prior(pk("ssn", 1, local)),
		},
		{
			name:    "migration: local to aws is a rewrap with the same id",
			desired: desired(both, dk("ssn", awsKey)),
			live:    live(lk(1, local, "ssn")),
			prior:   prior(pk("ssn", 1, local)),
			want: []change{{"data_key.ssn", plan.Rewrap,
				&plan.Key{ID: idp(1), AltNames: []string{"ssn"}, MasterKey: local},
				&plan.Key{ID: idp(1), AltNames: []string{"ssn"}, MasterKey: awsKey}}},
		},
		{
			name:    "new aws master key is a rewrap",
			desired: desired([]string{"aws"}, dk("ssn", awsTwo)),
			live:    live(lk(1, awsKey, "ssn")),
			prior:   prior(pk("ssn", 1, awsKey)),
			want: []change{{"data_key.ssn", plan.Rewrap,
				&plan.Key{ID: idp(1), AltNames: []string{"ssn"}, MasterKey: awsKey},
				&plan.Key{ID: idp(1), AltNames: []string{"ssn"}, MasterKey: awsTwo}}},
		},
		{
			name:    "alt names added and removed",
			desired: desired([]string{"local"}, dk("ssn", local, "ssn", "ssn-v2")),
			live:    live(lk(1, local, "ssn", "legacy")),
			prior:   prior(pk("ssn", 1, local, "legacy", "ssn")),
			want: []change{{"data_key.ssn", plan.Update,
				&plan.Key{ID: idp(1), AltNames: []string{"ssn", "legacy"}, MasterKey: local},
				&plan.Key{ID: idp(1), AltNames: []string{"ssn", "ssn-v2"}, MasterKey: local}}},
		},
		{
			name:    "prevent_destroy turned off is an update recorded in the state",
			desired: desired([]string{"local"}, dk("ssn", local)),
			live:    live(lk(1, local, "ssn")),
			prior:   prior(protectedKey("ssn", 1, local)),
			want: []change{{"data_key.ssn", plan.Update,
				&plan.Key{ID: idp(1), AltNames: []string{"ssn"}, MasterKey: local, PreventDestroy: true},
				&plan.Key{ID: idp(1), AltNames: []string{"ssn"}, MasterKey: local}}},
		},
		{
			name:    "a rewrap keeps prevent_destroy on both sides",
			desired: desired(both, protectedDesired("ssn", awsKey)),
			live:    live(lk(1, local, "ssn")),
			prior:   prior(protectedKey("ssn", 1, local)),
			want: []change{{"data_key.ssn", plan.Rewrap,
				&plan.Key{ID: idp(1), AltNames: []string{"ssn"}, MasterKey: local, PreventDestroy: true},
				&plan.Key{ID: idp(1), AltNames: []string{"ssn"}, MasterKey: awsKey, PreventDestroy: true}}},
		},
		{
			name:    "delete",
			desired: desired([]string{"local"}),
			live:    live(lk(1, local, "ssn")),
			prior:   prior(pk("ssn", 1, local)),
			want: []change{{"data_key.ssn", plan.Delete,
				&plan.Key{ID: idp(1), AltNames: []string{"ssn"}, MasterKey: local}, nil}},
		},
		{
			name:    "destroy deletes every managed key and leaves others alone",
			desired: desired([]string{"local"}, dk("ssn", local)),
			live:    live(lk(1, local, "ssn"), lk(2, local, "someone-else")),
			prior:   prior(pk("ssn", 1, local)),
			opts:    Options{Destroy: true},
			want: []change{{"data_key.ssn", plan.Delete,
				&plan.Key{ID: idp(1), AltNames: []string{"ssn"}, MasterKey: local}, nil}},
		},
		{
			name:    "a key left by a crash before the state write is adopted, not duplicated",
			desired: desired([]string{"local"}, dk("ssn", local)),
			live:    live(lk(7, local, "ssn")),
			want: []change{{"data_key.ssn", plan.Adopt, nil,
				&plan.Key{ID: idp(7), AltNames: []string{"ssn"}, MasterKey: local}}},
		},
		{
			name:    "adopted key with another master key is adopted then rewrapped",
			desired: desired(both, dk("ssn", awsKey)),
			live:    live(lk(7, local, "ssn")),
			want: []change{
				{"data_key.ssn", plan.Adopt, nil, &plan.Key{ID: idp(7), AltNames: []string{"ssn"}, MasterKey: local}},
				{"data_key.ssn", plan.Rewrap,
					&plan.Key{ID: idp(7), AltNames: []string{"ssn"}, MasterKey: local},
					&plan.Key{ID: idp(7), AltNames: []string{"ssn"}, MasterKey: awsKey}},
			},
		},
		{
			name:    "missing index is created first",
			desired: desired([]string{"local"}, dk("ssn", local)),
			live:    model.Live{Namespace: "encryption.__keyVault"},
			want: []change{
				{"key_vault.keyAltNames_index", plan.Create, nil, nil},
				{"data_key.ssn", plan.Create, nil, &plan.Key{AltNames: []string{"ssn"}, MasterKey: local}},
			},
		},
		{
			name:     "index refused by the server before is a warning, not a change",
			desired:  desired([]string{"local"}),
			live:     model.Live{Namespace: "encryption.__keyVault"},
			prior:    model.Prior{IndexUnsupported: "partialFilterExpression is not supported"},
			wantWarn: 1,
		},
		{
			name:     "a stray key with a managed key's alt name is a warning",
			desired:  desired([]string{"local"}, dk("ssn", local)),
			live:     live(lk(1, local, "ssn"), lk(2, local, "ssn")),
			prior:    prior(pk("ssn", 1, local)),
			wantWarn: 1,
		},
		{
			name:     "non-unique index is a warning",
			desired:  desired([]string{"local"}),
			live:     model.Live{Namespace: "encryption.__keyVault", AltNamesIndex: model.IndexUnprotected},
			wantWarn: 1,
		},
		{
			name:      "key deleted out of band is drift and is created again",
			desired:   desired([]string{"local"}, dk("ssn", local)),
			live:      live(),
			prior:     prior(pk("ssn", 1, local)),
			want:      []change{{"data_key.ssn", plan.Create, nil, &plan.Key{AltNames: []string{"ssn"}, MasterKey: local}}},
			wantDrift: []string{"data_key.ssn deleted"},
		},
		{
			name:    "a rewrap the state never recorded is drift, and is rewrapped again to verify it",
			desired: desired(both, dk("ssn", awsKey)),
			live:    live(lk(1, awsKey, "ssn")),
			prior:   prior(pk("ssn", 1, local)),
			want: []change{{"data_key.ssn", plan.Rewrap,
				&plan.Key{ID: idp(1), AltNames: []string{"ssn"}, MasterKey: awsKey},
				&plan.Key{ID: idp(1), AltNames: []string{"ssn"}, MasterKey: awsKey}}},
			wantDrift: []string{"data_key.ssn rewrapped"},
		},
		{
			name:    "destroy plans no index",
			desired: desired([]string{"local"}, dk("ssn", local)),
			live:    model.Live{Namespace: "encryption.__keyVault", Keys: []model.LiveKey{lk(1, local, "ssn")}},
			prior:   prior(pk("ssn", 1, local)),
			opts:    Options{Destroy: true},
			want: []change{{"data_key.ssn", plan.Delete,
				&plan.Key{ID: idp(1), AltNames: []string{"ssn"}, MasterKey: local}, nil}},
		},
		{
			name:    "alt name renamed out of band is drift, and planned back",
			desired: desired([]string{"local"}, dk("ssn", local)),
			live:    live(lk(1, local, "ssn", "extra")),
			prior:   prior(pk("ssn", 1, local)),
			want: []change{{"data_key.ssn", plan.Update,
				&plan.Key{ID: idp(1), AltNames: []string{"ssn", "extra"}, MasterKey: local},
				&plan.Key{ID: idp(1), AltNames: []string{"ssn"}, MasterKey: local}}},
			wantDrift: []string{"data_key.ssn renamed"},
		},
		{
			name:      "removed key already gone only leaves the state",
			desired:   desired([]string{"local"}),
			live:      live(),
			prior:     prior(pk("old", 1, local)),
			want:      []change{{"data_key.old", plan.Delete, &plan.Key{ID: idp(1), AltNames: []string{"old"}, MasterKey: local}, nil}},
			wantDrift: []string{"data_key.old deleted"},
		},
		{
			name: "order: index, adopt, create, update, rewrap, delete",
			desired: desired(both,
				dk("a_rewrap", awsKey), dk("b_create", local), dk("c_update", local, "c_update", "c2"), dk("d_adopt", local)),
			live: model.Live{Namespace: "encryption.__keyVault", Keys: []model.LiveKey{
				lk(1, local, "a_rewrap"), lk(3, local, "c_update"), lk(4, local, "d_adopt"), lk(5, local, "e_delete")}},
			prior: prior(pk("a_rewrap", 1, local), pk("c_update", 3, local), pk("e_delete", 5, local)),
			want: []change{
				{"key_vault.keyAltNames_index", plan.Create, nil, nil},
				{"data_key.d_adopt", plan.Adopt, nil, &plan.Key{ID: idp(4), AltNames: []string{"d_adopt"}, MasterKey: local}},
				{"data_key.b_create", plan.Create, nil, &plan.Key{AltNames: []string{"b_create"}, MasterKey: local}},
				{"data_key.c_update", plan.Update,
					&plan.Key{ID: idp(3), AltNames: []string{"c_update"}, MasterKey: local},
					&plan.Key{ID: idp(3), AltNames: []string{"c_update", "c2"}, MasterKey: local}},
				{"data_key.a_rewrap", plan.Rewrap,
					&plan.Key{ID: idp(1), AltNames: []string{"a_rewrap"}, MasterKey: local},
					&plan.Key{ID: idp(1), AltNames: []string{"a_rewrap"}, MasterKey: awsKey}},
				{"data_key.e_delete", plan.Delete, &plan.Key{ID: idp(5), AltNames: []string{"e_delete"}, MasterKey: local}, nil},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, refusals := Plan(tt.desired, tt.live, tt.prior, tt.opts)
			if len(refusals) > 0 {
				t.Fatalf("unexpected refusals: %v", refusals)
			}
			if diff := cmp.Diff(tt.want, changesOf(got)); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			var drift []string
			for _, d := range got.Drift {
				drift = append(drift, d.Addr.String()+" "+d.Kind)
			}
			if diff := cmp.Diff(tt.wantDrift, drift); diff != "" {
				t.Errorf("drift (-want +got):\n%s", diff)
			}
			if len(got.Warnings) != tt.wantWarn {
				t.Errorf("warnings = %q, want %d", got.Warnings, tt.wantWarn)
			}
			for _, c := range got.Changes {
				if c.Reason == "" {
					t.Errorf("%s %s has no reason", c.Addr, c.Action)
				}
			}
			if got.Basis.VaultDigest != tt.live.Digest() || got.Basis.StateSerial != tt.prior.Serial {
				t.Errorf("basis = %+v, does not record what the plan was made from", got.Basis)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	protected := pk("ssn", 1, local)
	protected.PreventDestroy = true
	tests := []struct {
		name        string
		desired     model.Desired
		live        model.Live
		prior       model.Prior
		opts        Options
		wantSummary string
		wantDetail  string
	}{
		{
			name:        "deleting a prevent_destroy key",
			desired:     desired([]string{"local"}),
			live:        live(lk(1, local, "ssn")),
			prior:       prior(protected),
			wantSummary: "Key is protected by prevent_destroy",
			wantDetail:  "set prevent_destroy = false, apply",
		},
		{
			name:        "destroy of a prevent_destroy key",
			desired:     desired([]string{"local"}, dk("ssn", local)),
			live:        live(lk(1, local, "ssn")),
			prior:       prior(protected),
			opts:        Options{Destroy: true},
			wantSummary: "Key is protected by prevent_destroy",
		},
		{
			name:        "rewrap when the current provider is not configured",
			desired:     desired([]string{"aws"}, dk("ssn", awsKey)),
			live:        live(lk(1, local, "ssn")),
			prior:       prior(pk("ssn", 1, local)),
			wantSummary: "Cannot unwrap the key to rewrap it",
			wantDetail:  `Keep a kms "local" block`,
		},
		{
			name:        "two live keys carry the block's alt names",
			desired:     desired([]string{"local"}, dk("ssn", local, "a", "b")),
			live:        live(lk(1, local, "a"), lk(2, local, "b")),
			wantSummary: "Alt names belong to several keys",
		},
		{
			name:        "two blocks cannot adopt the same key",
			desired:     desired([]string{"local"}, dk("a", local), dk("b", local)),
			live:        live(lk(1, local, "a", "b")),
			wantSummary: "Alt name already used by a managed key",
			wantDetail:  "is managed as data_key.a",
		},
		{
			name:        "alt name of another managed key",
			desired:     desired([]string{"local"}, dk("ssn", local), dk("tax", local, "ssn-copy", "ssn")),
			live:        live(lk(1, local, "ssn")),
			prior:       prior(pk("ssn", 1, local)),
			wantSummary: "Alt name already used by a managed key",
		},
		{
			name:        "adding an alt name that another key carries",
			desired:     desired([]string{"local"}, dk("ssn", local, "ssn", "other")),
			live:        live(lk(1, local, "ssn"), lk(2, local, "other")),
			prior:       prior(pk("ssn", 1, local)),
			wantSummary: "Alt name already used by another key",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, refusals := Plan(tt.desired, tt.live, tt.prior, tt.opts)
			if got != nil {
				t.Errorf("a plan was made despite refusals: %+v", got.Changes)
			}
			if len(refusals) != 1 {
				t.Fatalf("refusals = %v, want one", refusals)
			}
			if refusals[0].Summary != tt.wantSummary {
				t.Errorf("summary = %q, want %q", refusals[0].Summary, tt.wantSummary)
			}
			if !strings.Contains(refusals[0].Detail, tt.wantDetail) {
				t.Errorf("detail = %q, want it to contain %q", refusals[0].Detail, tt.wantDetail)
			}
		})
	}
}

func TestDigestIgnoresOrderButNotContent(t *testing.T) {
	a := model.Live{Namespace: "n", Keys: []model.LiveKey{lk(1, local, "x"), lk(2, local, "y")}}
	b := model.Live{Namespace: "n", Keys: []model.LiveKey{lk(2, local, "y"), lk(1, local, "x")}}
	c := model.Live{Namespace: "n", Keys: []model.LiveKey{lk(1, local, "x"), lk(2, awsKey, "y")}}
	if a.Digest() != b.Digest() {
		t.Error("digest depends on document order")
	}
	if a.Digest() == c.Digest() {
		t.Error("digest missed a rewrap")
	}
}

// The planner must stay pure: nothing it imports may talk to the world.
func TestPlannerImportsNoIO(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, bad := range []string{"net", "os/exec", "go.mongodb.org/", "github.com/aws/", "github.com/hashicorp/hcl"} {
			if pkg == bad || strings.HasPrefix(pkg, bad+"/") || (strings.HasSuffix(bad, "/") && strings.HasPrefix(pkg, bad)) {
				t.Errorf("planner depends on %s", pkg)
			}
		}
	}
}

func TestMasterKeyMatchesServerAssignedKMIPFields(t *testing.T) {
	kmip := func(fields map[string]string) model.MasterKey {
		return model.MasterKey{Provider: "kmip", Fields: fields}
	}
	tests := []struct {
		live, desired model.MasterKey
		want          bool
	}{
		{kmip(map[string]string{"keyId": "12", "endpoint": "k:5696"}), kmip(map[string]string{"endpoint": "k:5696"}), true},
		{kmip(map[string]string{"keyId": "12", "endpoint": "k:5696"}), kmip(map[string]string{"keyId": "13", "endpoint": "k:5696"}), false},
		{kmip(map[string]string{"keyId": "12", "delegated": "false"}), kmip(map[string]string{}), true},
		{kmip(map[string]string{"keyId": "12", "delegated": "true"}), kmip(map[string]string{}), false},
		{awsKey, awsTwo, false},
		{awsKey, awsKey, true},
	}
	for i, tt := range tests {
		if got := tt.live.Satisfies(tt.desired); got != tt.want {
			t.Errorf("%d: Satisfies(%s, %s) = %v, want %v", i, tt.live, tt.desired, got, tt.want)
		}
	}
}
