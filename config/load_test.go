package config

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/secret"
)

var update = flag.Bool("update", false, "rewrite testdata/valid/*/want.json")

// testKey is the local master key of the fixtures: bytes 0x00 to 0x5f, an
// obvious test value.
const testKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f"

// testEnv is the whole environment the fixtures see.
var testEnv = map[string]string{
	"CSFLE_DEV_MONGODB_URI":  "mongodb://csfle:hunter2@localhost:27017/?tls=true",
	"CSFLE_DEV_AWS_ENDPOINT": "localhost:4566",
	"CSFLE_VAR_cmk_arn":      "arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555",
}

func envOf(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func testOptions() LoadOptions { return LoadOptions{LookupEnv: envOf(testEnv)} }

// marker is an expected diagnostic: "# ERROR: <summary>" on the line its
// subject starts on.
type marker struct {
	Line     int
	Severity string
	Summary  string
}

var markerRE = regexp.MustCompile(`#\s*(ERROR|WARNING):\s*(.+?)\s*$`)

func markers(src []byte) []marker {
	var ms []marker
	for i, line := range strings.Split(string(src), "\n") {
		if m := markerRE.FindStringSubmatch(line); m != nil {
			ms = append(ms, marker{Line: i + 1, Severity: m[1], Summary: m[2]})
		}
	}
	return ms
}

func severity(d *hcl.Diagnostic) string {
	if d.Severity == hcl.DiagWarning {
		return "WARNING"
	}
	return "ERROR"
}

func sortMarkers(ms []marker) {
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].Line != ms[j].Line {
			return ms[i].Line < ms[j].Line
		}
		return ms[i].Summary < ms[j].Summary
	})
}

func TestInvalid(t *testing.T) {
	paths, err := filepath.Glob("testdata/invalid/*.csfle.hcl")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), FileSuffix), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := markers(src)
			if len(want) == 0 {
				t.Fatalf("%s marks no diagnostic (# ERROR: <summary>)", path)
			}
			cfg, diags := LoadFiles(map[string][]byte{path: src}, "testdata/invalid", testOptions())
			if diags.HasErrors() != (cfg == nil) {
				t.Errorf("Config is %v with errors=%v; want nil exactly when there are errors", cfg, diags.HasErrors())
			}
			var got []marker
			for _, d := range diags {
				if d.Subject == nil {
					t.Errorf("%q has no subject", d.Summary)
					continue
				}
				if d.Subject.Filename != path {
					t.Errorf("%q points at %s, want %s", d.Summary, d.Subject.Filename, path)
				}
				if d.Detail == "" {
					t.Errorf("%q has no detail", d.Summary)
				}
				if strings.Contains(d.Summary+d.Detail, testKey) {
					t.Errorf("%q prints the local master key", d.Summary)
				}
				got = append(got, marker{Line: d.Subject.Start.Line, Severity: severity(d), Summary: d.Summary})
			}
			sortMarkers(want)
			sortMarkers(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("diagnostics (-marked +got):\n%s\nall diagnostics:\n%s", diff, render(diags, nil))
			}
		})
	}
}

// render prints diagnostics as the command line does; with files, with
// source snippets.
func render(diags hcl.Diagnostics, files map[string]*hcl.File) string {
	var buf bytes.Buffer
	w := hcl.NewDiagnosticTextWriter(&buf, files, 100, false)
	_ = w.WriteDiagnostics(diags)
	return buf.String()
}

// golden is what want.json holds: the planner's view and the providers'
// settings, never a secret.
type golden struct {
	Desired   model.Desired
	Providers []goldenProvider
	// Collections say where each collection and field block was declared.
	Collections []goldenCollection `json:",omitempty"`
}

type goldenCollection struct {
	Addr   string
	Decl   string // file:line, the file without its directory
	Fields []goldenField
}

type goldenField struct {
	Path string
	Decl string
}

func goldenDecl(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", filepath.Base(r.Filename), r.Start.Line)
}

// goldenProvider records secrets by their length only.
type goldenProvider struct {
	Name                     string
	Kind                     string
	LocalKeyBytes            int    `json:",omitempty"`
	Region                   string `json:",omitempty"`
	Profile                  string `json:",omitempty"`
	Endpoint                 string `json:",omitempty"`
	CAFile                   string `json:",omitempty"`
	RoleARN                  string `json:",omitempty"`
	ExternalID               string `json:",omitempty"`
	SessionName              string `json:",omitempty"`
	TenantID                 string `json:",omitempty"`
	ClientID                 string `json:",omitempty"`
	ClientSecretBytes        int    `json:",omitempty"`
	AccessTokenBytes         int    `json:",omitempty"`
	IdentityPlatformEndpoint string `json:",omitempty"`
	Email                    string `json:",omitempty"`
	PrivateKeyBytes          int    `json:",omitempty"`
	ClientCertFile           string `json:",omitempty"`
	ClientKeyFile            string `json:",omitempty"`
}

