package config

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestRedactSources(t *testing.T) {
	const key = "knstp+Zs0vtMy22RsxQED/jMrqFD6W2qsFsnVeerSUxB4OkbSEpimue+G21grDG3"
	src := `variable "pw" {
  sensitive = true
  default   = "hunter2"
}

variable "region" {
  default = "eu-west-1"
}

key_vault {
  uri = "mongodb://admin:s3cret@db.example/"
}

kms "local" {
  key = "` + key + `"
}

kms "azure" {
  tenant_id     = "tenant-0001"
  client_id     = "client-0002"
  client_secret = "azure-s3cret"
  access_token  = <<EOT
azure-t0ken
EOT
}

kms "gcp" {
  email       = "sa@project.iam.gserviceaccount.com"
  private_key = "gcp-priv4te-key"
  access_token = "gcp-t0ken"
}
`
	vars := "pw = \"from-var-file\"\nregion = \"us-east-1\"\n"
	files := map[string]*hcl.File{"main.csfle.hcl": {Bytes: []byte(src)}, "prod.vars": {Bytes: []byte(vars)}, "broken.csfle.hcl": {Bytes: []byte("kms \"local\" {\n  key = \"" + key)}}
	out := RedactSources(files)
	got := string(out["main.csfle.hcl"].Bytes) + string(out["prod.vars"].Bytes) + string(out["broken.csfle.hcl"].Bytes)
	for _, secret := range []string{key, "hunter2", "s3cret", "from-var-file", "azure-s3cret", "azure-t0ken", "gcp-priv4te-key", "gcp-t0ken"} {
		if strings.Contains(got, secret) {
			t.Errorf("redacted sources still hold %q:\n%s", secret, got)
		}
	}
	for _, kept := range []string{"eu-west-1", "us-east-1", "kms \"local\"", "tenant-0001", "client-0002", "sa@project.iam.gserviceaccount.com"} {
		if !strings.Contains(got, kept) {
			t.Errorf("redaction removed %q, which is not secret", kept)
		}
	}
	if len(out["main.csfle.hcl"].Bytes) != len(src) {
		t.Error("redaction changed the length of the file, so ranges would be off")
	}
	if string(files["main.csfle.hcl"].Bytes) != src {
		t.Error("redaction changed the caller's file")
	}
}
