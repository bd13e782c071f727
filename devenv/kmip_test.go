package devenv_test

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/csfle/csfle/devenv"
)

// startKMIP fails the test, with the install hint, if PyKMIP is missing:
// CI installs it through scripts/deps.sh, so a missing one is a broken
// machine, not a reason to skip.
func startKMIP(t *testing.T, dir string) *devenv.KMIPServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k, err := devenv.StartKMIP(ctx, dir)
	if err != nil {
		t.Fatalf("StartKMIP: %v", err)
	}
	t.Cleanup(func() {
		if err := k.Close(); err != nil {
			t.Errorf("KMIP Close: %v", err)
		}
	})
	return k
}

func TestKMIPServerShape(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k := startKMIP(t, dir)

	if host, _, err := net.SplitHostPort(k.Endpoint); err != nil || host != "127.0.0.1" {
		t.Errorf("Endpoint = %q, want 127.0.0.1:PORT", k.Endpoint)
	}
	for name, f := range map[string]struct {
		path, pemType string
		private       bool
	}{
		"CAFile":         {k.CAFile, "CERTIFICATE", false},
		"ClientCertFile": {k.ClientCertFile, "CERTIFICATE", false},
		"ClientKeyFile":  {k.ClientKeyFile, "PRIVATE KEY", true},
	} {
		if filepath.Dir(f.path) != dir {
			t.Errorf("%s = %s, want a file in %s", name, f.path, dir)
		}
		b, err := os.ReadFile(f.path)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !strings.HasPrefix(string(b), "-----BEGIN "+f.pemType+"-----") {
			t.Errorf("%s does not hold a PEM %s", name, f.pemType)
		}
		if fi, err := os.Stat(f.path); err == nil && f.private && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", name, fi.Mode().Perm())
		}
	}
	// The files are what a client configured from them (as csfle will be)
	// needs.
	cert, err := tls.LoadX509KeyPair(k.ClientCertFile, k.ClientKeyFile)
	if err != nil {
		t.Fatalf("client certificate files: %v", err)
	}
	fromFiles := k.TLSConfig()
	fromFiles.Certificates = []tls.Certificate{cert}
	conn, err := tls.Dial("tcp", k.Endpoint, fromFiles)
	if err != nil {
		t.Fatalf("TLS with the client certificate: %v", err)
	}
	_ = conn.Close()

	// The server verifies against its own CA only, and requires a client
	// certificate.
	if conn, err := tls.Dial("tcp", k.Endpoint, &tls.Config{}); err == nil {
		_ = conn.Close()
		t.Error("KMIP server certificate verified against the system roots")
	}
	noCert := k.TLSConfig()
	noCert.Certificates = nil
	if conn, err := tls.Dial("tcp", k.Endpoint, noCert); err == nil {
		// With TLS 1.2 the server's refusal ends the handshake; read to be sure.
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		_ = conn.Close()
		if err == nil {
			t.Error("KMIP server accepted a client without a certificate")
		}
	}

	if err := k.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := k.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", k.Endpoint, time.Second); err == nil {
		_ = conn.Close()
		t.Error("KMIP server still accepts connections after Close")
	}
}

