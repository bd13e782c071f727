package render

import (
	"bytes"
	"errors"
	"go/parser"
	"go/token"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
)

func TestRefusesOtherFormatVersions(t *testing.T) {
	for _, v := range []string{"", "2.0", "0.9"} {
		p := &plan.Plan{FormatVersion: v}
		for name, view := range views() {
			err := view(&bytes.Buffer{}, p)
			if err == nil || !strings.Contains(err.Error(), "format") {
				t.Errorf("%s of format_version %q: err = %v, want a format version error", name, v, err)
			}
		}
	}
	for name, view := range views() {
		if err := view(&bytes.Buffer{}, nil); err == nil {
			t.Errorf("%s of a nil plan: no error", name)
		}
	}
	// A later minor version only adds fields: still readable.
	if err := Human(&bytes.Buffer{}, &plan.Plan{FormatVersion: "1.7"}, Options{}); err != nil {
		t.Errorf("format_version 1.7: %v", err)
	}
}

func TestWriteErrorsAreReported(t *testing.T) {
	p := &plan.Plan{FormatVersion: plan.FormatVersion}
	for name, view := range views() {
		if err := view(failingWriter{}, p); !errors.Is(err, errWrite) {
			t.Errorf("%s: err = %v, want the writer's error", name, err)
		}
	}
}

// Alt names, master key fields and reasons can come from a key vault
// someone else writes to; none of them may reach the terminal as control
// characters.
func TestHostileStringsAreEscaped(t *testing.T) {
	id := model.KeyID{1, 2, 3}
	evil := "\x1b]0;pwned\x07\x1b[2J"
	p := &plan.Plan{
		FormatVersion: plan.FormatVersion,
		Changes: []plan.Change{{
			Addr:   model.DataKeyAddr("x"),
			Action: plan.Delete,
			Before: &plan.Key{
				ID:        &id,
				AltNames:  []string{"x" + evil},
				MasterKey: model.MasterKey{Provider: "aws", Fields: map[string]string{"key": evil, "region": "us-east-1\nnext"}},
			},
			Reason: "first line\nsecond" + evil + " line\u202e",
		}},
		Drift:    []plan.Drift{{Addr: model.DataKeyAddr("y"), Kind: "deleted" + evil, Detail: evil}},
		Warnings: []string{evil},
	}
	for name, view := range views() {
		if name == "JSON" {
			continue // JSON escapes control characters itself
		}
		var out bytes.Buffer
		if err := view(&out, p); err != nil {
			t.Fatal(err)
		}
		// Only the view's own colour codes may remain.
		got := sgr.ReplaceAllString(out.String(), "")
		for _, bad := range []string{"\x1b", "\x07", "\u202e", "region=\"us-east-1\n"} {
			if strings.Contains(got, bad) {
				t.Errorf("%s wrote %q:\n%s", name, bad, got)
			}
		}
	}
	var out bytes.Buffer
	if err := Human(&out, p, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  # first line\n  # second\\x1b]0;pwned\\a\\x1b[2J line\\u202e\n", `region="us-east-1\nnext"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Human output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestMarkdownEscapesCells(t *testing.T) {
	p := &plan.Plan{
		FormatVersion: plan.FormatVersion,
		Changes: []plan.Change{{
			Addr:   model.DataKeyAddr("t"),
			Action: plan.Create,
			After:  &plan.Key{AltNames: []string{"a|b`c"}, MasterKey: model.MasterKey{Provider: "local"}},
		}},
		Drift: []plan.Drift{{Addr: model.DataKeyAddr("d"), Kind: "renamed", Detail: "was | now `x` <b>"}},
	}
	var out bytes.Buffer
	if err := Markdown(&out, p); err != nil {
		t.Fatal(err)
	}
	md := out.String()
	for _, want := range []string{
		"alt names ``a\\|b`c`` |",
		"| was \\| now \\`x\\` \\<b\\> |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| |") {
			if n := strings.Count(l, "|") - strings.Count(l, `\|`); n != 6 && n != 5 {
				t.Errorf("row has %d cell separators: %q", n, l)
			}
		}
	}
}

func TestInlineCode(t *testing.T) {
	for in, want := range map[string]string{
		"plain": "`plain`",
		"a`b":   "``a`b``",
		"`a":    "`` `a ``",
		"a``b":  "```a``b```",
		"a|b":   "`a\\|b`",
	} {
		if got := code(in); got != want {
			t.Errorf("code(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMarkdownFenceOutgrowsBackticks(t *testing.T) {
	p := &plan.Plan{
		FormatVersion: plan.FormatVersion,
		Changes: []plan.Change{{
			Addr: model.KeyVaultIndexAddr, Action: plan.Create, Reason: "see ```diff``` and ````four````",
		}},
	}
	var out bytes.Buffer
	if err := Markdown(&out, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\n`````diff\n") {
		t.Errorf("fence is not longer than the reason's backticks:\n%s", out.String())
	}
}

func TestUnknownActionIsStillShown(t *testing.T) {
	p := &plan.Plan{
		FormatVersion: plan.FormatVersion,
		Changes:       []plan.Change{{Addr: model.DataKeyAddr("x"), Action: plan.Action(42)}},
	}
	var out bytes.Buffer
	if err := Human(&out, p, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `  ? data_key "x"`) || !strings.Contains(out.String(), "will be changed (Action(42))") {
		t.Errorf("unknown action not shown:\n%s", out.String())
	}
}

// render sits at the end of the data flow: it must not reach the driver, HCL
// or anything that does I/O of its own.
func TestImports(t *testing.T) {
	allowed := map[string]bool{
		"bufio": true, "bytes": true, "encoding/json": true, "errors": true, "fmt": true,
		"io": true, "slices": true, "sort": true, "strconv": true, "strings": true,
		"time": true, "unicode/utf8": true,
		"github.com/csfle/csfle/model": true, "github.com/csfle/csfle/plan": true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !allowed[path] {
				t.Errorf("%s imports %s; render may only format what it is given", f, path)
			}
		}
	}
}

func views() map[string]func(io.Writer, *plan.Plan) error {
	return map[string]func(io.Writer, *plan.Plan) error{
		"Human":      func(b io.Writer, p *plan.Plan) error { return Human(b, p, Options{}) },
		"HumanColor": func(b io.Writer, p *plan.Plan) error { return Human(b, p, Options{Color: true}) },
		"Markdown":   func(b io.Writer, p *plan.Plan) error { return Markdown(b, p) },
		"JSON":       func(b io.Writer, p *plan.Plan) error { return JSON(b, p) },
	}
}

// sgr matches the colour and bold codes Human writes.
var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

var errWrite = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }
