package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/csfle/csfle/plan"
)

// Human writes the plan as people read it in a terminal or a CI log, in the
// manner of `terraform plan`: drift first, then each change in plan order
// with its reason, then the summary, then warnings.
func Human(w io.Writer, p *plan.Plan, o Options) error {
	d, err := load(p)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	h := human{w: bw, pal: palette{on: o.Color}}
	h.document(d)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render: write plan: %w", err)
	}
	return nil
}

type human struct {
	w   *bufio.Writer
	pal palette
}

// println writes one line. A bufio.Writer keeps its first error and Flush
// reports it, so the writes themselves need no checks.
func (h human) println(s string) {
	h.w.WriteString(s)
	h.w.WriteByte('\n')
}

func (h human) document(d *document) {
	if len(d.Drift) > 0 {
		h.drift(d.Drift)
		h.println("")
	}
	if len(d.Changes) == 0 {
		h.println(h.pal.paint(noChanges, ansiBold, ansiGreen) + " " + h.pal.bold(noChangesRest))
	} else {
		h.changes(d)
	}
	for _, w := range d.Warnings {
		h.println("")
		h.warning(w)
	}
}

func (h human) drift(drift []docDrift) {
	h.println(h.pal.bold(driftHeading))
	for _, d := range drift {
		h.println("")
		h.block(driftBlock(d))
	}
	h.println("")
	h.println(driftNotPlanned)
}

func (h human) changes(d *document) {
	h.println("Actions are shown with these symbols:")
	for _, a := range legend(d.Changes) {
		h.println(h.pal.mark(a.Symbol()) + " " + legendName(a, d.Changes))
	}
	h.println("")
	h.println("csfle will perform the following actions:")
	for _, c := range d.Changes {
		h.println("")
		h.block(changeBlock(c, d.Basis.Namespace))
	}
	h.println("")
	h.println(h.pal.bold("Plan:") + " " + planCounts(counts(d.Changes)))
}

func (h human) block(b block) {
	if b.danger {
		h.println("  " + h.pal.paint("# "+clean(b.headline), ansiBold, ansiRed))
	} else {
		h.println("  " + h.pal.bold("# "+clean(b.headline)))
	}
	for _, n := range b.notes {
		h.println("  # " + n)
	}
	for _, l := range b.body {
		h.println(strings.Repeat(" ", l.indent) + h.pal.mark(l.mark) + " " + l.text)
	}
}

// warning writes "Warning: " and the text, later lines indented under the
// first so a long warning still reads as one.
func (h human) warning(w string) {
	const prefix = "Warning: "
	for i, l := range lines(w) {
		if i == 0 {
			h.println(h.pal.paint(prefix, ansiBold, ansiYellow) + l)
			continue
		}
		h.println(strings.Repeat(" ", len(prefix)) + l)
	}
}