// Without PyKMIP, StartKMIP says how to install it. Not parallel: it sets
// the environment.
func TestStartKMIPWithoutPyKMIP(t *testing.T) {
	fakes := map[string]string{
		"no interpreter": filepath.Join(t.TempDir(), "no-such-python3"),
	}
	// Debian's Python without its site packages (-S) lacks the kmip module,
	// as a machine without python3-pykmip does.
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		noSite := filepath.Join(t.TempDir(), "python3-no-site")
		if err := os.WriteFile(noSite, []byte("#!/bin/sh\nexec /usr/bin/python3 -S \"$@\"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		fakes["no kmip module"] = noSite
	}
	for name, python := range fakes {
		t.Run(name, func(t *testing.T) {
			t.Setenv(devenv.KMIPPythonEnv, python)
			k, err := devenv.StartKMIP(testCtx(t), t.TempDir())
			if err == nil {
				_ = k.Close()
				t.Fatal("StartKMIP succeeded without PyKMIP")
			}
			t.Logf("StartKMIP: %v", err)
			if !strings.Contains(err.Error(), "apt-get install -y python3-pykmip") {
				t.Errorf("StartKMIP: %v; want the install hint", err)
			}
		})
	}
}

// TestKMIPEndToEnd is issue 4's first acceptance test: against PyKMIP's
// server, create a kmip data key, encrypt and decrypt with it, and rewrap a
// local key to kmip and a kmip key to aws. Each decryption after a rewrap
// uses a fresh ClientEncryption (libmongocrypt caches decrypted data keys
// per handle) that knows only the provider the key is now wrapped by.
func TestKMIPEndToEnd(t *testing.T) {
	t.Parallel()
	env := startEnv(t, t.TempDir())
	k := startKMIP(t, t.TempDir())
	ctx := testCtx(t)
	client := connect(t, ctx, env)
	keyVault := client.Database("encryption").Collection("__keyVault")

	localKey := make([]byte, 96)
	for i := range localKey {
		localKey[i] = byte(i*7 + 1)
	}
	providers := map[string]map[string]interface{}{
		"local": {"key": localKey},
		"kmip":  {"endpoint": k.Endpoint},
		"aws":   {"accessKeyId": env.AccessKeyID, "secretAccessKey": env.SecretAccessKey},
	}
	ce := kmipClientEncryption(t, client, env, k, providers)
	only := func(name string) *mongo.ClientEncryption {
		return kmipClientEncryption(t, client, env, k, map[string]map[string]interface{}{name: providers[name]})
	}
	masterKeyOf := func(id primitive.Binary) bson.M {
		t.Helper()
		var doc struct {
			MasterKey bson.M `bson:"masterKey"`
		}
		if err := keyVault.FindOne(ctx, bson.M{"_id": id}).Decode(&doc); err != nil {
			t.Fatalf("read data key: %v", err)
		}
		return doc.MasterKey
	}

	// A kmip data key without a keyId: libmongocrypt registers a 96-byte
	// SecretData, activates it and gets it back, and records its id.
	kmipKey, err := ce.CreateDataKey(ctx, "kmip")
	if err != nil {
		t.Fatalf("CreateDataKey(kmip): %v", err)
	}
	mk := masterKeyOf(kmipKey)
	secretID, _ := mk["keyId"].(string)
	if mk["provider"] != "kmip" || secretID == "" {
		t.Fatalf("kmip data key's masterKey = %v, want provider kmip and a keyId", mk)
	}
	ctKMIP := encrypt(t, ctx, ce, kmipKey, "wrapped by kmip")
	checkDecrypt(t, ctx, ce, ctKMIP, "wrapped by kmip")
	checkDecrypt(t, ctx, only("kmip"), ctKMIP, "wrapped by kmip")

	// A second data key under the same KMIP secret, named by keyId: only a
	// Get.
	sameSecret, err := ce.CreateDataKey(ctx, "kmip", options.DataKey().SetMasterKey(bson.M{"keyId": secretID}))
	if err != nil {
		t.Fatalf("CreateDataKey(kmip, keyId %s): %v", secretID, err)
	}
	if got := masterKeyOf(sameSecret)["keyId"]; got != secretID {
		t.Errorf("data key made with keyId %s records keyId %v", secretID, got)
	}
	checkDecrypt(t, ctx, only("kmip"), encrypt(t, ctx, ce, sameSecret, "same secret"), "same secret")

	// The server is really asked: it does not know every keyId.
	if _, err := ce.CreateDataKey(ctx, "kmip", options.DataKey().SetMasterKey(bson.M{"keyId": "no-such-object"})); err == nil {
		t.Error("CreateDataKey with a keyId the KMIP server does not have succeeded")
	} else if !strings.Contains(err.Error(), "Item Not Found") {
		t.Errorf("CreateDataKey with an unknown keyId: %v, want the server's Item Not Found", err)
	}

	// Rewrap local -> kmip.
	local, err := ce.CreateDataKey(ctx, "local")
	if err != nil {
		t.Fatalf("CreateDataKey(local): %v", err)
	}
	ctLocal := encrypt(t, ctx, ce, local, "was local")
	rewrap(t, ctx, ce, local, "kmip", nil)
	if mk := masterKeyOf(local); mk["provider"] != "kmip" || mk["keyId"] == nil || mk["keyId"] == "" {
		t.Errorf("after rewrap to kmip, masterKey = %v", mk)
	}
	checkDecrypt(t, ctx, only("kmip"), ctLocal, "was local")

	// Rewrap kmip -> aws.
	awsMaster := masterKey(env, env.CMKARN)
	rewrap(t, ctx, ce, kmipKey, "aws", awsMaster)
	if mk := masterKeyOf(kmipKey); mk["provider"] != "aws" || mk["key"] != env.CMKARN {
		t.Errorf("after rewrap to aws, masterKey = %v", mk)
	}
	checkDecrypt(t, ctx, only("aws"), ctKMIP, "wrapped by kmip")

	// With the KMIP server gone, the key rewrapped to aws still decrypts
	// and the one rewrapped to kmip no longer does: each decryption above
	// went to the provider the key names.
	if err := k.Close(); err != nil {
		t.Fatalf("KMIP Close: %v", err)
	}
	checkDecrypt(t, ctx, only("aws"), ctKMIP, "wrapped by kmip")
	if _, err := only("kmip").Decrypt(ctx, ctLocal); err == nil {
		t.Error("a kmip-wrapped key decrypted with the KMIP server stopped")
	}
}

func kmipClientEncryption(t *testing.T, client *mongo.Client, env *devenv.Env, k *devenv.KMIPServer, providers map[string]map[string]interface{}) *mongo.ClientEncryption {
	t.Helper()
	if !cseBuild {
		t.Fatal("this test needs libmongocrypt: run it with -tags cse")
	}
	ce, err := mongo.NewClientEncryption(client, options.ClientEncryption().
		SetKeyVaultNamespace(keyVaultNS).
		SetKmsProviders(providers).
		SetTLSConfig(map[string]*tls.Config{"kmip": k.TLSConfig(), "aws": env.TLSConfig()}))
	if err != nil {
		t.Fatalf("NewClientEncryption: %v", err)
	}
	t.Cleanup(func() { _ = ce.Close(context.Background()) })
	return ce
}

func rewrap(t *testing.T, ctx context.Context, ce *mongo.ClientEncryption, id primitive.Binary, provider string, masterKey interface{}) {
	t.Helper()
	opts := options.RewrapManyDataKey().SetProvider(provider)
	if masterKey != nil {
		opts.SetMasterKey(masterKey)
	}
	res, err := ce.RewrapManyDataKey(ctx, bson.M{"_id": id}, opts)
	if err != nil {
		t.Fatalf("RewrapManyDataKey to %s: %v", provider, err)
	}
	if res.BulkWriteResult == nil || res.ModifiedCount != 1 {
		t.Fatalf("RewrapManyDataKey to %s: %+v, want one key modified", provider, res.BulkWriteResult)
	}
}

// The SQLite database in dir outlives the server: a later StartKMIP on the
// same dir, with new certificates and another port, still serves the
// secrets the first one registered, because the client identity (the
// certificate's common name) that owns them is the same.
func TestKMIPRestartKeepsSecrets(t *testing.T) {
	t.Parallel()
	env := startEnv(t, t.TempDir())
	ctx := testCtx(t)
	client := connect(t, ctx, env)
	dir := t.TempDir()

	first := startKMIP(t, dir)
	ce := kmipClientEncryption(t, client, env, first, map[string]map[string]interface{}{"kmip": {"endpoint": first.Endpoint}})
	id, err := ce.CreateDataKey(ctx, "kmip")
	if err != nil {
		t.Fatalf("CreateDataKey(kmip): %v", err)
	}
	ct := encrypt(t, ctx, ce, id, "kept")
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	second := startKMIP(t, dir)
	// The data key's masterKey names no endpoint, so the provider's is used.
	checkDecrypt(t, ctx, kmipClientEncryption(t, client, env, second, map[string]map[string]interface{}{"kmip": {"endpoint": second.Endpoint}}), ct, "kept")
}
