package render

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
)

// maxUnchangedFields is how many unchanged fields an update lists in full;
// past it they are counted on one line, as Terraform hides unchanged
// attributes, so the fields that change stay easy to find.
const maxUnchangedFields = 3

// collectionBlock draws a change to an encrypted collection: its mode, then
// a nested block per encrypted field. Fields are matched by path and drawn
// in path order.
func collectionBlock(c docChange) block {
	before, after := collSides(c)
	a, known := action(c.Action)
	return block{
		headline: collectionHeadline(c, before, after),
		// A replace of a collection is not the cheap delete-and-create of a
		// key: its documents have to be moved, by the user.
		danger: known && a == plan.Replace,
		notes:  notes(c.Reason),
		body:   object(collectionHead(c.Address, before, after), symbol(c.Action), collectionAttrs(c.Action, before, after)),
	}
}

func collSides(c docChange) (before, after *docCollection) {
	if c.Collection == nil {
		return nil, nil
	}
	return c.Collection.Before, c.Collection.After
}

// mode is the collection's enforcement mode: the one it will have, or the
// one it had when it goes away.
func mode(before, after *docCollection) string {
	switch {
	case after != nil:
		return after.Mode
	case before != nil:
		return before.Mode
	}
	return ""
}

// collectionHead names the collection by its own database and name, which
// are exact, and by its address when the change carries neither.
func collectionHead(addr string, before, after *docCollection) string {
	for _, c := range []*docCollection{after, before} {
		if c != nil && c.Database != "" && c.Name != "" {
			return labels(collectionType, c.Database, c.Name)
		}
	}
	return objectHead(addr)
}

// collectionAttrs lists the mode and the fields. With one side, everything
// gets the same mark: + when the collection (or, on an update the state
// knew nothing before, its schema) is new, - when it goes, none for an
// adoption, which writes nothing. With both sides, only what differs is
// marked.
func collectionAttrs(actionName string, before, after *docCollection) []line {
	if before == nil && after == nil {
		return nil
	}
	if before == nil || after == nil {
		mark, isAfter, c := "-", false, before
		if before == nil {
			mark, isAfter, c = "+", true, after
		}
		if a, ok := action(actionName); !ok || a == plan.Adopt {
			mark = ""
		}
		var m attrs
		m.add(mark, "mode", strconv.Quote(c.Mode))
		out := m.lines()
		for _, f := range sortedFields(c.Fields) {
			out = append(out, fieldBlock(mark, f.Path, oneField(f, mark, isAfter))...)
		}
		return out
	}
	var m attrs
	if before.Mode == after.Mode {
		m.add("", "mode", strconv.Quote(after.Mode))
	} else {
		m.add("~", "mode", strconv.Quote(before.Mode)+" -> "+strconv.Quote(after.Mode))
	}
	out := m.lines()
	type entry struct {
		lines     []line
		unchanged bool
	}
	var entries []entry
	unchanged := 0
	for _, p := range pairFields(before.Fields, after.Fields) {
		switch {
		case p.before == nil:
			entries = append(entries, entry{lines: fieldBlock("+", p.path, oneField(*p.after, "+", true))})
		case p.after == nil:
			entries = append(entries, entry{lines: fieldBlock("-", p.path, oneField(*p.before, "-", false))})
		default:
			ls, changed := fieldDiff(*p.before, *p.after)
			mark := ""
			if changed {
				mark = "~"
			} else {
				unchanged++
			}
			entries = append(entries, entry{lines: fieldBlock(mark, p.path, ls), unchanged: !changed})
		}
	}
	hide := unchanged > maxUnchangedFields
	for _, e := range entries {
		if !(hide && e.unchanged) {
			out = append(out, e.lines...)
		}
	}
	if hide {
		out = append(out, line{attrIndent, "", fmt.Sprintf("# (%d unchanged fields hidden)", unchanged)})
	}
	return out
}

// fieldBlock wraps a field's attributes in `field "path" { ... }`.
func fieldBlock(mark, path string, attrs []line) []line {
	out := []line{{attrIndent, mark, labels("field", path) + " {"}}
	out = append(out, attrs...)
	return append(out, line{attrIndent, "", "}"})
}

// oneField lists a field's attributes, each with the same mark. isAfter
// says the field is what will be written, where a key without an id yet is
// one this plan creates.
func oneField(f docField, mark string, isAfter bool) []line {
	var a attrs
	if f.BSONType != "" {
		a.add(mark, "bson_type", strconv.Quote(f.BSONType))
	}
	if f.Algorithm != "" {
		a.add(mark, "algorithm", strconv.Quote(f.Algorithm))
	}
	a.add(mark, "data_key", keyRef(f.DataKey, f.KeyID, isAfter))
	for _, q := range f.Queries {
		a.add(mark, "query", query(q))
	}
	return a.linesAt(elemIndent)
}

