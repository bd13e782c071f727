package kms

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/csfle/csfle/secret"
)

// isolateAWS points the AWS SDK at files of the test's own making.
func isolateAWS(t *testing.T) string {
	dir := t.TempDir()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_CA_BUNDLE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return dir
}

func TestLocalKeyMustBe96Bytes(t *testing.T) {
	_, err := Resolve(context.Background(), []Config{{Name: "local", Kind: "local", LocalKey: secret.New(make([]byte, 32))}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "96 bytes, not 32") {
		t.Fatalf("err = %v", err)
	}
}

func TestAWSCredentialsFromEnvironment(t *testing.T) {
	isolateAWS(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTESTENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "env-secret-value")
	key := make([]byte, 96)
	p, err := Resolve(context.Background(), []Config{
		{Name: "aws", Kind: "aws", Region: "us-east-1"},
		{Name: "local", Kind: "local", LocalKey: secret.New(key)},
	}, Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	dp := p.DriverProviders()
	if dp["aws"]["accessKeyId"] != "AKIDTESTENV" || dp["aws"]["secretAccessKey"] != "env-secret-value" {
		t.Errorf("aws provider = %v", dp["aws"])
	}
	if b, ok := dp["local"]["key"].([]byte); !ok || len(b) != 96 {
		t.Errorf("local provider key is %T", dp["local"]["key"])
	}
	if got := p.Only("aws").Names(); len(got) != 1 || got[0] != "aws" {
		t.Errorf("Only(aws) = %v", got)
	}
}

func TestAWSCredentialsFromNamedProfile(t *testing.T) {
	dir := isolateAWS(t)
	creds := "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = default-secret\n\n[audit]\naws_access_key_id = AKIDAUDIT\naws_secret_access_key = audit-secret\n"
	if err := os.WriteFile(filepath.Join(dir, "credentials"), []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Resolve(context.Background(), []Config{{Name: "aws", Kind: "aws", Region: "eu-west-1", Profile: "audit"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.DriverProviders()["aws"]["accessKeyId"]; got != "AKIDAUDIT" {
		t.Errorf("accessKeyId = %v, want the audit profile's", got)
	}
}

func TestMissingAWSCredentialsSayWhereTheyWereLookedFor(t *testing.T) {
	isolateAWS(t)
	_, err := Resolve(context.Background(), []Config{{Name: "aws", Kind: "aws", Region: "us-east-1"}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "no AWS credentials found") || !strings.Contains(err.Error(), "default chain") {
		t.Fatalf("err = %v", err)
	}
}

func TestCABundleFromEnvironment(t *testing.T) {
	isolateAWS(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	missing := filepath.Join(t.TempDir(), "nope.pem")
	_, err := Resolve(context.Background(), []Config{{Name: "aws", Kind: "aws", Region: "us-east-1"}},
		Options{LookupEnv: func(k string) (string, bool) { return missing, k == "AWS_CA_BUNDLE" }})
	if err == nil || !strings.Contains(err.Error(), "reading CA bundle") {
		t.Fatalf("err = %v, want the CA bundle from AWS_CA_BUNDLE to be read", err)
	}
}

// A credential_process whose output does not parse: the SDK's error quotes
// that output, secret included; csfle's must not.
func TestCredentialProcessOutputIsNeverQuoted(t *testing.T) {
	dir := isolateAWS(t)
	helper := filepath.Join(dir, "helper.sh")
	script := "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": \"proc-secret-value\", broken'\n"
	if err := os.WriteFile(helper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := "[profile proc]\ncredential_process = " + helper + "\n"
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Resolve(context.Background(), []Config{{Name: "aws", Kind: "aws", Region: "us-east-1", Profile: "proc"}}, Options{})
	if err == nil {
		t.Fatal("a broken credential_process was accepted")
	}
	if strings.Contains(err.Error(), "proc-secret-value") {
		t.Fatalf("the error quotes the secret: %v", err)
	}
	if !strings.Contains(err.Error(), "credential_process") {
		t.Errorf("the error does not say what failed: %v", err)
	}
}
