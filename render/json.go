package render

import (
	"fmt"
	"io"

	"github.com/csfle/csfle/plan"
)

// JSON writes the plan's own JSON document (format_version "1.0"), indented,
// with a trailing newline. It is the same document Human and Markdown are
// drawn from, so tools in CI read what people read.
func JSON(w io.Writer, p *plan.Plan) error {
	b, err := encode(p)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("render: write plan: %w", err)
	}
	return nil
}
