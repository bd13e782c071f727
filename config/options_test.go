package config

import (
	"strings"
	"testing"
)

func TestVersionAtLeast(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"1.9.0", true},
		{"1.9", true},
		{"v1.9.1", true},
		{"1.10.0", true},
		{"2.0.0", true},
		{"1.9.0-pre1", true},
		{"1.9.0+20240101", true},
		{"1.8.99", false},
		{"1.8.4-20230101+gitabc", false},
		{"0.9.9", false},
		{"", false},
		{"unknown", false},
		{"1.x.0", false},
		{"1.9.0.1", false},
	}
	for _, tt := range tests {
		if got := versionAtLeast(tt.v, 1, 9, 0); got != tt.want {
			t.Errorf("versionAtLeast(%q, 1.9.0) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestNamedProvidersRefused(t *testing.T) {
	src := `key_vault {
  uri = "mongodb://h"
}
kms "aws" "prod" {
  region = "us-east-1"
}
data_key "k" {
  kms        = kms.aws.prod
  master_key = { key = "arn" }
}
`
	for version, why := range map[string]string{
		"":       "is not known",
		"1.8.4":  "libmongocrypt 1.8.4",
		"1.11.0": "does not support them yet",
	} {
		_, diags := loadSrc(t, src, t.TempDir(), LoadOptions{LibmongocryptVersion: version})
		// The reference to the refused provider is not reported again.
		if len(diags) != 1 || diags[0].Summary != "Named KMS providers need libmongocrypt 1.9+" {
			t.Fatalf("version %q: diagnostics = %v", version, diags)
		}
		if !strings.Contains(diags[0].Detail, why) {
			t.Errorf("version %q: detail %q does not say %q", version, diags[0].Detail, why)
		}
	}
}