// fieldDiff lists a field's attributes with what changes marked, and
// reports whether anything does.
func fieldDiff(b, a docField) ([]line, bool) {
	var at attrs
	changed := false
	scalar := func(name, bv, av string) {
		switch {
		case bv == av:
			if av != "" {
				at.add("", name, av)
			}
			return
		case bv == "":
			at.add("+", name, av)
		case av == "":
			at.add("-", name, bv)
		default:
			at.add("~", name, bv+" -> "+av)
		}
		changed = true
	}
	scalar("bson_type", quoteSet(b.BSONType), quoteSet(a.BSONType))
	scalar("algorithm", quoteSet(b.Algorithm), quoteSet(a.Algorithm))
	// The same key block is the same key unless both sides know an id and
	// the ids differ (the key was created again); a side that does not know
	// the id yet is not a change.
	if b.DataKey == a.DataKey && (b.KeyID == "" || a.KeyID == "" || b.KeyID == a.KeyID) {
		id := a.KeyID
		if id == "" {
			id = b.KeyID
		}
		at.add("", "data_key", keyRef(a.DataKey, id, true))
	} else {
		at.add("~", "data_key", keyRef(b.DataKey, b.KeyID, false)+" -> "+keyRef(a.DataKey, a.KeyID, true))
		changed = true
	}
	bq, aq := queries(b), queries(a)
	switch {
	case slices.Equal(bq, aq):
		for _, q := range aq {
			at.add("", "query", q)
		}
	case len(bq) == 1 && len(aq) == 1:
		at.add("~", "query", bq[0]+" -> "+aq[0])
		changed = true
	default:
		was, is := set(bq), set(aq)
		for _, q := range aq {
			mark := ""
			if !was[q] {
				mark = "+"
			}
			at.add(mark, "query", q)
		}
		for _, q := range bq {
			if !is[q] {
				at.add("-", "query", q)
			}
		}
		changed = true
	}
	return at.linesAt(elemIndent), changed
}

func quoteSet(s string) string {
	if s == "" {
		return ""
	}
	return strconv.Quote(s)
}

// keyRef names the key a field uses: its block and, once the key exists,
// its id, which is what the schema written to the server holds.
func keyRef(addr, id string, isAfter bool) string {
	s := clean(addr)
	switch {
	case id != "":
		return s + " (id " + clean(id) + ")"
	case isAfter:
		return s + " (known after apply)"
	}
	return s
}

func queries(f docField) []string {
	out := make([]string, len(f.Queries))
	for i, q := range f.Queries {
		out[i] = query(q)
	}
	return out
}

// query draws a Queryable Encryption query as a call: `equality`,
// `range(min=0, max=100, contention=8)`. Bounds are shown as the
// configuration wrote them.
func query(q model.Query) string {
	var args []string
	str := func(name, v string) {
		if v != "" {
			args = append(args, name+"="+clean(v))
		}
	}
	num := func(name string, v *int64) {
		if v != nil {
			args = append(args, name+"="+strconv.FormatInt(*v, 10))
		}
	}
	str("min", q.Min)
	str("max", q.Max)
	num("contention", q.Contention)
	num("sparsity", q.Sparsity)
	num("precision", q.Precision)
	num("trim_factor", q.TrimFactor)
	s := clean(q.Type)
	if len(args) > 0 {
		s += "(" + strings.Join(args, ", ") + ")"
	}
	return s
}

