package render

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/csfle/csfle/plan"
)

// ApplyEvent is one step of an apply as the executor reports it.
type ApplyEvent struct {
	Addr    string        // "data_key.ssn"
	Action  string        // a plan.Action name: "create", "rewrap", ...
	Phase   string        // "start", "done" or "failed"
	KeyID   string        // the key's id, once known
	Elapsed time.Duration // time since start, for "done" and "failed"
	Err     string        // why it failed
}

// Phases of an ApplyEvent.
const (
	PhaseStart  = "start"
	PhaseDone   = "done"
	PhaseFailed = "failed"
)

// ApplyLine writes one progress line of an apply:
//
//	data_key.ssn: Creating...
//	data_key.ssn: Creation complete after 0.4s [id=3f2a9c1e-...]
//	data_key.ssn: Error: ...
//
// Progress is best effort: a failed write is not the apply's failure, so it
// is not reported.
func ApplyLine(w io.Writer, e ApplyEvent, o Options) {
	pal := palette{on: o.Color}
	prefix := pal.bold(clean(e.Addr) + ":")
	doing, done := applyVerbs(e.Action)
	var s string
	switch e.Phase {
	case PhaseStart:
		s = prefix + " " + doing + "..."
	case PhaseDone:
		s = prefix + " " + done + " complete after " + elapsed(e.Elapsed)
		if e.KeyID != "" {
			s += " [id=" + clean(e.KeyID) + "]"
		}
	case PhaseFailed:
		msg := e.Err
		if msg == "" {
			msg = doing + " failed after " + elapsed(e.Elapsed)
		}
		ls := lines(msg)
		s = prefix + " " + pal.paint("Error:", ansiBold, ansiRed) + " " + ls[0]
		for _, l := range ls[1:] {
			s += "\n    " + l
		}
	default:
		s = prefix + " " + clean(e.Phase)
	}
	_, _ = io.WriteString(w, s+"\n")
}

// ApplySummary writes the last line of a successful apply.
func ApplySummary(w io.Writer, s plan.Summary, o Options) {
	past := map[plan.Action]string{plan.Create: "created", plan.Rewrap: "rewrapped", plan.Update: "updated",
		plan.Delete: "deleted", plan.Replace: "replaced", plan.Adopt: "adopted"}
	parts := summaryParts(s, func(a plan.Action) string { return past[a] })
	line := "Apply complete! Resources: " + strings.Join(parts, ", ") + "."
	_, _ = io.WriteString(w, palette{on: o.Color}.paint(line, ansiBold, ansiGreen)+"\n")
}

// applyVerbs names an action in progress ("Creating") and done ("Creation").
func applyVerbs(name string) (doing, done string) {
	a, ok := action(name)
	if !ok {
		return "Applying " + clean(name), "Apply of " + clean(name)
	}
	switch a {
	case plan.Create:
		return "Creating", "Creation"
	case plan.Update:
		return "Updating", "Update"
	case plan.Rewrap:
		return "Rewrapping", "Rewrap"
	case plan.Delete:
		return "Deleting", "Deletion"
	case plan.Replace:
		return "Replacing", "Replacement"
	case plan.Adopt:
		return "Adopting", "Adoption"
	}
	return "Checking", "Check"
}

// elapsed is a duration as people read it: tenths of a second under a
// minute ("0.4s"), whole seconds above ("2m5s").
func elapsed(d time.Duration) string {
	d = max(d, 0)
	if d < time.Minute {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	return d.Round(time.Second).String()
}
