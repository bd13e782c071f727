package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestEnv(t *testing.T) {
	src := withKey(`
data_key "k" {
  kms       = kms.local
  alt_names = [%s]
}
`)
	tests := []struct {
		name, expr string
		env        map[string]string
		want       string // alt name, or the summary of the one diagnostic
		wantDetail string
	}{
		{name: "set", expr: `env("NAME")`, env: map[string]string{"NAME": "from-env"}, want: "from-env"},
		{name: "set beats default", expr: `env("NAME", "d")`, env: map[string]string{"NAME": "from-env"}, want: "from-env"},
		{name: "set to empty beats default", expr: `"x${env("NAME", "d")}"`, env: map[string]string{"NAME": ""}, want: "x"},
		{name: "default", expr: `env("NAME", "d")`, want: "d"},
		{name: "unset", expr: `env("CSFLE_UNSET")`, want: "Invalid function argument", wantDetail: "CSFLE_UNSET is not set"},
		{name: "too many", expr: `env("A", "b", "c")`, want: "Invalid function argument", wantDetail: "at most one default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := loadSrc(t, strings.Replace(src, "%s", tt.expr, 1), t.TempDir(), LoadOptions{LookupEnv: envOf(tt.env)})
			if tt.wantDetail == "" {
				if len(diags) > 0 {
					t.Fatalf("diagnostics: %v", diags)
				}
				if got := cfg.DataKey("k").AltNames[0]; got != tt.want {
					t.Errorf("got %q, want %q", got, tt.want)
				}
				return
			}
			if len(diags) != 1 || diags[0].Summary != tt.want || !strings.Contains(diags[0].Detail, tt.wantDetail) {
				t.Fatalf("diagnostics = %v, want %q mentioning %q", diags, tt.want, tt.wantDetail)
			}
		})
	}
}

func TestEnvIsInjected(t *testing.T) {
	t.Setenv("CSFLE_TEST_URI", "mongodb://from-process")
	src := `key_vault {
  uri = env("CSFLE_TEST_URI")
}
`
	// With no LookupEnv, the process environment is not read.
	if _, diags := loadSrc(t, src, t.TempDir(), LoadOptions{}); !diags.HasErrors() {
		t.Error("a nil LookupEnv read the process environment")
	}
	cfg, diags := loadSrc(t, src, t.TempDir(), DefaultLoadOptions())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := cfg.KeyVault.URI.RevealString(); got != "mongodb://from-process" {
		t.Errorf("URI = %q", got)
	}
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "keys/master.txt", "\n"+testKey[:64]+"\n"+testKey[64:]+"\n")
	abs := writeFile(t, t.TempDir(), "abs.txt", testKey)
	writeFile(t, dir, "binary.txt", "\xff\xfe")
	src := `key_vault {
  uri = "mongodb://localhost"
}
kms "local" {
  key = file(%s)
}
`
	tests := []struct {
		name, path string
		want       string // summary of the one diagnostic; "" for none
		wantDetail string
	}{
		{name: "relative to the directory", path: `"keys/master.txt"`},
		{name: "absolute", path: `"` + filepath.ToSlash(abs) + `"`},
		{name: "missing", path: `"keys/missing.txt"`, want: "Invalid function argument", wantDetail: "cannot read keys/missing.txt"},
		{name: "not text", path: `"binary.txt"`, want: "Invalid function argument", wantDetail: "binary.txt is not a text file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := loadSrc(t, strings.Replace(src, "%s", tt.path, 1), dir, LoadOptions{})
			if tt.want == "" {
				if len(diags) > 0 {
					t.Fatalf("diagnostics: %v", diags)
				}
				if got := cfg.Provider("local").LocalKey; got.Len() != LocalKeySize {
					t.Errorf("key is %d bytes", got.Len())
				}
				return
			}
			if len(diags) != 1 || diags[0].Summary != tt.want || !strings.Contains(diags[0].Detail, tt.wantDetail) {
				t.Fatalf("diagnostics = %v, want %q mentioning %q", diags, tt.want, tt.wantDetail)
			}
			if diags[0].Subject == nil || diags[0].Subject.Start.Line != 5 {
				t.Errorf("subject = %v, want line 5", diags[0].Subject)
			}
		})
	}
}

func TestStdlibFunctions(t *testing.T) {
	src := withKey(`
data_key "k" {
  kms       = kms.local
  alt_names = concat([lower("A"), upper("b"), trimspace("  c  ")], [join("-", ["d", "e"]), format("f%02d", 1)])
}
`)
	cfg, diags := loadSrc(t, src, t.TempDir(), LoadOptions{})
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	if got := strings.Join(cfg.DataKey("k").AltNames, ","); got != "B,a,c,d-e,f01" {
		t.Errorf("alt names = %s", got)
	}
}
