package e2e

import (
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// flakyKMS stands in front of local-kms on 127.0.0.1 and fails the first
// requests it gets: with 500, with throttling, or by dropping the
// connection, before it forwards the rest.
type flakyKMS struct {
	failFirst int32
	mode      string // "500", "throttle", "drop"
	only      string // fail only requests whose X-Amz-Target ends so ("Encrypt"); "" for all
	seen      atomic.Int32
}

func (f *flakyKMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if (f.only == "" || strings.HasSuffix(r.Header.Get("X-Amz-Target"), "."+f.only)) && f.seen.Add(1) <= f.failFirst {
		switch f.mode {
		case "throttle":
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
		case "drop":
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		case "stall":
			// Keep the connection open and never answer.
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				time.Sleep(20 * time.Second)
				_ = conn.Close()
			}
		default:
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"__type":"KMSInternalException","message":"try again"}`)
		}
		return
	}
	body, _ := io.ReadAll(r.Body)
	target, _ := url.Parse(env.KMSURL)
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, target.String()+r.URL.Path, strings.NewReader(string(body)))
	req.Header = r.Header.Clone()
	resp, err := env.HTTPClient().Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// KMS faults on the way to creating a key are retried with backoff; the
// key is created once, and the apply succeeds.
func TestTransientKMSFaultsAreRetried(t *testing.T) {
	for _, mode := range []string{"500", "throttle", "drop", "stall"} {
		t.Run(mode, func(t *testing.T) {
			f := &flakyKMS{failFirst: 2, mode: mode, only: "Encrypt"}
			srv := httptest.NewTLSServer(f)
			t.Cleanup(srv.Close)
			w := newWorkspace(t)
			// Trust both local-kms's CA and the proxy's certificate.
			ca, err := os.ReadFile(env.CAFile)
			if err != nil {
				t.Fatal(err)
			}
			bundle := filepath.Join(w.dir, "ca-bundle.pem")
			ca = append(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})...)
			if err := os.WriteFile(bundle, ca, 0o600); err != nil {
				t.Fatal(err)
			}
			proxy := strings.TrimPrefix(srv.URL, "https://")
			w.config(fmt.Sprintf(`
variable "cmk_arn" {}

kms "aws" {
  region  = "us-east-1"
  ca_file = %q
}

data_key "records" {
  kms        = kms.aws
  master_key = { key = var.cmk_arn, endpoint = %q }
}
`, bundle, proxy))
			r := w.run("apply", "-auto-approve", "-step-timeout", "1s")
			if r.code != 0 || !strings.Contains(r.stdout, "1 created") {
				t.Fatalf("apply through a KMS that fails twice (%s): %s", mode, r)
			}
			if f.seen.Load() <= f.failFirst {
				t.Errorf("the proxy saw %d requests; the faults were not met", f.seen.Load())
			}
			if docs := vaultDocs(t, w.namespace); len(docs) != 1 {
				t.Errorf("key vault holds %d keys, want exactly 1", len(docs))
			}
		})
	}
}

// A KMS that keeps failing stops the apply cleanly, naming the key, with
// nothing recorded as done.
func TestPersistentKMSFaultsStopTheApply(t *testing.T) {
	f := &flakyKMS{failFirst: 1 << 20, mode: "500", only: "Encrypt"}
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	w := newWorkspace(t)
	ca, _ := os.ReadFile(env.CAFile)
	bundle := filepath.Join(w.dir, "ca-bundle.pem")
	_ = os.WriteFile(bundle, append(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})...), 0o600)
	w.config(fmt.Sprintf(`
variable "cmk_arn" {}

kms "aws" {
  region  = "us-east-1"
  ca_file = %q
}

data_key "records" {
  kms        = kms.aws
  master_key = { key = var.cmk_arn, endpoint = %q }
}
`, bundle, strings.TrimPrefix(srv.URL, "https://")))
	r := w.run("apply", "-auto-approve")
	msg := strings.Join(strings.Fields(r.stderr+r.stdout), " ")
	if r.code != 1 || !strings.Contains(msg, "data_key.records") || !strings.Contains(msg, "gave up after 4 attempts") {
		t.Errorf("apply through a KMS that always fails: %s", r)
	}
	if docs := vaultDocs(t, w.namespace); len(docs) != 0 {
		t.Errorf("key vault holds %d keys after a failed create", len(docs))
	}
	if out := w.ok("output"); !strings.Contains(out.stdout, "No data keys") {
		t.Errorf("the state records a key that was not created:\n%s", out.stdout)
	}
	w.assertNoSecrets()
}