func sortedFields(fields []docField) []docField {
	out := slices.Clone(fields)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// fieldPair is one path of a collection change, on either side or both.
type fieldPair struct {
	path          string
	before, after *docField
}

// pairFields matches the fields of both sides by path, in path order.
func pairFields(before, after []docField) []fieldPair {
	byPath := map[string]*fieldPair{}
	var paths []string
	get := func(path string) *fieldPair {
		p, ok := byPath[path]
		if !ok {
			p = &fieldPair{path: path}
			byPath[path] = p
			paths = append(paths, path)
		}
		return p
	}
	for i := range before {
		get(before[i].Path).before = &before[i]
	}
	for i := range after {
		get(after[i].Path).after = &after[i]
	}
	sort.Strings(paths)
	out := make([]fieldPair, len(paths))
	for i, p := range paths {
		out[i] = *byPath[p]
	}
	return out
}

// collectionHeadline says what a change does to the collection on the
// server, which depends on its mode: a validator is written with create or
// collMod, a schemaMap is never written to the server, and encryptedFields
// are fixed when the collection is created.
func collectionHeadline(c docChange, before, after *docCollection) string {
	a, ok := action(c.Action)
	if !ok {
		return headline(c)
	}
	addr := c.Address
	m := mode(before, after)
	switch a {
	case plan.Create:
		switch m {
		case model.ModeValidator:
			return addr + " will be created with a $jsonSchema validator that requires its fields to be encrypted"
		case model.ModeQueryable:
			return addr + " will be created with encryptedFields (Queryable Encryption), which cannot change once the collection exists"
		case model.ModeSchemaMap:
			return addr + " will be added to the state and the exported schemaMap only; nothing is written to the server"
		}
		return addr + " will be created"
	case plan.Update:
		switch {
		case before != nil && before.Mode == model.ModeValidator && m != model.ModeValidator:
			return addr + " will be updated: the encrypt keywords are removed from its validator (collMod), and only the exported schemaMap remains"
		case m == model.ModeValidator && before != nil && before.Mode != model.ModeValidator:
			return addr + " will be updated: a $jsonSchema validator that requires its fields to be encrypted is set (collMod)"
		case m == model.ModeValidator:
			return addr + " will be updated: its $jsonSchema validator changes (collMod)"
		case m == model.ModeSchemaMap:
			return addr + " will be updated in the state and the exported schemaMap only; nothing is written to the server"
		}
		return addr + " will be updated in place"
	case plan.Delete:
		switch m {
		case model.ModeValidator:
			return addr + " will no longer be enforced: the encrypt keywords are removed from its validator (collMod); the collection and its data stay"
		case model.ModeQueryable:
			return addr + " will no longer be managed: its encryptedFields and its data stay (MongoDB cannot remove encryptedFields)"
		case model.ModeSchemaMap:
			return addr + " will be removed from the state and the exported schemaMap; nothing on the server changes"
		}
		return addr + " will no longer be managed; the collection and its data stay"
	case plan.Replace:
		if m == model.ModeQueryable {
			return addr + " will be replaced: encryptedFields cannot change after creation, so the empty collection is dropped and created again (csfle refuses one that holds documents)"
		}
		return addr + " will be replaced: the empty collection is dropped and created again"
	case plan.Adopt:
		return addr + " will be adopted into state (nothing is written to the server)"
	}
	return headline(c)
}

// collectionDetails is the Markdown table's summary of a collection change:
// the mode, how many fields change, and what reaches the server.
func collectionDetails(c docChange) string {
	before, after := collSides(c)
	a, _ := action(c.Action)
	var parts []string
	if a == plan.Replace {
		parts = append(parts, "**dropped while empty and created again**")
	}
	switch {
	case before != nil && after != nil && before.Mode != after.Mode:
		parts = append(parts, "mode "+code(before.Mode)+" → "+code(after.Mode))
	case before != nil || after != nil:
		parts = append(parts, "mode "+code(mode(before, after)))
	}
	switch {
	case before != nil && after != nil:
		parts = append(parts, fieldCounts(before.Fields, after.Fields))
	case before != nil:
		parts = append(parts, plural(len(before.Fields), "field"))
	case after != nil:
		parts = append(parts, plural(len(after.Fields), "field"))
	}
	if e := serverEffect(a, before, after); e != "" {
		parts = append(parts, e)
	}
	return strings.Join(parts, "; ")
}

// fieldCounts says how the fields change: "2 fields added, 1 changed".
func fieldCounts(before, after []docField) string {
	var added, changed, removed int
	for _, p := range pairFields(before, after) {
		switch {
		case p.before == nil:
			added++
		case p.after == nil:
			removed++
		default:
			if _, diff := fieldDiff(*p.before, *p.after); diff {
				changed++
			}
		}
	}
	var out []string
	for _, n := range []struct {
		count int
		verb  string
	}{{added, "added"}, {changed, "changed"}, {removed, "removed"}} {
		if n.count == 0 {
			continue
		}
		if len(out) == 0 {
			out = append(out, plural(n.count, "field")+" "+n.verb)
		} else {
			out = append(out, fmt.Sprintf("%d %s", n.count, n.verb))
		}
	}
	if len(out) == 0 {
		return "fields unchanged"
	}
	return strings.Join(out, ", ")
}

// serverEffect says in a few words what the change writes to the server.
func serverEffect(a plan.Action, before, after *docCollection) string {
	m := mode(before, after)
	switch a {
	case plan.Create:
		switch m {
		case model.ModeValidator:
			return "created with a " + code("$jsonSchema") + " validator"
		case model.ModeQueryable:
			return "created with " + code("encryptedFields")
		}
	case plan.Update:
		switch {
		case before != nil && before.Mode == model.ModeValidator && m != model.ModeValidator:
			return "encrypt keywords removed with " + code("collMod")
		case m == model.ModeValidator && before != nil && before.Mode != model.ModeValidator:
			return "validator set with " + code("collMod")
		case m == model.ModeValidator:
			return "validator changed with " + code("collMod")
		}
	case plan.Delete:
		switch m {
		case model.ModeValidator:
			return "encrypt keywords removed with " + code("collMod") + "; collection and data stay"
		case model.ModeQueryable:
			return code("encryptedFields") + " and data stay"
		}
	case plan.Replace:
		return ""
	case plan.Adopt:
		return "nothing written to the server"
	}
	if m == model.ModeSchemaMap {
		return "nothing written to the server"
	}
	return ""
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
