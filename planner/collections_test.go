package planner

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
	"github.com/csfle/csfle/schema"
)

func coll(mode string, fields ...model.EncryptedField) model.DesiredCollection {
	return model.DesiredCollection{Addr: model.CollectionAddr("medical", "patients"), Database: "medical", Name: "patients", Mode: mode, Fields: fields}
}

func field(path, key string) model.EncryptedField {
	return model.EncryptedField{Path: path, BSONType: "string", Algorithm: model.AlgorithmDeterministic, Key: model.DataKeyAddr(key)}
}

func qeField(path, key string) model.EncryptedField {
	return model.EncryptedField{Path: path, BSONType: "string", Key: model.DataKeyAddr(key), Queries: []model.Query{{Type: model.QueryEquality}}}
}

func jsonSchemaOf(t *testing.T, c model.DesiredCollection, ids map[model.Addr]model.KeyID) string {
	t.Helper()
	doc, err := schema.JSONSchema(c, ids)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func qeOf(t *testing.T, c model.DesiredCollection, ids map[model.Addr]model.KeyID) string {
	t.Helper()
	doc, err := schema.EncryptedFields(c, ids)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestPlanCollections(t *testing.T) {
	ids := map[model.Addr]model.KeyID{model.DataKeyAddr("ssn"): id(1)}
	v1 := coll(model.ModeValidator, field("ssn", "ssn"))
	v2 := coll(model.ModeValidator, field("ssn", "ssn"), field("mrn", "ssn"))
	doc1 := jsonSchemaOf(t, v1, ids)
	keys := desired([]string{"local"}, dk("ssn", local))
	withColls := func(cs ...model.DesiredCollection) model.Desired {
		d := keys
		d.Collections = cs
		return d
	}
	liveKeys := live(lk(1, local, "ssn"))
	withLive := func(cs ...model.LiveCollection) model.Live {
		l := liveKeys
		l.Collections = cs
		return l
	}
	priorKeys := prior(pk("ssn", 1, local))
	withPrior := func(cs ...model.PriorCollection) model.Prior {
		p := priorKeys
		p.Collections = cs
		return p
	}
	missing := model.LiveCollection{Database: "medical", Name: "patients"}
	enforced := model.LiveCollection{Database: "medical", Name: "patients", Exists: true, JSONSchema: doc1, ValidationLevel: "strict", ValidationAction: "error"}
	recorded := model.PriorCollection{Addr: v1.Addr, Database: "medical", Name: "patients", Mode: model.ModeValidator, Fields: v1.Fields, Document: doc1}

	tests := []struct {
		name      string
		desired   model.Desired
		live      model.Live
		prior     model.Prior
		opts      Options
		want      []string // "addr action"
		wantDrift []string
		refusal   string
	}{
		{name: "validator collection is created", desired: withColls(v1), live: withLive(missing), prior: priorKeys,
			want: []string{"collection.medical.patients create"}},
		{name: "applied validator is no change", desired: withColls(v1), live: withLive(enforced), prior: withPrior(recorded)},
		{name: "a new field is a collMod", desired: withColls(v2), live: withLive(enforced), prior: withPrior(recorded),
			want: []string{"collection.medical.patients update"}},
		{name: "validationAction warn is brought back to error", desired: withColls(v1),
			live:  withLive(model.LiveCollection{Database: "medical", Name: "patients", Exists: true, JSONSchema: doc1, ValidationLevel: "strict", ValidationAction: "warn"}),
			prior: withPrior(recorded), want: []string{"collection.medical.patients update"}},
		{name: "a validator edited by hand is drift, and is put back", desired: withColls(v1),
			live:  withLive(model.LiveCollection{Database: "medical", Name: "patients", Exists: true, JSONSchema: `{"bsonType":"object"}`, ValidationLevel: "strict", ValidationAction: "error"}),
			prior: withPrior(recorded), want: []string{"collection.medical.patients update"}, wantDrift: []string{"collection.medical.patients edited"}},
		{name: "an existing matching validator is adopted", desired: withColls(v1), live: withLive(enforced), prior: priorKeys,
			want: []string{"collection.medical.patients adopt"}},
		{name: "a removed block removes the validator before its key is deleted", desired: keys, live: withLive(enforced),
			prior: withPrior(recorded), want: []string{"collection.medical.patients delete"}},
		{name: "schema_map writes nothing and is recorded", desired: withColls(coll(model.ModeSchemaMap, field("ssn", "ssn"))), live: withLive(missing), prior: priorKeys,
			want: []string{"collection.medical.patients create"}},
		{name: "a collection naming a key created by the same plan comes after it",
			desired: func() model.Desired {
				d := desired([]string{"local"}, dk("ssn", local), dk("new", local))
				d.Collections = []model.DesiredCollection{coll(model.ModeValidator, field("ssn", "new"))}
				return d
			}(),
			live: withLive(missing), prior: priorKeys,
			want: []string{"data_key.new create", "collection.medical.patients create"}},
		{name: "a validator with rules outside $jsonSchema is refused", desired: withColls(v1),
			live:  withLive(model.LiveCollection{Database: "medical", Name: "patients", Exists: true, OtherValidator: true}),
			prior: priorKeys, refusal: "Validator holds more than encryption"},
		{name: "a $jsonSchema with rules besides encryption is refused", desired: withColls(v1),
			live: withLive(model.LiveCollection{Database: "medical", Name: "patients", Exists: true, ValidationLevel: "strict", ValidationAction: "error",
				JSONSchema: `{"bsonType":"object","required":["ssn"]}`}),
			prior: priorKeys, refusal: "Validator holds more than encryption"},
		{name: "a validator written but not recorded (crash) is recorded", desired: withColls(v1), live: withLive(enforced),
			prior: withPrior(model.PriorCollection{Addr: v1.Addr, Database: "medical", Name: "patients", Mode: model.ModeValidator, Fields: v1.Fields, Document: `{"bsonType":"object"}`}),
			want:  []string{"collection.medical.patients adopt"}, wantDrift: []string{"collection.medical.patients edited"}},
		{name: "a Queryable Encryption collection cannot become a validator one", desired: withColls(v1),
			live:  withLive(model.LiveCollection{Database: "medical", Name: "patients", Exists: true, EncryptedFields: qeOf(t, coll(model.ModeQueryable, qeField("ssn", "ssn")), ids)}),
			prior: priorKeys, refusal: "Queryable Encryption cannot be removed"},
		{name: "queryable collection is created", desired: withColls(coll(model.ModeQueryable, qeField("ssn", "ssn"))), live: withLive(missing), prior: priorKeys,
			want: []string{"collection.medical.patients create"}},
		{name: "changed encryptedFields need -allow-replace", desired: withColls(coll(model.ModeQueryable, qeField("ssn", "ssn"), qeField("mrn", "ssn"))),
			live:  withLive(model.LiveCollection{Database: "medical", Name: "patients", Exists: true, EncryptedFields: qeOf(t, coll(model.ModeQueryable, qeField("ssn", "ssn")), ids)}),
			prior: priorKeys, refusal: "Queryable Encryption fields cannot change"},
		{name: "with -allow-replace they are a replace", desired: withColls(coll(model.ModeQueryable, qeField("ssn", "ssn"), qeField("mrn", "ssn"))),
			live:  withLive(model.LiveCollection{Database: "medical", Name: "patients", Exists: true, EncryptedFields: qeOf(t, coll(model.ModeQueryable, qeField("ssn", "ssn")), ids)}),
			prior: priorKeys, opts: Options{AllowReplace: true}, want: []string{"collection.medical.patients replace"}},
		{name: "matching encryptedFields are no change", desired: withColls(coll(model.ModeQueryable, qeField("ssn", "ssn"))),
			live: withLive(model.LiveCollection{Database: "medical", Name: "patients", Exists: true,
				EncryptedFields: qeOf(t, coll(model.ModeQueryable, qeField("ssn", "ssn")), ids)}),
			prior: withPrior(model.PriorCollection{Addr: v1.Addr, Database: "medical", Name: "patients", Mode: model.ModeQueryable,
				Fields: []model.EncryptedField{qeField("ssn", "ssn")}, Document: qeOf(t, coll(model.ModeQueryable, qeField("ssn", "ssn")), ids)})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, refusals := Plan(tt.desired, tt.live, tt.prior, tt.opts)
			if tt.refusal != "" {
				if len(refusals) != 1 || refusals[0].Summary != tt.refusal {
					t.Fatalf("refusals = %v, want %q", refusals, tt.refusal)
				}
				return
			}
			if len(refusals) > 0 {
				t.Fatalf("refusals: %v", refusals)
			}
			var changes, drift []string
			for _, c := range got.Changes {
				if c.Addr == model.KeyVaultIndexAddr {
					continue
				}
				changes = append(changes, c.Addr.String()+" "+c.Action.String())
				if c.Addr.Type == "collection" && (c.Collection == nil || c.Reason == "") {
					t.Errorf("%s has no collection part or no reason", c.Addr)
				}
			}
			for _, d := range got.Drift {
				drift = append(drift, d.Addr.String()+" "+d.Kind)
			}
			if diff := cmp.Diff(tt.want, changes); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantDrift, drift); diff != "" {
				t.Errorf("drift (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCollectionChangeCarriesKnownIDsAndDocument(t *testing.T) {
	d := desired([]string{"local"}, dk("ssn", local), dk("new", local))
	d.Collections = []model.DesiredCollection{coll(model.ModeValidator, field("mrn", "new"), field("ssn", "ssn"))}
	l := live(lk(1, local, "ssn"))
	l.Collections = []model.LiveCollection{{Database: "medical", Name: "patients"}}
	got, refusals := Plan(d, l, prior(pk("ssn", 1, local)), Options{})
	if len(refusals) > 0 {
		t.Fatal(refusals)
	}
	var cc *plan.CollectionChange
	for _, c := range got.Changes {
		if c.Collection != nil {
			cc = c.Collection
		}
	}
	if cc == nil || len(cc.After.Fields) != 2 {
		t.Fatalf("collection change = %+v", cc)
	}
	if cc.After.Fields[0].KeyID != nil || cc.After.Fields[1].KeyID == nil || *cc.After.Fields[1].KeyID != id(1) {
		t.Errorf("key ids: new must be unknown, ssn known: %+v", cc.After.Fields)
	}
	if cc.Document != "" {
		t.Error("a document was made although a key id is known only after apply")
	}
}

func TestCheckUsageRefusesKeysInUse(t *testing.T) {
	p, _ := Plan(desired([]string{"local"}), live(lk(1, local, "old"), lk(2, local, "unused")),
		prior(pk("old", 1, local), pk("unused", 2, local)), Options{})
	usage := model.KeyUsage{id(1): {"medical.patients": 3, "medical.visits": 1}}
	refusals := CheckUsage(p, usage, nil, "the encrypted fields of 2 managed collections")
	if len(refusals) != 1 || refusals[0].Addr != model.DataKeyAddr("old") {
		t.Fatalf("refusals = %v, want one for data_key.old", refusals)
	}
	for _, want := range []string{"4 documents", "medical.patients: 3", "medical.visits: 1", "scanned the encrypted fields"} {
		if !strings.Contains(refusals[0].Detail, want) {
			t.Errorf("detail %q lacks %q", refusals[0].Detail, want)
		}
	}
}

func TestCheckUsageRefusesKeysASchemaStillNames(t *testing.T) {
	p, _ := Plan(desired([]string{"local"}), live(lk(1, local, "old")), prior(pk("old", 1, local)), Options{})
	refusals := CheckUsage(p, nil, map[model.KeyID][]string{id(1): {"hr.payroll"}}, "x")
	if len(refusals) != 1 || refusals[0].Summary != "Key is named by a schema" || !strings.Contains(refusals[0].Detail, "hr.payroll") {
		t.Fatalf("refusals = %v", refusals)
	}
}
