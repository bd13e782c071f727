package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/secret"
)

var (
	rsaKeyOnce sync.Once
	rsaKey     *rsa.PrivateKey
)

// testRSAKey is an RSA key made for the test run: GCP service account keys
// are RSA keys.
func testRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	rsaKeyOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	})
	return rsaKey
}

func pkcs8(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// wrapped is base64 broken into lines, as tools write it.
func wrapped(der []byte) string {
	s := base64.StdEncoding.EncodeToString(der)
	var b strings.Builder
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	return b.String() + s + "\n"
}

// providerSummary is what a provider decodes to, for comparing: secrets by length.
type providerSummary struct {
	Kind, Endpoint, CAFile                string
	TenantID, ClientID, IdentityPlatform  string
	ClientSecret, AccessToken, PrivateKey int
	Email, ClientCertFile, ClientKeyFile  string
	RoleARN, ExternalID, SessionName      string
	Region                                string
}

func summarize(p *Provider) providerSummary {
	return providerSummary{
		Kind: p.Kind, Endpoint: p.Endpoint, CAFile: p.CAFile,
		TenantID: p.TenantID, ClientID: p.ClientID, IdentityPlatform: p.IdentityPlatformEndpoint,
		ClientSecret: p.ClientSecret.Len(), AccessToken: p.AccessToken.Len(), PrivateKey: p.PrivateKey.Len(),
		Email: p.Email, ClientCertFile: p.ClientCertFile, ClientKeyFile: p.ClientKeyFile,
		RoleARN: p.RoleARN, ExternalID: p.ExternalID, SessionName: p.SessionName, Region: p.Region,
	}
}

// TestCloudProviders maps kms blocks to Providers, with secrets from
// files, the environment and sensitive variables.
func TestCloudProviders(t *testing.T) {
	der := pkcs8(t, testRSAKey(t))
	dir := t.TempDir()
	writeFile(t, dir, "gcp-key.pem", pemOf("PRIVATE KEY", der))
	writeFile(t, dir, "gcp-key.b64", wrapped(der))
	writeFile(t, dir, "ca.pem", mustRead(t, "testdata/valid/kmip/ca.pem"))
	writeFile(t, dir, "client.pem", mustRead(t, "testdata/valid/kmip/client.pem")+mustRead(t, "testdata/valid/kmip/client-key.pem"))
	env := map[string]string{"AZURE_TOKEN": "eyJ0eXAiOi.azure.token", "GCP_TOKEN": "ya29.gcp-token", "SECRET": "s3cret-value"}

	tests := []struct {
		name, src string
		vars      []string
		want      providerSummary
	}{
		{"azure with an access token from env", `kms "azure" {
  tenant_id    = "tenant"
  access_token = env("AZURE_TOKEN")
}`, nil, providerSummary{Kind: "azure", TenantID: "tenant", AccessToken: len(env["AZURE_TOKEN"])}},
		{"azure with a client secret from a sensitive variable", `variable "secret" {
  sensitive = true
}
kms "azure" {
  tenant_id                  = "tenant"
  client_id                  = "client"
  client_secret              = var.secret
  access_token               = env("UNSET", "")
  identity_platform_endpoint = "login.microsoftonline.us:443"
  ca_file                    = "ca.pem"
}`, []string{"secret=abc123"}, providerSummary{Kind: "azure", TenantID: "tenant", ClientID: "client", ClientSecret: 6,
			IdentityPlatform: "login.microsoftonline.us:443", CAFile: dir + "/ca.pem"}},
		{"gcp with a PEM key", `kms "gcp" {
  email       = "sa@p.iam.gserviceaccount.com"
  private_key = file("gcp-key.pem")
}`, nil, providerSummary{Kind: "gcp", Email: "sa@p.iam.gserviceaccount.com", PrivateKey: len(der)}},
		{"gcp with a base64 key and an endpoint", `kms "gcp" {
  email       = "sa@p.iam.gserviceaccount.com"
  private_key = file("gcp-key.b64")
  endpoint    = "localhost:9000"
}`, nil, providerSummary{Kind: "gcp", Email: "sa@p.iam.gserviceaccount.com", PrivateKey: len(der), Endpoint: "localhost:9000"}},
		{"gcp with an access token", `kms "gcp" {
  access_token = env("GCP_TOKEN")
}`, nil, providerSummary{Kind: "gcp", AccessToken: len(env["GCP_TOKEN"])}},
		{"kmip with the key in the certificate file", `kms "kmip" {
  endpoint         = "localhost:5696"
  client_cert_file = "client.pem"
}`, nil, providerSummary{Kind: "kmip", Endpoint: "localhost:5696", ClientCertFile: dir + "/client.pem"}},
		{"kmip without a client certificate", `kms "kmip" {
  endpoint = "kmip.example.com"
}`, nil, providerSummary{Kind: "kmip", Endpoint: "kmip.example.com"}},
		{"aws assuming a role", `kms "aws" {
  region       = "eu-west-1"
  role_arn     = "arn:aws-us-gov:iam::111122223333:role/path/csfle"
  external_id  = "ext:id/1"
  session_name = "ci@example.com"
}`, nil, providerSummary{Kind: "aws", Region: "eu-west-1", RoleARN: "arn:aws-us-gov:iam::111122223333:role/path/csfle",
			ExternalID: "ext:id/1", SessionName: "ci@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src + "\nkey_vault {\n  uri = \"mongodb://h\"\n}\n"
			cfg, diags := loadSrc(t, src, dir, LoadOptions{LookupEnv: envOf(env), Vars: tt.vars})
			if len(diags) > 0 {
				t.Fatalf("unexpected diagnostics:\n%s", render(diags, nil))
			}
			if len(cfg.Providers) != 1 {
				t.Fatalf("providers = %v", cfg.Providers)
			}
			p := cfg.Providers[0]
			if diff := cmp.Diff(tt.want, summarize(p)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if p.Kind == model.KindGCP && !p.PrivateKey.IsZero() && string(p.PrivateKey.Reveal()) != string(der) {
				t.Error("the private key was not decoded to its DER bytes")
			}
		})
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGCPPrivateKey(t *testing.T) {
	rsaKey := testRSAKey(t)
	der := pkcs8(t, rsaKey)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := x509.MarshalPKCS1PrivateKey(rsaKey)
	tests := []struct {
		name, key string
		why       string // in the detail; "" for a key that is accepted
	}{
		{"PKCS#8 PEM", pemOf("PRIVATE KEY", der), ""},
		{"PKCS#8 PEM with blank lines around", "\n\n" + pemOf("PRIVATE KEY", der) + "\n", ""},
		{"base64 DER", base64.StdEncoding.EncodeToString(der), ""},
		{"wrapped base64 DER", wrapped(der), ""},
		{"PKCS#1 PEM", pemOf("RSA PRIVATE KEY", pkcs1), "PKCS#1"},
		{"PKCS#1 base64", base64.StdEncoding.EncodeToString(pkcs1), "PKCS#1"},
		{"encrypted PEM", pemOf("ENCRYPTED PRIVATE KEY", der), "encrypted"},
		{"a certificate", pemOf("CERTIFICATE", der), "does not start with a private key"},
		{"broken PEM", "-----BEGIN PRIVATE KEY-----\n" + base64.StdEncoding.EncodeToString(der), "not valid PEM"},
		{"an ECDSA key", pemOf("PRIVATE KEY", pkcs8(t, ecKey)), "ECDSA"},
		{"a JSON key file", `{"type": "service_account", "private_key": "` + strings.ReplaceAll(pemOf("PRIVATE KEY", der), "\n", `\n`) + `"}`, "JSON"},
		{"not base64", "hunter2!", "neither PEM nor valid base64"},
		{"base64 of something else", base64.StdEncoding.EncodeToString([]byte("hunter2 hunter2")), "not to a PKCS#8 private key"},
	}
	rng := hcl.Range{Filename: "main.csfle.hcl", Start: hcl.InitialPos, End: hcl.InitialPos}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, d := decodeGCPPrivateKey(secret.FromString(tt.key), rng)
			if tt.why == "" {
				if d != nil {
					t.Fatalf("refused: %s", d.Detail)
				}
				if string(got.Reveal()) != string(der) {
					t.Error("decoded to other bytes than the key's DER")
				}
				return
			}
			if d == nil {
				t.Fatal("accepted")
			}
			if d.Summary != "Invalid GCP private key" || !strings.Contains(d.Detail, tt.why) {
				t.Errorf("%s: %s, want it to say %q", d.Summary, d.Detail, tt.why)
			}
			text := d.Summary + d.Detail
			for _, leak := range []string{tt.key, "hunter2", base64.StdEncoding.EncodeToString(der)[:40], base64.StdEncoding.EncodeToString(pkcs1)[:40]} {
				if strings.Contains(text, leak) {
					t.Errorf("the diagnostic shows the key: %s", text)
				}
			}
		})
	}
}

// TestInlineSecrets: a secret written in the configuration is allowed, with
// a warning; one read from a file, the environment or a variable is not
// warned about.
func TestInlineSecrets(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "secret.txt", "from-a-file\n")
	env := map[string]string{"TOKEN": "from-env"}
	blocks := map[string]string{
		"client_secret":      "kms \"azure\" {\n  tenant_id = \"t\"\n  client_id = \"c\"\n  client_secret = %s\n}",
		"azure access_token": "kms \"azure\" {\n  tenant_id = \"t\"\n  access_token = %s\n}",
		"gcp access_token":   "kms \"gcp\" {\n  access_token = %s\n}",
	}
	values := []struct {
		expr   string
		inline bool
	}{
		{`"written-inline"`, true},
		{`<<EOT
written-inline
EOT`, true},
		{`trimspace(" written-inline ")`, true},
		{`"${"written"}-inline"`, true},
		{`file("secret.txt")`, false},
		{`trimspace(file("secret.txt"))`, false},
		{`env("TOKEN")`, false},
		{`var.s`, false},
		{`"Bearer ${var.s}"`, false},
	}
	for name, block := range blocks {
		for _, v := range values {
			t.Run(name+" = "+v.expr, func(t *testing.T) {
				src := "variable \"s\" {\n  sensitive = true\n  default = \"from-a-variable\"\n}\nkey_vault {\n  uri = \"mongodb://h\"\n}\n" +
					strings.Replace(block, "%s", v.expr, 1) + "\n"
				cfg, diags := loadSrc(t, src, dir, LoadOptions{LookupEnv: envOf(env)})
				if diags.HasErrors() {
					t.Fatalf("errors:\n%s", render(diags, nil))
				}
				warned := len(diags) == 1 && diags[0].Severity == hcl.DiagWarning && diags[0].Summary == "Secret written in the configuration"
				if warned != v.inline || len(diags) > 1 {
					t.Errorf("diagnostics = %q, want a warning: %v", summaries(diags), v.inline)
				}
				if cfg == nil {
					t.Fatal("no Config despite only warnings")
				}
			})
		}
	}
}

// TestCloudSecretsNeverInDiagnostics renders the diagnostics of broken
// provider blocks as the command line does, with redacted sources, and
// checks that no secret is in the text.
func TestCloudSecretsNeverInDiagnostics(t *testing.T) {
	const secretText = "hunter2-cloud-secret"
	dir := t.TempDir()
	writeFile(t, dir, "secret.txt", secretText)
	env := map[string]string{"SECRET": secretText}
	tests := []struct{ name, src, want string }{
		{"client secret in a failing function", `kms "azure" {
  tenant_id     = "t"
  client_id     = "c"
  client_secret = format("%d", env("SECRET"))
}`, "Error in function call"},
		{"access token of the wrong type", `kms "gcp" {
  access_token = [env("SECRET")]
}`, "Incorrect attribute value type"},
		{"private key that is not a key", `kms "gcp" {
  email       = "sa@p.iam.gserviceaccount.com"
  private_key = file("secret.txt")
}`, "Invalid GCP private key"},
		{"inline private key that is not a key", `kms "gcp" {
  email       = "sa@p.iam.gserviceaccount.com"
  private_key = "` + secretText + `"
}`, "Invalid GCP private key"},
		{"inline secret with conflicting credentials", `kms "azure" {
  tenant_id     = "t"
  client_id     = "c"
  client_secret = "` + secretText + `"
  access_token  = "` + secretText + `"
}`, "Conflicting Azure credentials"},
		{"sensitive access token used as an email", `variable "tok" {
  sensitive = true
  default   = "` + secretText + `"
}
kms "gcp" {
  email        = var.tok
  access_token = var.tok
}`, "Sensitive value not allowed here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src + "\nkey_vault {\n  uri = \"mongodb://h\"\n}\n"
			name := dir + "/main.csfle.hcl"
			_, diags := LoadFiles(map[string][]byte{name: []byte(src)}, dir, LoadOptions{LookupEnv: envOf(env)})
			if !strings.Contains(strings.Join(summaries(diags), "|"), tt.want) {
				t.Fatalf("diagnostics = %q, want %q", summaries(diags), tt.want)
			}
			out := render(diags, RedactSources(map[string]*hcl.File{name: {Bytes: []byte(src)}}))
			if strings.Contains(out, secretText) {
				t.Errorf("diagnostics show a secret:\n%s", out)
			}
		})
	}
}
