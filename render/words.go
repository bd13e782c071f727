package render

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/csfle/csfle/plan"
)

// headline is what the comment above a change says will happen to it.
func headline(c docChange) string {
	a, ok := action(c.Action)
	if !ok {
		return c.Address + " will be changed (" + c.Action + ")"
	}
	switch a {
	case plan.Create:
		return c.Address + " will be created"
	case plan.Update:
		return c.Address + " will be updated in place"
	case plan.Rewrap:
		// The point users most need to hear: rewrapping keeps the key
		// material and the _id, so nothing encrypted with it is lost and no
		// schema has to change.
		return c.Address + " will be rewrapped under a new master key (same id and key material; data encrypted with it stays readable)"
	case plan.Delete:
		return c.Address + " will be deleted"
	case plan.Replace:
		return c.Address + " will be replaced (deleted, then created)"
	case plan.Adopt:
		return c.Address + " will be adopted into state (the key vault is not changed)"
	}
	return c.Address + " is unchanged"
}

// driftHeadline says what happened to an object outside csfle.
func driftHeadline(d docDrift) string {
	switch d.Kind {
	case "deleted", "rewrapped", "renamed", "edited":
		return d.Address + " was " + d.Kind + " outside csfle"
	}
	return d.Address + " was changed outside csfle (" + d.Kind + ")"
}

// driftSymbol is the mark a drift entry is drawn with.
func driftSymbol(kind string) string {
	if kind == "deleted" {
		return plan.Delete.Symbol()
	}
	return plan.Update.Symbol()
}

// legendName explains a symbol in the legend above the changes. A
// collection is replaced by recreating it, which leaves its documents
// behind, so the legend does not call that "delete, then create".
func legendName(a plan.Action, changes []docChange) string {
	switch a {
	case plan.Update:
		return "update in place"
	case plan.Rewrap:
		return "rewrap (same key, new master key)"
	case plan.Replace:
		var keys, colls bool
		for _, c := range changes {
			if ca, ok := action(c.Action); ok && ca == plan.Replace {
				if isCollection(c.Address) {
					colls = true
				} else {
					keys = true
				}
			}
		}
		switch {
		case colls && keys:
			return "delete, then create (a collection: dropped while empty, created again)"
		case colls:
			return "drop while empty, create again"
		}
		return "delete, then create"
	case plan.Adopt:
		return "adopt into state (nothing written to the key vault)"
	}
	return a.String()
}

// legend lists, in a fixed order, the actions the changes use.
func legend(changes []docChange) []plan.Action {
	used := map[plan.Action]bool{}
	for _, c := range changes {
		if a, ok := action(c.Action); ok {
			used[a] = true
		}
	}
	var out []plan.Action
	for _, a := range [...]plan.Action{plan.Create, plan.Update, plan.Rewrap, plan.Delete, plan.Replace, plan.Adopt} {
		if used[a] {
			out = append(out, a)
		}
	}
	return out
}

// tally counts the document's changes as plan.Summarize would, but from
// the document, which is all the views may look at, and with the changes
// to collections apart from those to the key vault.
type tally struct {
	keys, collections plan.Summary
	hasCollections    bool
}

func counts(changes []docChange) tally {
	var t tally
	for _, c := range changes {
		s := &t.keys
		if isCollection(c.Address) {
			s, t.hasCollections = &t.collections, true
		}
		a, _ := action(c.Action)
		switch a {
		case plan.Create:
			s.Create++
		case plan.Update:
			s.Update++
		case plan.Rewrap:
			s.Rewrap++
		case plan.Delete:
			s.Delete++
		case plan.Replace:
			s.Replace++
		case plan.Adopt:
			s.Adopt++
		}
	}
	return t
}

// planCounts is the body of the "Plan:" line. Replace is rare (data keys are
// rewrapped, not replaced) so it is only mentioned when it happens. Changes
// to collections are counted in a sentence of their own, after the key
// vault's, so that a plan of keys alone reads as it always has and "1 to
// delete" never leaves the reader wondering whether a key goes.
// summaryParts counts a summary's key actions in the order every view uses
// ("2 to create", "2 created"); replace appears only when there is one.
func summaryParts(s plan.Summary, word func(plan.Action) string) []string {
	part := func(n int, a plan.Action) string { return fmt.Sprintf("%d %s", n, word(a)) }
	parts := []string{part(s.Create, plan.Create), part(s.Rewrap, plan.Rewrap), part(s.Update, plan.Update), part(s.Delete, plan.Delete)}
	if s.Replace > 0 {
		parts = append(parts, part(s.Replace, plan.Replace))
	}
	return append(parts, part(s.Adopt, plan.Adopt))
}

func planCounts(t tally) string {
	parts := summaryParts(t.keys, func(a plan.Action) string { return "to " + a.String() })
	out := strings.Join(parts, ", ") + "."
	if !t.hasCollections {
		return out
	}
	// Collections are never rewrapped; they are adopted, and replaced only
	// in Queryable Encryption, so those two are said when they happen.
	s := t.collections
	parts = []string{
		fmt.Sprintf("%d to create", s.Create),
		fmt.Sprintf("%d to update", s.Update),
		fmt.Sprintf("%d to delete", s.Delete),
	}
	if s.Replace > 0 {
		parts = append(parts, fmt.Sprintf("%d to replace", s.Replace))
	}
	if s.Adopt > 0 {
		parts = append(parts, fmt.Sprintf("%d to adopt", s.Adopt))
	}
	return out + " Collections: " + strings.Join(parts, ", ") + "."
}

const (
	noChanges       = "No changes."
	noChangesRest   = "The key vault matches the configuration."
	driftHeading    = "Changes outside csfle since the last apply:"
	driftNotPlanned = "These are not planned changes: they were made outside csfle, and this plan starts from the key vault as it is now."
)

// clean makes a string safe to print on one line: anything that is not a
// printable character (terminal escapes, newlines, bidi overrides) is
// written as its Go escape instead. Callers split multi-line text first.
func clean(s string) string {
	if !strings.ContainsFunc(s, unsafeRune) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unsafeRune(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unsafeRune(r rune) bool { return !strconv.IsPrint(r) }

// lines splits text on newlines and cleans each line.
func lines(s string) []string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, p := range parts {
		parts[i] = clean(strings.TrimSuffix(p, "\r"))
	}
	return parts
}
