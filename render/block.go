package render

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/csfle/csfle/plan"
)

// A block is one change or drift entry as both text views draw it: comment
// lines (the first is the headline), then the object with its attributes.
// Human draws the marks in a column as Terraform does; Markdown moves them
// to the start of the line, where GitHub's diff highlighting looks.
type block struct {
	headline string
	// danger draws the headline in red: the change costs more than its
	// symbol says (a collection recreated, its data to be migrated).
	danger bool
	notes  []string
	body   []line
}

// A line of a block's body: indent spaces, a mark column three runes wide,
// a space, then the text.
type line struct {
	indent int
	mark   string // an action symbol, an attribute's +, - or ~, or ""
	text   string
}

const (
	objectIndent = 0
	attrIndent   = 4
	elemIndent   = 8
)

func changeBlock(c docChange, namespace string) block {
	if isCollection(c.Address) {
		return collectionBlock(c)
	}
	b := block{headline: headline(c), notes: notes(c.Reason)}
	sym := symbol(c.Action)
	if isIndex(c.Address) {
		b.body = indexBody(c, sym, namespace)
		return b
	}
	a, _ := action(c.Action)
	oneSided := ""
	switch a {
	case plan.Create:
		oneSided = plan.Create.Symbol()
	case plan.Delete:
		oneSided = plan.Delete.Symbol()
	}
	b.body = object(objectHead(c.Address), sym, keyAttrs(c.Before, c.After, oneSided))
	return b
}

func driftBlock(d docDrift) block {
	oneSided := ""
	if d.Kind == "deleted" {
		oneSided = plan.Delete.Symbol()
	}
	return block{
		headline: driftHeadline(d),
		notes:    notes(d.Detail),
		body:     object(objectHead(d.Address), driftSymbol(d.Kind), keyAttrs(d.Before, d.After, oneSided)),
	}
}

func notes(s string) []string {
	if s == "" {
		return nil
	}
	return lines(s)
}

// objectHead is how an address opens its block: `data_key "ssn"`, and
// `collection "medical" "patients"` for a collection, whose block in the
// configuration has two labels. A database name cannot hold a dot, so the
// first dot of the name ends it.
func objectHead(addr string) string {
	typ, name := splitAddr(addr)
	if typ == collectionType {
		if db, coll, ok := strings.Cut(name, "."); ok {
			return labels(typ, db, coll)
		}
	}
	if name == "" {
		return clean(typ)
	}
	return labels(typ, name)
}

// labels writes a block's type and its quoted labels.
func labels(typ string, names ...string) string {
	s := clean(typ)
	for _, n := range names {
		s += " " + strconv.Quote(n)
	}
	return s
}

// object wraps attribute lines in `head { ... }`.
func object(head, sym string, attrs []line) []line {
	if len(attrs) == 0 {
		return []line{{objectIndent, sym, head}}
	}
	out := []line{{objectIndent, sym, head + " {"}}
	out = append(out, attrs...)
	return append(out, line{objectIndent, "", "}"})
}

// indexBody describes the keyAltNames index MongoDB requires in the key
// vault (unique, partial on documents that have alt names). The change
// carries no fields for it: the index is the same in every deployment.
func indexBody(c docChange, sym, namespace string) []line {
	mark := ""
	switch sym {
	case plan.Create.Symbol(), plan.Delete.Symbol():
		mark = sym
	}
	var a attrs
	if namespace != "" {
		a.add(mark, "collection", strconv.Quote(namespace))
	}
	a.add(mark, "keys", "{ keyAltNames: 1 }")
	a.add(mark, "unique", "true")
	a.add(mark, "partialFilterExpression", "{ keyAltNames: { $exists: true } }")
	return append([]line{{objectIndent, sym, "index on keyAltNames {"}}, append(a.lines(), line{objectIndent, "", "}"})...)
}

