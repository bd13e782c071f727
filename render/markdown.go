package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/csfle/csfle/plan"
)

// Markdown writes the plan for a pull request comment: a summary and a table
// a reviewer takes in at a glance, drift and warnings, and then each change
// in a ```diff block, which GitHub colours (+ green, - red, ! orange).
func Markdown(w io.Writer, p *plan.Plan) error {
	d, err := load(p)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	m := markdown{w: bw}
	m.document(d)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render: write plan: %w", err)
	}
	return nil
}

type markdown struct{ w *bufio.Writer }

func (m markdown) println(s string) {
	m.w.WriteString(s)
	m.w.WriteByte('\n')
}

func (m markdown) document(d *document) {
	m.println("### csfle plan")
	m.println("")
	if d.Basis.Namespace != "" {
		m.println("Key vault: " + inlineCode(d.Basis.Namespace))
		m.println("")
	}
	if len(d.Changes) == 0 {
		m.println("**" + noChanges + "** " + noChangesRest)
	} else {
		m.println("**Plan: " + planCounts(counts(d.Changes)) + "**")
		m.println("")
		m.table(d.Changes)
	}
	if len(d.Drift) > 0 {
		m.println("")
		m.drift(d.Drift)
	}
	for _, w := range d.Warnings {
		m.println("")
		m.warning(w)
	}
	if len(d.Changes) > 0 {
		m.println("")
		m.details(d)
	}
}

func (m markdown) table(changes []docChange) {
	m.println("| | Address | Action | Key id | Details |")
	m.println("|:-:|---|---|---|---|")
	for _, c := range changes {
		act := text(c.Action)
		if a, ok := action(c.Action); ok && (a == plan.Delete || a == plan.Replace) {
			act = "**" + act + "**"
		}
		m.row(text(symbol(c.Action)), code(c.Address), act, keyIDCell(c), changeDetails(c))
	}
}

func (m markdown) drift(drift []docDrift) {
	m.println("#### " + strings.TrimSuffix(driftHeading, ":"))
	m.println("")
	m.println(driftNotPlanned)
	m.println("")
	m.println("| | Address | Kind | Details |")
	m.println("|:-:|---|---|---|")
	for _, d := range drift {
		m.row(text(driftSymbol(d.Kind)), code(d.Address), text(d.Kind), text(d.Detail))
	}
}

func (m markdown) row(cells ...string) {
	m.println("| " + strings.Join(cells, " | ") + " |")
}

func (m markdown) warning(w string) {
	for i, l := range lines(w) {
		if i == 0 {
			m.println("> **Warning:** " + escape(l))
			continue
		}
		m.println("> " + escape(l))
	}
}

// details writes each change as a diff block, marks at the start of the line
// where GitHub's highlighting finds them.
func (m markdown) details(d *document) {
	m.println("#### Details")
	for _, c := range d.Changes {
		b := changeBlock(c, d.Basis.Namespace)
		body := []string{"# " + clean(b.headline)}
		for _, n := range b.notes {
			body = append(body, "# "+n)
		}
		for _, l := range b.body {
			body = append(body, diffMark(l.mark)+" "+strings.Repeat(" ", l.indent)+l.text)
		}
		fence := fenceFor(body)
		m.println("")
		m.println(fence + "diff")
		for _, l := range body {
			m.println(l)
		}
		m.println(fence)
	}
}

// diffMark maps a mark to the one character GitHub's diff highlighting
// knows: + added, - removed, ! changed. Adoption writes nothing, so it gets
// no colour ("<" would be shown as a removal).
func diffMark(mark string) string {
	switch mark {
	case "+", "-":
		return mark
	case "", "<=":
		return " "
	}
	return "!"
}

// fenceFor returns a code fence longer than any run of backticks in body.
func fenceFor(body []string) string {
	n := 3
	for _, l := range body {
		n = max(n, longestRun(l, '`')+1)
	}
	return strings.Repeat("`", n)
}

func keyIDCell(c docChange) string {
	if isCollection(c.Address) {
		return "" // a collection's fields name their keys in Details
	}
	for _, k := range []*docKey{c.Before, c.After} {
		if k != nil && k.ID != "" {
			return code(k.ID)
		}
	}
	if a, _ := action(c.Action); a == plan.Create && !isIndex(c.Address) {
		return "_known after apply_"
	}
	return ""
}

// changeDetails says in a few words what a change does to a key: what
// changes when there are both sides, the key itself when there is one.
func changeDetails(c docChange) string {
	if isCollection(c.Address) {
		return collectionDetails(c)
	}
	if isIndex(c.Address) {
		return "unique index on " + code("keyAltNames") + ", partial: " + code("{ keyAltNames: { $exists: true } }")
	}
	b, a := c.Before, c.After
	switch {
	case b == nil && a == nil:
		return ""
	case b == nil || a == nil:
		k := b
		if k == nil {
			k = a
		}
		return "master key " + code(k.MasterKey.String()) + "; alt names " + codes(k.AltNames)
	}
	var parts []string
	if !b.MasterKey.Equal(a.MasterKey) {
		parts = append(parts, "master key "+code(b.MasterKey.String())+" → "+code(a.MasterKey.String()))
	}
	if !sameNames(b.AltNames, a.AltNames) {
		var names []string
		for _, n := range diffNames(b.AltNames, a.AltNames) {
			if n.mark != "" {
				names = append(names, n.mark+code(n.name))
			}
		}
		parts = append(parts, "alt names "+strings.Join(names, " "))
	}
	if b.PreventDestroy != a.PreventDestroy {
		parts = append(parts, fmt.Sprintf("prevent_destroy %s → %s", code(fmt.Sprint(b.PreventDestroy)), code(fmt.Sprint(a.PreventDestroy))))
	}
	if len(parts) == 0 {
		return "master key " + code(a.MasterKey.String())
	}
	return strings.Join(parts, "; ")
}

func codes(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = code(s)
	}
	return strings.Join(out, ", ")
}

// code writes s as an inline code span that is safe in a table cell, where
// GitHub needs | escaped even inside code.
func code(s string) string { return inlineCode(strings.ReplaceAll(s, "|", `\|`)) }

// inlineCode writes s as an inline code span whose fence is longer than any
// run of backticks inside.
func inlineCode(s string) string {
	s = clean(s)
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// text escapes s for a table cell or a paragraph: the characters that would
// end a cell, open code, emphasis, a link or HTML are backslash-escaped.
func text(s string) string { return escape(strings.Join(lines(s), " ")) }

func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`|*_<>[]", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func longestRun(s string, c byte) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}
