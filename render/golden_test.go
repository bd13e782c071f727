package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/csfle/csfle/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/plan from the current output")

// Each directory in testdata/plan holds a hand-written plan.json (the input)
// and the views of it: plan.txt, plan.color.txt, plan.md and out.json.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "plan", "*", "plan.json"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	for _, in := range dirs {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			p := readPlan(t, in)
			views := []struct {
				file   string
				render func(*bytes.Buffer) error
			}{
				{"plan.txt", func(b *bytes.Buffer) error { return Human(b, p, Options{}) }},
				{"plan.color.txt", func(b *bytes.Buffer) error { return Human(b, p, Options{Color: true}) }},
				{"plan.md", func(b *bytes.Buffer) error { return Markdown(b, p) }},
				{"out.json", func(b *bytes.Buffer) error { return JSON(b, p) }},
			}
			for _, v := range views {
				var got bytes.Buffer
				if err := v.render(&got); err != nil {
					t.Fatalf("%s: %v", v.file, err)
				}
				checkGolden(t, filepath.Join(dir, v.file), got.String())
			}
		})
	}
}

func readPlan(t *testing.T, path string) *plan.Plan {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Fixtures are hand-written: a misspelt field must fail, not vanish.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p plan.Plan
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &p
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./render -update to create it)", err)
	}
	if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(got, "\n")); diff != "" {
		t.Errorf("%s differs from the output (-want +got); run go test ./render -update if the change is intended:\n%s", path, diff)
	}
}

// The plain view is for logs and files: not one escape code, in any case.
func TestHumanWithoutColorHasNoEscapes(t *testing.T) {
	for _, in := range goldenInputs(t) {
		var plain, color bytes.Buffer
		p := readPlan(t, in)
		if err := Human(&plain, p, Options{}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(plain.String(), "\x1b") {
			t.Errorf("%s: Human without colour wrote an escape code:\n%q", in, plain.String())
		}
		if err := Human(&color, p, Options{Color: true}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(color.String(), "\x1b[") {
			t.Errorf("%s: Human with colour wrote no escape code", in)
		}
		if got := stripANSI(color.String()); got != plain.String() {
			t.Errorf("%s: colour changed more than colour (-plain +color):\n%s", in, cmp.Diff(plain.String(), got))
		}
	}
}

// JSON is the plan's own document: reading it back gives the same plan.
func TestJSONRoundTrips(t *testing.T) {
	for _, in := range goldenInputs(t) {
		p := readPlan(t, in)
		var out bytes.Buffer
		if err := JSON(&out, p); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(out.String(), "}\n") {
			t.Errorf("%s: JSON does not end in a newline", in)
		}
		var back plan.Plan
		if err := json.Unmarshal(out.Bytes(), &back); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if diff := cmp.Diff(p, &back); diff != "" {
			t.Errorf("%s: round trip changed the plan (-in +out):\n%s", in, diff)
		}
		if direct, _ := json.MarshalIndent(p, "", "  "); !json.Valid(direct) || compact(t, direct) != compact(t, out.Bytes()) {
			t.Errorf("%s: JSON is not the plan's own JSON form", in)
		}
	}
}

func goldenInputs(t *testing.T) []string {
	t.Helper()
	ins, err := filepath.Glob(filepath.Join("testdata", "plan", "*", "plan.json"))
	if err != nil || len(ins) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	return ins
}

func compact(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

func stripANSI(s string) string { return sgr.ReplaceAllString(s, "") }
