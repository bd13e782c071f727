package kms

import (
	"context"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeSTS answers AssumeRole with credentials of its own, and records the
// roles it was asked for.
type fakeSTS struct {
	mu    sync.Mutex
	roles []string
}

func (f *fakeSTS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	if form.Get("Action") != "AssumeRole" {
		http.Error(w, "unsupported", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.roles = append(f.roles, form.Get("RoleArn")+" "+form.Get("ExternalId"))
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	_, _ = io.WriteString(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<Credentials><AccessKeyId>ASIAASSUMED</AccessKeyId><SecretAccessKey>assumed-secret-value</SecretAccessKey><SessionToken>assumed-session-token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>
<AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/ops/csfle</Arn><AssumedRoleId>AROAEXAMPLE:csfle</AssumedRoleId></AssumedRoleUser>
</AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>`)
}

// startSTS serves fakeSTS over TLS on 127.0.0.1 and points the SDK at it.
func startSTS(t *testing.T, dir string) *fakeSTS {
	f := &fakeSTS{}
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	ca := filepath.Join(dir, "sts-ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CA_BUNDLE", ca)
	t.Setenv("AWS_ENDPOINT_URL_STS", srv.URL)
	return f
}

func TestAssumeRoleFromTheBlock(t *testing.T) {
	dir := isolateAWS(t)
	sts := startSTS(t, dir)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDBASE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "base-secret")
	p, err := Resolve(context.Background(), []Config{{Name: "aws", Kind: "aws", Region: "us-east-1",
		RoleARN: "arn:aws:iam::111122223333:role/ops", ExternalID: "ext-1"}}, Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	dp := p.DriverProviders()["aws"]
	if dp["accessKeyId"] != "ASIAASSUMED" || dp["sessionToken"] != "assumed-session-token" {
		t.Errorf("driver credentials = access key %v, session token set %v; want the assumed role's", dp["accessKeyId"], dp["sessionToken"] != nil)
	}
	if len(sts.roles) != 1 || sts.roles[0] != "arn:aws:iam::111122223333:role/ops ext-1" {
		t.Errorf("STS was asked for %v", sts.roles)
	}
}

func TestAssumeRoleChainFromASharedConfigProfile(t *testing.T) {
	dir := isolateAWS(t)
	sts := startSTS(t, dir)
	creds := "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n"
	cfg := "[profile ops]\nrole_arn = arn:aws:iam::111122223333:role/ops\nsource_profile = base\nregion = us-east-1\n"
	if err := os.WriteFile(filepath.Join(dir, "credentials"), []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Resolve(context.Background(), []Config{{Name: "aws", Kind: "aws", Profile: "ops"}}, Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.DriverProviders()["aws"]["accessKeyId"]; got != "ASIAASSUMED" {
		t.Errorf("accessKeyId = %v, want the role the ops profile assumes", got)
	}
	if len(sts.roles) != 1 || !strings.HasPrefix(sts.roles[0], "arn:aws:iam::111122223333:role/ops") {
		t.Errorf("STS was asked for %v", sts.roles)
	}
}

func TestFailedAssumeRoleNamesTheRoleNotTheSecret(t *testing.T) {
	isolateAWS(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	_ = os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	t.Setenv("AWS_CA_BUNDLE", ca)
	t.Setenv("AWS_ENDPOINT_URL_STS", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDBASE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "base-secret-value")
	_, err := Resolve(context.Background(), []Config{{Name: "aws", Kind: "aws", Region: "us-east-1", RoleARN: "arn:aws:iam::111122223333:role/denied"}}, Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err == nil || !strings.Contains(err.Error(), "assuming role arn:aws:iam::111122223333:role/denied failed") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "base-secret-value") {
		t.Error("the error holds the secret")
	}
}