// keyAttrs lists a data key's attributes. With both sides it marks what
// changes with ~ (and alt names one by one with + and -); with one side every
// attribute gets the oneSided mark: + for a create, - for a delete, none
// for an adoption, which writes nothing.
func keyAttrs(before, after *docKey, oneSided string) []line {
	var a attrs
	switch {
	case before == nil && after == nil:
		return nil
	case before == nil || after == nil:
		k := before
		if k == nil {
			k = after
		}
		switch {
		case k.ID != "":
			a.add(oneSided, "id", strconv.Quote(k.ID))
		case oneSided == plan.Create.Symbol():
			a.add(oneSided, "id", "(known after apply)")
		}
		a.add(oneSided, "alt_names", list(k.AltNames))
		a.add(oneSided, "master_key", clean(k.MasterKey.String()))
		if k.PreventDestroy {
			a.add(oneSided, "prevent_destroy", "true")
		}
	default:
		// An existing key keeps its id; the after side may leave it out.
		switch {
		case before.ID != "" && after.ID != "" && before.ID != after.ID:
			a.add("~", "id", strconv.Quote(before.ID)+" -> "+strconv.Quote(after.ID))
		case before.ID != "":
			a.add("", "id", strconv.Quote(before.ID))
		case after.ID != "":
			a.add("", "id", strconv.Quote(after.ID))
		}
		if sameNames(before.AltNames, after.AltNames) {
			a.add("", "alt_names", list(after.AltNames))
		} else {
			a.addList("~", "alt_names", mergeNames(before.AltNames, after.AltNames))
		}
		if before.MasterKey.Equal(after.MasterKey) {
			a.add("", "master_key", clean(after.MasterKey.String()))
		} else {
			a.add("~", "master_key", clean(before.MasterKey.String())+" -> "+clean(after.MasterKey.String()))
		}
		switch {
		case before.PreventDestroy != after.PreventDestroy:
			a.add("~", "prevent_destroy", fmt.Sprintf("%t -> %t", before.PreventDestroy, after.PreventDestroy))
		case after.PreventDestroy:
			a.add("", "prevent_destroy", "true")
		}
	}
	return a.lines()
}

// attrs collects `name = value` lines and aligns their = signs.
type attrs struct{ items []attr }

type attr struct {
	mark, name, value string
	elems             []line // a list drawn one element per line
}

func (a *attrs) add(mark, name, value string) {
	a.items = append(a.items, attr{mark: mark, name: name, value: value})
}

func (a *attrs) addList(mark, name string, elems []line) {
	a.items = append(a.items, attr{mark: mark, name: name, value: "[", elems: elems})
}

func (a *attrs) lines() []line { return a.linesAt(attrIndent) }

// linesAt draws the attributes at an indent: attrIndent for an object's
// own, elemIndent for those of a block nested in it.
func (a *attrs) linesAt(indent int) []line {
	width := 0
	for _, it := range a.items {
		width = max(width, utf8.RuneCountInString(it.name))
	}
	var out []line
	for _, it := range a.items {
		out = append(out, line{indent, it.mark, fmt.Sprintf("%-*s = %s", width, it.name, it.value)})
		if it.elems != nil {
			out = append(out, it.elems...)
			out = append(out, line{indent, "", "]"})
		}
	}
	return out
}

// list draws alt names inline: ["a", "b"].
func list(names []string) string {
	s := "["
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += strconv.Quote(n)
	}
	return s + "]"
}

// nameDiff is one alt name of an update: mark is + if it is added, - if it
// is removed, and empty if it stays.
type nameDiff struct{ mark, name string }

// diffNames lists the alt names of both sides in name order.
func diffNames(before, after []string) []nameDiff {
	old, cur := set(before), set(after)
	all := make([]string, 0, len(old)+len(cur))
	for n := range old {
		all = append(all, n)
	}
	for n := range cur {
		if !old[n] {
			all = append(all, n)
		}
	}
	sort.Strings(all)
	out := make([]nameDiff, 0, len(all))
	for _, n := range all {
		d := nameDiff{name: n}
		switch {
		case !old[n]:
			d.mark = "+"
		case !cur[n]:
			d.mark = "-"
		}
		out = append(out, d)
	}
	return out
}

// mergeNames draws diffNames one element a line.
func mergeNames(before, after []string) []line {
	var out []line
	for _, d := range diffNames(before, after) {
		out = append(out, line{elemIndent, d.mark, strconv.Quote(d.name) + ","})
	}
	return out
}

func set(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// sameNames compares alt names as sets: their order means nothing.
func sameNames(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}
