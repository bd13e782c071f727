package render

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
)

func field(path, key string) plan.CollectionField {
	return plan.CollectionField{EncryptedField: model.EncryptedField{
		Path: path, BSONType: "string", Algorithm: model.AlgorithmRandom, Key: model.DataKeyAddr(key),
	}}
}

func collectionPlan(changes ...plan.Change) *plan.Plan {
	return &plan.Plan{FormatVersion: plan.FormatVersion, Changes: changes}
}

func humanOf(t *testing.T, p *plan.Plan) string {
	t.Helper()
	var out bytes.Buffer
	if err := Human(&out, p, Options{}); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func markdownOf(t *testing.T, p *plan.Plan) string {
	t.Helper()
	var out bytes.Buffer
	if err := Markdown(&out, p); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// Database, collection and field names come from listCollections and the
// state as much as from the configuration: no control character of theirs
// may reach the terminal.
func TestCollectionStringsAreEscaped(t *testing.T) {
	evil := "\x1b]0;pwned\x07\x1b[2J\u202e"
	f := field("a"+evil, "k"+evil)
	f.Queries = []model.Query{{Type: "range" + evil, Min: "0" + evil}}
	c := &plan.Collection{Database: "db" + evil, Name: "c" + evil, Mode: "validator" + evil, Fields: []plan.CollectionField{f}}
	p := collectionPlan(plan.Change{
		Addr: model.Addr{Type: "collection", Name: "db" + evil + ".c"}, Action: plan.Update,
		Collection: &plan.CollectionChange{Before: &plan.Collection{Database: c.Database, Name: c.Name, Mode: model.ModeValidator}, After: c},
		Reason:     "why" + evil,
	})
	for name, view := range views() {
		if name == "JSON" {
			continue
		}
		var out bytes.Buffer
		if err := view(&out, p); err != nil {
			t.Fatal(err)
		}
		got := sgr.ReplaceAllString(out.String(), "")
		for _, bad := range []string{"\x1b", "\x07", "\u202e"} {
			if strings.Contains(got, bad) {
				t.Errorf("%s wrote %q:\n%s", name, bad, got)
			}
		}
	}
}

func TestUnchangedFieldsAreHiddenPastThree(t *testing.T) {
	for _, n := range []int{3, 4} {
		var before, after []plan.CollectionField
		for i := range n {
			before = append(before, field(fmt.Sprintf("f%d", i), "k"))
		}
		after = append(after, before...)
		after = append(after, field("new", "k"))
		p := collectionPlan(plan.Change{
			Addr: model.CollectionAddr("db", "c"), Action: plan.Update,
			Collection: &plan.CollectionChange{
				Before: &plan.Collection{Database: "db", Name: "c", Mode: model.ModeValidator, Fields: before},
				After:  &plan.Collection{Database: "db", Name: "c", Mode: model.ModeValidator, Fields: after},
			},
		})
		out := humanOf(t, p)
		hidden := strings.Contains(out, fmt.Sprintf("# (%d unchanged fields hidden)", n))
		listed := strings.Contains(out, `        field "f0" {`)
		if hidden != (n > maxUnchangedFields) || listed == hidden {
			t.Errorf("%d unchanged fields: hidden %t, listed %t:\n%s", n, hidden, listed, out)
		}
		if !strings.Contains(out, `      + field "new" {`) {
			t.Errorf("the added field is not shown:\n%s", out)
		}
		if md := markdownOf(t, p); !strings.Contains(md, "| mode `validator`; 1 field added; validator changed with `collMod` |") {
			t.Errorf("Markdown details:\n%s", md)
		}
	}
}

// The planner updates a collection csfle has no state for (its validator
// exists but differs) with no before side: the fields are all new to it.
// Adoptions write nothing, so they are drawn without marks.
func TestOneSidedCollectionChanges(t *testing.T) {
	after := &plan.Collection{Database: "db", Name: "c", Mode: model.ModeValidator, Fields: []plan.CollectionField{field("x", "k")}}
	for _, tc := range []struct {
		action plan.Action
		want   []string
	}{
		{plan.Update, []string{"will be updated: its $jsonSchema validator changes (collMod)", `      + field "x" {`, "          + data_key  = data_key.k (known after apply)"}},
		{plan.Adopt, []string{"will be adopted into state (nothing is written to the server)", ` <= collection "db" "c" {`, `        field "x" {`, "            algorithm = \"random\""}},
	} {
		out := humanOf(t, collectionPlan(plan.Change{
			Addr: model.CollectionAddr("db", "c"), Action: tc.action,
			Collection: &plan.CollectionChange{After: after},
		}))
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.action, w, out)
			}
		}
	}
}

// A change that names a collection but carries nothing about it (a later
// planner, a hand-edited plan) is still drawn, by its address.
func TestCollectionWithoutDetails(t *testing.T) {
	out := humanOf(t, collectionPlan(plan.Change{Addr: model.CollectionAddr("db", "a.b"), Action: plan.Delete}))
	for _, w := range []string{`  - collection "db" "a.b"` + "\n", "Collections: 0 to create, 0 to update, 1 to delete."} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestQuery(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		q    model.Query
		want string
	}{
		{model.Query{Type: "equality"}, "equality"},
		{model.Query{Type: "equality", Contention: n(0)}, "equality(contention=0)"},
		{model.Query{Type: "range", Min: "0", Max: "100", Contention: n(8), Sparsity: n(2), Precision: n(1), TrimFactor: n(4)},
			"range(min=0, max=100, contention=8, sparsity=2, precision=1, trim_factor=4)"},
	} {
		if got := query(tc.q); got != tc.want {
			t.Errorf("query(%+v) = %q, want %q", tc.q, got, tc.want)
		}
	}
}
