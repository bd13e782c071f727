package config

import (
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// shortKey is a secret that is valid base64 but too short for a local key.
var shortKey = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\xa5", 32)))

func TestSensitiveValuesKeptSecret(t *testing.T) {
	src := `
variable "uri" {
  sensitive = true
}
variable "key" {
  sensitive = true
}
key_vault {
  uri = var.uri
}
kms "local" {
  key = var.key
}
`
	opts := LoadOptions{Vars: []string{"uri=mongodb://u:hunter2@h", "key=" + testKey}}
	cfg, diags := loadSrc(t, src, t.TempDir(), opts)
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	if cfg.KeyVault.URI.RevealString() != "mongodb://u:hunter2@h" || cfg.Provider("local").LocalKey.Len() != LocalKeySize {
		t.Error("secrets from sensitive variables were not kept")
	}
}

func TestSensitiveValuesRefused(t *testing.T) {
	decl := `
variable "s" {
  sensitive = true
  default   = "%s"
}
`
	tests := []struct {
		name, value, src string
	}{
		{"alt_names", "ssn", withKey(`data_key "k" {
  kms       = kms.local
  alt_names = ["a", "${var.s}-v1"]
}`)},
		{"master_key", "arn:aws:kms:us-east-1:1:key/1", `key_vault {
  uri = "mongodb://h"
}
kms "aws" {
  region = "us-east-1"
}
data_key "k" {
  kms        = kms.aws
  master_key = { key = lower(var.s) }
}`},
		{"region", "us-east-1", `key_vault {
  uri = "mongodb://h"
}
kms "aws" {
  region = var.s
}`},
		{"namespace", "a.b", `key_vault {
  uri       = "mongodb://h"
  namespace = var.s
}`},
		{"prevent_destroy", "true", withKey(`data_key "k" {
  kms = kms.local
  lifecycle {
    prevent_destroy = var.s
  }
}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(decl, "%s", tt.value, 1) + tt.src
			_, diags := loadSrc(t, src, t.TempDir(), LoadOptions{})
			if len(diags) != 1 || diags[0].Summary != "Sensitive value not allowed here" {
				t.Fatalf("diagnostics = %v, want one Sensitive value not allowed here", diags)
			}
			if !strings.Contains(diags[0].Detail, tt.name) {
				t.Errorf("detail does not name %s: %s", tt.name, diags[0].Detail)
			}
		})
	}
}

// TestSecretsNeverInDiagnostics renders diagnostics about secret attributes
// as the command line would, with source snippets and the values of the
// variables involved, and checks that the secret is nowhere in the text.
func TestSecretsNeverInDiagnostics(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "short.key", shortKey+"\n")
	env := map[string]string{"LOCAL_KEY": shortKey, "URI": "mongodb://u:hunter2@h"}
	tests := []struct {
		name, src, want string
		vars            []string
	}{
		{name: "short key from a variable", want: "Local master key must be 96 bytes",
			src: `variable "k" {}
kms "local" {
  key = var.k
}`},
		{name: "short key from a sensitive variable", want: "Local master key must be 96 bytes",
			src: `variable "k" {
  sensitive = true
}
kms "local" {
  key = var.k
}`},
		{name: "key made invalid", want: "Local master key is not valid base64",
			src: `variable "k" {}
kms "local" {
  key = "${var.k}!"
}`},
		{name: "key in a failing function", want: "Error in function call",
			src: `variable "k" {}
kms "local" {
  key = format("%d", var.k)
}`},
		{name: "key from env", want: "Local master key must be 96 bytes",
			src: `kms "local" {
  key = env("LOCAL_KEY")
}`},
		{name: "key from a file", want: "Local master key must be 96 bytes",
			src: `kms "local" {
  key = file("short.key")
}`},
		{name: "key of the wrong type", want: "Incorrect attribute value type",
			src: `variable "k" {}
kms "local" {
  key = [var.k]
}`},
		{name: "uri in a failing function", want: "Error in function call",
			src: `variable "u" {}
kms "local" {
  key = "` + testKey + `"
}
variable "k" {}
key_vault {
  uri = format("%d %s", var.u, var.k)
}`, vars: []string{"u=mongodb://u:hunter2@h"}},
		{name: "uri with the wrong scheme", want: "Invalid key vault URI",
			src: `variable "k" {}
key_vault {
  uri = "ftp://u:${var.k}@h"
}`},
		{name: "sensitive variable of the wrong type", want: "Invalid value for variable",
			src: `variable "k" {
  type      = number
  sensitive = true
}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src
			if !strings.Contains(src, "key_vault") {
				src += "\nkey_vault {\n  uri = env(\"URI\")\n}\n"
			}
			opts := LoadOptions{LookupEnv: envOf(env), Vars: append([]string{"k=" + shortKey}, tt.vars...)}
			name := filepath.Join(dir, "main.csfle.hcl")
			_, diags := LoadFiles(map[string][]byte{name: []byte(src)}, dir, opts)
			if !strings.Contains(strings.Join(summaries(diags), "|"), tt.want) {
				t.Fatalf("diagnostics = %q, want %q", summaries(diags), tt.want)
			}
			out := render(diags, map[string]*hcl.File{name: {Bytes: []byte(src)}})
			for _, secret := range []string{shortKey, "hunter2", "\xa5\xa5\xa5"} {
				if strings.Contains(out, secret) {
					t.Errorf("diagnostics show a secret:\n%s", out)
				}
			}
		})
	}
}
