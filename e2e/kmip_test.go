package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/csfle/csfle/devenv"
)

// KMIP through csfle, against PyKMIP's server on 127.0.0.1: a key made
// under the local master key, a value encrypted with it, the key rewrapped
// to KMIP and then to AWS, the value readable after each, with only the
// new provider configured.
func TestKMIPEndToEnd(t *testing.T) {
	srv, err := devenv.StartKMIP(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	kmipBlock := fmt.Sprintf(`
kms "kmip" {
  endpoint         = %q
  client_cert_file = %q
  client_key_file  = %q
  ca_file          = %q
}
`, srv.Endpoint, srv.ClientCertFile, srv.ClientKeyFile, srv.CAFile)

	w := newWorkspace(t)
	w.config(localProvider + `
data_key "records" {
  kms = kms.local
}
`)
	w.ok("apply", "-auto-approve")
	ids := w.keyIDs()
	ct := newApp(t, w, "local").encrypt(ids["records"], "kmip-wrapped")

	w.config(localProvider + kmipBlock + `
data_key "records" {
  kms        = kms.kmip
  master_key = {}
}
`)
	r := w.ok("apply", "-auto-approve")
	if !strings.Contains(r.stdout, "1 rewrapped") {
		t.Fatalf("rewrap to kmip: %s", r)
	}
	if got, err := kmipApp(t, w, srv).decrypt(ct); err != nil || got != "kmip-wrapped" {
		t.Fatalf("decrypt with only kmip: %q, %v", got, err)
	}
	if r := w.run("plan", "-detailed-exitcode"); r.code != 0 {
		t.Errorf("plan after the rewrap to kmip (the server chose the keyId): %s", r)
	}

	w.config(kmipBlock + awsProvider + `
variable "cmk_arn" {}

data_key "records" {
  kms        = kms.aws
  master_key = { key = var.cmk_arn }
}
`)
	w.ok("apply", "-auto-approve")
	if got, err := newApp(t, w, "aws").decrypt(ct); err != nil || got != "kmip-wrapped" {
		t.Fatalf("decrypt with only aws after kmip -> aws: %q, %v", got, err)
	}
	if r := w.run("plan", "-detailed-exitcode"); r.code != 0 {
		t.Errorf("plan after the rewrap to aws: %s", r)
	}
	w.assertNoSecrets()
}

func kmipApp(t *testing.T, w *workspace, srv *devenv.KMIPServer) *app {
	t.Helper()
	ctx := context.Background()
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(env.MongoURI))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	ce, err := mongo.NewClientEncryption(client, options.ClientEncryption().SetKeyVaultNamespace(w.namespace).
		SetKmsProviders(map[string]map[string]interface{}{"kmip": {"endpoint": srv.Endpoint}}).
		SetTLSConfig(map[string]*tls.Config{"kmip": srv.TLSConfig()}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ce.Close(context.Background()) })
	return &app{t: t, ce: ce}
}

func TestDelegatedKMIPNeedsANewerLibmongocrypt(t *testing.T) {
	w := newWorkspace(t)
	w.config(localProvider + `
kms "kmip" {
  endpoint = "127.0.0.1:5696"
}

data_key "records" {
  kms        = kms.kmip
  master_key = { delegated = true }
}
`)
	version := strings.TrimSpace(strings.TrimPrefix(strings.Split(w.ok("version").stdout, "\n")[1], "libmongocrypt "))
	if !strings.HasPrefix(version, "1.7.") {
		t.Skipf("skipped: libmongocrypt %s may support delegated KMIP keys", version)
	}
	r := w.run("plan")
	if r.code != 1 || !strings.Contains(strings.Join(strings.Fields(r.stderr), " "), "Delegated KMIP keys need a newer libmongocrypt") {
		t.Errorf("plan of a delegated kmip key: %s", r)
	}
}
