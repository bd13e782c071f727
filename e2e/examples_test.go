package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every example configuration is valid, so the examples cannot rot.
func TestExamplesAreValid(t *testing.T) {
	dirs, err := filepath.Glob("../examples/*/main.csfle.hcl")
	if err != nil {
		t.Fatal(err)
	}
	staged, _ := filepath.Glob("../examples/*/*/main.csfle.hcl")
	dirs = append(dirs, staged...)
	if len(dirs) < 6 {
		t.Fatalf("found only %d example configurations: %v", len(dirs), dirs)
	}
	for _, file := range dirs {
		name := strings.TrimPrefix(filepath.Dir(file), "../examples/")
		t.Run(name, func(t *testing.T) {
			w := newWorkspace(t)
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			w.write("main.csfle.hcl", string(src))
			r := w.run("validate") // CSFLE_VAR_cmk_arn comes from the workspace environment
			if r.code != 0 || !strings.Contains(r.stdout, "The configuration is valid") {
				t.Errorf("csfle validate %s: %s", name, r)
			}
			if r := w.run("fmt", "-check"); r.code != 0 {
				t.Errorf("csfle fmt -check %s: %s", name, r)
			}
		})
	}
}