func goldenOf(cfg *Config) golden {
	g := golden{Desired: cfg.Desired()}
	for _, p := range cfg.Providers {
		g.Providers = append(g.Providers, goldenProvider{
			Name: p.Name, Kind: p.Kind, LocalKeyBytes: p.LocalKey.Len(),
			Region: p.Region, Profile: p.Profile, Endpoint: p.Endpoint, CAFile: p.CAFile,
			RoleARN: p.RoleARN, ExternalID: p.ExternalID, SessionName: p.SessionName,
			TenantID: p.TenantID, ClientID: p.ClientID, ClientSecretBytes: p.ClientSecret.Len(), AccessTokenBytes: p.AccessToken.Len(),
			IdentityPlatformEndpoint: p.IdentityPlatformEndpoint,
			Email:                    p.Email, PrivateKeyBytes: p.PrivateKey.Len(),
			ClientCertFile: p.ClientCertFile, ClientKeyFile: p.ClientKeyFile,
		})
	}
	for _, c := range cfg.Collections {
		gc := goldenCollection{Addr: c.Addr.String(), Decl: goldenDecl(c.DeclRange)}
		for _, f := range c.Fields {
			gc.Fields = append(gc.Fields, goldenField{Path: f.Path, Decl: goldenDecl(f.DeclRange)})
		}
		g.Collections = append(g.Collections, gc)
	}
	return g
}

func TestValid(t *testing.T) {
	dirs, err := filepath.Glob("testdata/valid/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cfg, diags := Load(dir, testOptions())
			if len(diags) > 0 {
				t.Fatalf("unexpected diagnostics:\n%s", render(diags, Sources(diags)))
			}
			got := goldenOf(cfg)
			wantPath := filepath.Join(dir, "want.json")
			if *update {
				b, err := json.MarshalIndent(got, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(wantPath, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(wantPath)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			var want golden
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", wantPath, diff)
			}
			if strings.Contains(string(b), testKey) || strings.Contains(string(b), "hunter2") {
				t.Errorf("%s holds a secret", wantPath)
			}
			for _, p := range cfg.Providers {
				if p.Kind == model.KindLocal && !bytes.Equal(p.LocalKey.Reveal(), testKeyBytes()) {
					t.Errorf("provider %s: local key was not decoded", p.Name)
				}
				printed := fmt.Sprintf("%v %+v %#v", p, *p, *p)
				if strings.Contains(printed, testKey) || strings.Contains(printed, string(testKeyBytes())) {
					t.Errorf("printing provider %s shows the key", p.Name)
				}
				for _, s := range []secret.Value{p.ClientSecret, p.AccessToken, p.PrivateKey} {
					if s.IsZero() {
						continue
					}
					forms := []string{s.RevealString(), base64.StdEncoding.EncodeToString(s.Reveal())}
					for _, f := range forms {
						if strings.Contains(printed, f) || strings.Contains(string(b), f) {
							t.Errorf("provider %s: a secret is printed, or in %s", p.Name, wantPath)
						}
					}
				}
			}
			if uri := cfg.KeyVault.URI.RevealString(); uri != testEnv["CSFLE_DEV_MONGODB_URI"] {
				t.Errorf("key vault URI = %q", uri)
			}
			if s := fmt.Sprintf("%+v", cfg.KeyVault); strings.Contains(s, "hunter2") {
				t.Errorf("printing the key vault shows the URI: %s", s)
			}
		})
	}
}

