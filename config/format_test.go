package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFormatAligns(t *testing.T) {
	in := `key_vault {
uri = env("URI")
    namespace = "encryption.__keyVault"
}
data_key "ssn" {
  kms = kms.aws
  master_key = {
    key = "arn"
    region    = "us-east-1"
  }
}
`
	want := `key_vault {
  uri       = env("URI")
  namespace = "encryption.__keyVault"
}
data_key "ssn" {
  kms = kms.aws
  master_key = {
    key    = "arn"
    region = "us-east-1"
  }
}
`
	got, diags := Format([]byte(in), "main.csfle.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if string(got) != want {
		t.Errorf("Format:\n%s\nwant:\n%s", got, want)
	}
}

// TestFormatFixtures checks that formatting is idempotent on every fixture,
// and that the valid fixtures are already formatted.
func TestFormatFixtures(t *testing.T) {
	valid, _ := filepath.Glob("testdata/valid/*/*.csfle.hcl")
	invalid, _ := filepath.Glob("testdata/invalid/*.csfle.hcl")
	isValid := make(map[string]bool)
	for _, p := range valid {
		isValid[p] = true
	}
	for _, path := range append(valid, invalid...) {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		once, diags := Format(src, path)
		if diags.HasErrors() {
			continue // the syntax error fixture
		}
		twice, diags := Format(once, path)
		if diags.HasErrors() || string(twice) != string(once) {
			t.Errorf("%s: formatting is not idempotent:\n%s\nthen:\n%s", path, once, twice)
		}
		if isValid[path] && string(once) != string(src) {
			t.Errorf("%s is not formatted; want:\n%s", path, once)
		}
	}
}

func TestFormatRefusesBrokenSource(t *testing.T) {
	out, diags := Format([]byte("key_vault {\n  uri = \n"), "broken.csfle.hcl")
	if out != nil || !diags.HasErrors() {
		t.Fatalf("Format = %q, %v; want nil and errors", out, diags)
	}
	if d := diags[0]; d.Subject == nil || d.Subject.Filename != "broken.csfle.hcl" {
		t.Errorf("subject = %v", d.Subject)
	}
}
