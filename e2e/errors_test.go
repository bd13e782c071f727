package e2e

import (
	"context"
	"encoding/pem"
	"flag"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/csfle/csfle/state"
)

var updateErrors = flag.Bool("update", false, "rewrite testdata/errors")

// normalize replaces what changes from run to run in an error message.
func (w *workspace) normalize(s string) string {
	s = strings.ReplaceAll(s, w.dir, "$WORKDIR")
	s = strings.ReplaceAll(s, w.namespace, "$KEYVAULT")
	for _, re := range []struct{ re, with string }{
		{`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`, "<uuid>"},
		{`127\.0\.0\.1:\d+`, "127.0.0.1:<port>"},
		{`pid \d+`, "pid <pid>"},
		{`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z`, "<time>"},
		{`[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+ \(`, "<user>@<host> ("},
	} {
		s = regexp.MustCompile(re.re).ReplaceAllString(s, re.with)
	}
	return s
}

// Every error a user can meet in the failure scenarios, with its exact
// text: testdata/errors/<case>.txt, rewritten with -update. Each must say
// what went wrong and what to do.
func TestErrorMessages(t *testing.T) {
	oneKey := localProvider + "\ndata_key \"ssn\" {\n  kms = kms.local\n  lifecycle {\n    prevent_destroy = true\n  }\n}\n"
	cases := []struct {
		name string
		run  func(t *testing.T, w *workspace) result
	}{
		{"state-truncated", func(t *testing.T, w *workspace) result {
			w.config(oneKey)
			w.ok("apply", "-auto-approve")
			data, _ := os.ReadFile(filepath.Join(w.dir, "csfle.state.json"))
			w.write("csfle.state.json", string(data[:len(data)/2]))
			return w.run("plan")
		}},
		{"state-newer-version", func(t *testing.T, w *workspace) result {
			w.config(oneKey)
			w.write("csfle.state.json", `{"format_version": 9, "serial": 1, "lineage": "x", "data_keys": []}`)
			return w.run("plan")
		}},
		{"saved-plan-edited", func(t *testing.T, w *workspace) result {
			w.config(oneKey)
			w.ok("plan", "-out", "p.plan")
			data, _ := os.ReadFile(filepath.Join(w.dir, "p.plan"))
			w.write("p.plan", strings.Replace(string(data), `"ssn"`, `"ss2"`, 1))
			return w.run("apply", "p.plan")
		}},
		{"saved-plan-stale", func(t *testing.T, w *workspace) result {
			w.config(oneKey)
			w.ok("plan", "-out", "p.plan")
			w.ok("apply", "-auto-approve")
			return w.run("apply", "p.plan")
		}},
		{"state-locked", func(t *testing.T, w *workspace) result {
			w.config(oneKey)
			info := state.NewLockInfo("apply")
			unlock, err := state.NewLocal(filepath.Join(w.dir, "csfle.state.json")).Lock(context.Background(), info)
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
			return w.run("plan")
		}},
		{"vault-document-not-a-key", func(t *testing.T, w *workspace) result {
			w.config(oneKey)
			client, err := mongo.Connect(context.Background(), options.Client().ApplyURI(env.MongoURI))
			if err != nil {
				t.Fatal(err)
			}
			defer client.Disconnect(context.Background())
			db, coll := splitNS(w.namespace)
			if _, err := client.Database(db).Collection(coll).InsertOne(context.Background(), bson.D{{Key: "_id", Value: "not-a-key"}}); err != nil {
				t.Fatal(err)
			}
			return w.run("plan")
		}},
		{"malformed-hcl", func(t *testing.T, w *workspace) result {
			w.config(localProvider + "\ndata_key \"ssn\" {\n  kms = kms.local\n")
			return w.run("validate")
		}},
		{"prevent-destroy", func(t *testing.T, w *workspace) result {
			w.config(oneKey)
			w.ok("apply", "-auto-approve")
			w.config(localProvider)
			return w.run("plan")
		}},
		{"wrong-local-key", func(t *testing.T, w *workspace) result {
			w.config(stage1)
			w.ok("apply", "-auto-approve")
			w.localKey = newLocalKey(t)
			w.write("master-key.txt", w.localKey)
			w.config(stage2)
			return w.run("plan")
		}},
		{"no-approval-without-terminal", func(t *testing.T, w *workspace) result {
			w.config(oneKey)
			return w.run("apply")
		}},
		{"kms-always-fails", func(t *testing.T, w *workspace) result {
			f := &flakyKMS{failFirst: 1 << 20, mode: "500", only: "Encrypt"}
			srv := httptest.NewTLSServer(f)
			t.Cleanup(srv.Close)
			ca, _ := os.ReadFile(env.CAFile)
			bundle := filepath.Join(w.dir, "ca-bundle.pem")
			_ = os.WriteFile(bundle, append(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})...), 0o600)
			w.config(fmt.Sprintf("variable \"cmk_arn\" {}\n\nkms \"aws\" {\n  region  = \"us-east-1\"\n  ca_file = %q\n}\n\ndata_key \"records\" {\n  kms        = kms.aws\n  master_key = { key = var.cmk_arn, endpoint = %q }\n}\n",
				bundle, strings.TrimPrefix(srv.URL, "https://")))
			return w.run("apply", "-auto-approve")
		}},
		{"server-unreachable", func(t *testing.T, w *workspace) result {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			_ = ln.Close() // nothing listens there now
			w.mongoURI = "mongodb://" + addr + "/?serverSelectionTimeoutMS=500"
			w.config(oneKey)
			return w.run("plan")
		}},
		{"unknown-command", func(t *testing.T, w *workspace) result {
			return w.run("aply")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorkspace(t)
			r := tc.run(t, w)
			if r.code == 0 {
				t.Fatalf("the scenario did not fail: %s", r)
			}
			got := w.normalize(r.stderr)
			path := filepath.Join("testdata", "errors", tc.name+".txt")
			if *updateErrors {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if got != string(want) {
				t.Errorf("stderr of %s changed:\n--- want\n%s--- got\n%s", tc.name, want, got)
			}
			w.assertNoSecrets()
		})
	}
}