func testKeyBytes() []byte {
	b := make([]byte, LocalKeySize)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestLoadNoFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte("key_vault {}"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags := Load(dir, testOptions())
	if len(diags) != 1 || diags[0].Summary != "No configuration files" {
		t.Fatalf("diags = %v, want one No configuration files", diags)
	}
	_, diags = Load(filepath.Join(dir, "missing"), testOptions())
	if len(diags) != 1 || diags[0].Summary != "Cannot read configuration directory" {
		t.Fatalf("diags = %v", diags)
	}
}

func TestIsConfigFile(t *testing.T) {
	for name, want := range map[string]bool{
		"main.csfle.hcl":    true,
		"kms.csfle.hcl":     true,
		"main.hcl":          false,
		".#main.csfle.hcl":  false,
		"#main.csfle.hcl#":  false,
		"main.csfle.hcl~":   false,
		"main.csfle.hcl.sw": false,
	} {
		if got := IsConfigFile(name); got != want {
			t.Errorf("IsConfigFile(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestLookups(t *testing.T) {
	cfg, diags := Load("testdata/valid/migration", testOptions())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if p := cfg.Provider("aws"); p == nil || p.Region != "eu-central-1" {
		t.Errorf("Provider(aws) = %v", p)
	}
	if p := cfg.Provider("gcp"); p != nil {
		t.Errorf("Provider(gcp) = %v, want nil", p)
	}
	if k := cfg.DataKey("legacy"); k == nil || !k.PreventDestroy {
		t.Errorf("DataKey(legacy) = %v", k)
	}
	if k := cfg.DataKey("nope"); k != nil {
		t.Errorf("DataKey(nope) = %v, want nil", k)
	}
	k := cfg.DataKey("ssn")
	if k.DeclRange.Filename != filepath.Join("testdata/valid/migration", "keys.csfle.hcl") || k.DeclRange.Start.Line != 6 {
		t.Errorf("DeclRange = %v", k.DeclRange)
	}
	if cfg.Files[k.DeclRange.Filename] == nil {
		t.Errorf("Files lacks %s", k.DeclRange.Filename)
	}
	// Desired is a copy: changing it leaves the config alone.
	d := cfg.Desired()
	d.Keys[0].AltNames[0] = "changed"
	d.Keys[0].MasterKey.Provider = "changed"
	if cfg.Desired().Keys[0].AltNames[0] == "changed" {
		t.Error("Desired shares alt names with the Config")
	}
}

func TestSources(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "main.csfle.hcl")
	src := "key_vault {\n  uri = \"mongodb://x\"\n  nope = 1\n}\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := Load(dir, testOptions())
	if cfg != nil || !diags.HasErrors() {
		t.Fatalf("cfg = %v, diags = %v", cfg, diags)
	}
	files := Sources(diags)
	if f := files[path]; f == nil || string(f.Bytes) != src {
		t.Fatalf("Sources = %v", files)
	}
	if out := render(diags, files); !strings.Contains(out, "nope = 1") {
		t.Errorf("rendered diagnostics lack the snippet:\n%s", out)
	}
}

func TestMultipleFiles(t *testing.T) {
	files := map[string][]byte{
		"a.csfle.hcl": []byte(withKey(`data_key "ssn" {
  kms = kms.local
}
`)),
		"b.csfle.hcl": []byte(`data_key "ssn_v2" {
  kms       = kms.local
  alt_names = ["ssn"]
}
`),
	}
	_, diags := LoadFiles(files, t.TempDir(), LoadOptions{})
	if len(diags) != 1 || diags[0].Summary != "Duplicate alt name" {
		t.Fatalf("diagnostics = %v", diags)
	}
	d := diags[0]
	if d.Subject.Filename != "b.csfle.hcl" || d.Subject.Start.Line != 3 || !strings.Contains(d.Detail, "data_key.ssn (a.csfle.hcl:7)") {
		t.Errorf("diagnostic at %v: %s", d.Subject, d.Detail)
	}

	// Without a key_vault anywhere, the first file is blamed.
	delete(files, "a.csfle.hcl")
	files["c.csfle.hcl"] = []byte(`kms "local" {
  key = "` + testKey + `"
}
`)
	_, diags = LoadFiles(files, t.TempDir(), LoadOptions{})
	if len(diags) != 1 || diags[0].Summary != "Missing key_vault block" || diags[0].Subject.Filename != "b.csfle.hcl" {
		t.Fatalf("diagnostics = %v", diags)
	}
}

func TestParseErrorStopsEarly(t *testing.T) {
	files := map[string][]byte{
		"a.csfle.hcl": []byte("key_vault {\n  uri = \n}\n"),
		"b.csfle.hcl": []byte("data_key \"k\" {\n  kms = kms.local\n}\n"),
	}
	_, diags := LoadFiles(files, t.TempDir(), LoadOptions{})
	// Only the syntax error: not the missing key_vault and provider that
	// the broken file might have declared.
	for _, d := range diags {
		if d.Subject == nil || d.Subject.Filename != "a.csfle.hcl" {
			t.Errorf("unexpected diagnostic %q at %v", d.Summary, d.Subject)
		}
	}
	if !diags.HasErrors() {
		t.Fatal("no error")
	}
}
