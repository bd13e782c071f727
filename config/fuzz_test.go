package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad: the configuration loader never panics, whatever the file holds,
// and never puts a local master key it was given into a diagnostic.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/invalid/*.csfle.hcl")
	valid, _ := filepath.Glob("testdata/valid/*/*.csfle.hcl")
	for _, s := range append(seeds, valid...) {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("kms \"local\" {\n  key = \"" + strings.Repeat("QUJD", 32) + "\"\n}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, diags := LoadFiles(map[string][]byte{"main.csfle.hcl": src}, t.TempDir(), LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
		if cfg == nil && !diags.HasErrors() {
			t.Fatal("no configuration and no error")
		}
		for _, d := range diags {
			if strings.Contains(d.Detail, strings.Repeat("QUJD", 8)) {
				t.Fatalf("a diagnostic quotes the local key: %s", d.Detail)
			}
		}
	})
}
