package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// loadSrc loads one in-memory file, main.csfle.hcl in dir.
func loadSrc(t *testing.T, src, dir string, opts LoadOptions) (*Config, hcl.Diagnostics) {
	t.Helper()
	return LoadFiles(map[string][]byte{filepath.Join(dir, "main.csfle.hcl"): []byte(src)}, dir, opts)
}

// withKey prefixes the key_vault and kms "local" blocks every test needs.
func withKey(src string) string {
	return `key_vault {
  uri = "mongodb://localhost"
}
kms "local" {
  key = "` + testKey + `"
}
` + src
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func summaries(diags hcl.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.Summary)
	}
	return out
}

func TestVariablePrecedence(t *testing.T) {
	dir := t.TempDir()
	file1 := writeFile(t, dir, "one.csfle.vars", `name = "from-file-1"`)
	file2 := writeFile(t, dir, "two.csfle.vars", "name = \"from-file-2\"\n")
	jsonFile := writeFile(t, dir, "vars.json", `{"name": "from-json"}`)
	src := withKey(`
variable "name" {
  default = "from-default"
}
data_key "k" {
  kms       = kms.local
  alt_names = [var.name]
}
`)
	env := map[string]string{"CSFLE_VAR_name": "from-env"}
	tests := []struct {
		name     string
		env      map[string]string
		varFiles []string
		vars     []string
		want     string
	}{
		{name: "default", want: "from-default"},
		{name: "env over default", env: env, want: "from-env"},
		{name: "var file over env", env: env, varFiles: []string{file1}, want: "from-file-1"},
		{name: "later var file wins", varFiles: []string{file1, file2}, want: "from-file-2"},
		{name: "json var file", varFiles: []string{file2, jsonFile}, want: "from-json"},
		{name: "var over all", env: env, varFiles: []string{file1}, vars: []string{"name=from-var"}, want: "from-var"},
		{name: "later var wins", vars: []string{"name=first", "name=second"}, want: "second"},
		{name: "value with equals", vars: []string{"name=a=b"}, want: "a=b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := LoadOptions{LookupEnv: envOf(tt.env), VarFiles: tt.varFiles, Vars: tt.vars}
			cfg, diags := loadSrc(t, src, dir, opts)
			if len(diags) > 0 {
				t.Fatalf("diagnostics: %v", diags)
			}
			if got := cfg.DataKey("k").AltNames; len(got) != 1 || got[0] != tt.want {
				t.Errorf("alt names = %q, want [%q]", got, tt.want)
			}
		})
	}
}

func TestTypedVariables(t *testing.T) {
	src := withKey(`
variable "protect" {
  type = bool
}
variable "n" {
  type    = number
  default = 1
}
data_key "k" {
  kms       = kms.local
  alt_names = [format("k%d", var.n)]
  lifecycle {
    prevent_destroy = var.protect
  }
}
`)
	cfg, diags := loadSrc(t, src, t.TempDir(), LoadOptions{Vars: []string{"protect=true", "n=7"}})
	if len(diags) > 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	if k := cfg.DataKey("k"); !k.PreventDestroy || k.AltNames[0] != "k7" {
		t.Errorf("key = %+v, want prevent_destroy and alt name k7", k)
	}

	env := map[string]string{"CSFLE_VAR_n": "not-a-number-secret"}
	_, diags = loadSrc(t, src, t.TempDir(), LoadOptions{Vars: []string{"protect=maybe"}, LookupEnv: envOf(env)})
	got := summaries(diags)
	if len(got) != 2 || got[0] != "Invalid value for variable" || got[1] != "Invalid value for variable" {
		t.Fatalf("diagnostics = %q, want two Invalid value for variable", got)
	}
	for _, d := range diags {
		if strings.Contains(d.Detail, "maybe") || strings.Contains(d.Detail, "not-a-number-secret") {
			t.Errorf("detail repeats the value: %s", d.Detail)
		}
		if d.Subject == nil || d.Subject.Start.Line < 8 {
			t.Errorf("subject = %v, want the variable block", d.Subject)
		}
	}
}

func TestVariableOptionErrors(t *testing.T) {
	dir := t.TempDir()
	src := withKey(`
variable "name" {
  default = "x"
}
`)
	undeclaredFile := writeFile(t, dir, "extra.csfle.vars", "name = \"y\"\nother = \"z\"\n")
	badFile := writeFile(t, dir, "bad.csfle.vars", "name = [\"not\", \"a\", \"string\"]\n")
	tests := []struct {
		name       string
		opts       LoadOptions
		want       []string
		wantConfig bool
	}{
		{name: "no equals", opts: LoadOptions{Vars: []string{"name"}}, want: []string{"Invalid -var option"}},
		{name: "empty name", opts: LoadOptions{Vars: []string{"=x"}}, want: []string{"Invalid -var option"}},
		{name: "undeclared -var", opts: LoadOptions{Vars: []string{"other=1"}}, want: []string{"Value for undeclared variable"}},
		{name: "undeclared in var file warns", opts: LoadOptions{VarFiles: []string{undeclaredFile}}, want: []string{"Value for undeclared variable"}, wantConfig: true},
		{name: "missing var file", opts: LoadOptions{VarFiles: []string{filepath.Join(dir, "nope.vars")}}, want: []string{"Cannot read variables file"}},
		{name: "wrong type in var file", opts: LoadOptions{VarFiles: []string{badFile}}, want: []string{"Invalid value for variable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := loadSrc(t, src, dir, tt.opts)
			if got := summaries(diags); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("diagnostics = %q, want %q", got, tt.want)
			}
			if (cfg != nil) != tt.wantConfig {
				t.Errorf("config = %v, want config %v", cfg, tt.wantConfig)
			}
			for _, d := range diags {
				if d.Detail == "" {
					t.Errorf("%q has no detail", d.Summary)
				}
			}
		})
	}
	// A var file's diagnostics point into the var file, and its source is
	// available for printing.
	_, diags := loadSrc(t, src, dir, LoadOptions{VarFiles: []string{badFile}})
	if d := diags[0]; d.Subject == nil || d.Subject.Filename != badFile {
		t.Errorf("subject = %v, want in %s", d.Subject, badFile)
	}
	cfg, _ := loadSrc(t, src, dir, LoadOptions{VarFiles: []string{undeclaredFile}})
	if cfg.Files[undeclaredFile] == nil {
		t.Errorf("Files lacks the var file")
	}
}
