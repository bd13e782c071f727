package devenv_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/mongo/driver/mongocrypt"

	"github.com/csfle/csfle/devenv"
)

// These tests have libmongocrypt (through the driver's ClientEncryption)
// talk to the Azure and GCP servers. Run them with -tags cse.

type cloudKMSProviders = map[string]map[string]any

// cloudProviders configures local, azure (client credentials) and gcp
// (service account key, as base64 of its DER) against env.
func cloudProviders(env *devenv.Env, localKey []byte) cloudKMSProviders {
	return cloudKMSProviders{
		"local": {"key": localKey},
		"azure": {
			"tenantId":                 env.AzureTenantID,
			"clientId":                 env.AzureClientID,
			"clientSecret":             env.AzureClientSecret,
			"identityPlatformEndpoint": env.AzureEndpoint,
		},
		"gcp": {
			"email":      env.GCPEmail,
			"privateKey": base64.StdEncoding.EncodeToString(env.GCPPrivateKeyDER()),
			"endpoint":   env.GCPEndpoint,
		},
	}
}

// cloudCE is a ClientEncryption with the given providers, trusting the
// env's CA for every KMS, closed when the test ends. Each one has its own
// libmongocrypt handle, hence its own caches of access tokens and data
// keys: a new one must ask the KMS again.
func cloudCE(t *testing.T, env *devenv.Env, client *mongo.Client, providers cloudKMSProviders) *mongo.ClientEncryption {
	t.Helper()
	if !cseBuild {
		t.Fatal("this test needs libmongocrypt: run it with -tags cse")
	}
	ce, err := mongo.NewClientEncryption(client, options.ClientEncryption().
		SetKeyVaultNamespace(keyVaultNS).
		SetKmsProviders(providers).
		SetTLSConfig(map[string]*tls.Config{"aws": env.TLSConfig(), "azure": env.TLSConfig(), "gcp": env.TLSConfig()}))
	if err != nil {
		t.Fatalf("NewClientEncryption: %v", err)
	}
	t.Cleanup(func() { _ = ce.Close(context.Background()) })
	return ce
}

func cloudAzureMasterKey(env *devenv.Env) bson.M {
	return bson.M{"keyVaultEndpoint": env.AzureEndpoint, "keyName": env.AzureKeyName}
}

func cloudGCPMasterKey(env *devenv.Env) bson.M {
	return bson.M{
		"projectId": env.GCPProjectID, "location": env.GCPLocation, "keyRing": env.GCPKeyRing,
		"keyName": env.GCPKeyName, "endpoint": env.GCPEndpoint,
	}
}

// cloudKeyDoc reads a data key's masterKey back from the vault.
func cloudKeyDoc(t *testing.T, ctx context.Context, client *mongo.Client, id primitive.Binary) bson.M {
	t.Helper()
	var doc struct {
		MasterKey bson.M `bson:"masterKey"`
	}
	if err := client.Database("encryption").Collection("__keyVault").FindOne(ctx, bson.M{"_id": id}).Decode(&doc); err != nil {
		t.Fatalf("read back data key: %v", err)
	}
	return doc.MasterKey
}

func cloudCheckMasterKey(t *testing.T, got bson.M, provider string, want bson.M) {
	t.Helper()
	if got["provider"] != provider {
		t.Errorf("masterKey = %v, want provider %s", got, provider)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("masterKey.%s = %v, want %v", k, got[k], v)
		}
	}
}

// cloudRequestsSince returns the servers' log entries after the first n.
func cloudRequestsSince(env *devenv.Env, n int) []string { return env.CloudRequests()[n:] }

// cloudWantRequests fails unless each of want is a substring of some entry.
func cloudWantRequests(t *testing.T, step string, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		found := false
		for _, g := range got {
			if strings.Contains(g, w) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s: no request %q among %q", step, w, got)
		}
	}
	for _, g := range got {
		if !strings.HasSuffix(g, " 200") {
			t.Errorf("%s: request failed: %s", step, g)
		}
	}
}

func TestCloudKMSCreateEncryptDecrypt(t *testing.T) {
	t.Parallel()
	env := startEnv(t, t.TempDir())
	ctx := testCtx(t)
	client := connect(t, ctx, env)
	localKey := cloudRandomKey(t)
	azureKeyPath := "/keys/" + env.AzureKeyName + "/"
	gcpKeyPath := "/v1/projects/" + env.GCPProjectID + "/locations/" + env.GCPLocation + "/keyRings/" + env.GCPKeyRing + "/cryptoKeys/" + env.GCPKeyName

	for _, tc := range []struct {
		provider  string
		masterKey bson.M
		wantDoc   bson.M
		create    []string // requests CreateDataKey must make
		decrypt   []string // and a fresh ClientEncryption's Decrypt
	}{
		{
			"azure", cloudAzureMasterKey(env), cloudAzureMasterKey(env),
			[]string{"azure POST /" + env.AzureTenantID + "/oauth2/v2.0/token", "azure POST " + azureKeyPath + "/wrapkey?api-version=7.1"},
			[]string{"azure POST /" + env.AzureTenantID + "/oauth2/v2.0/token", "azure POST " + azureKeyPath + "/unwrapkey?api-version=7.1"},
		},
		{
			"azure", bson.M{"keyVaultEndpoint": env.AzureEndpoint, "keyName": env.AzureKeyName, "keyVersion": env.AzureKeyVersion},
			bson.M{"keyVersion": env.AzureKeyVersion},
			[]string{"azure POST " + azureKeyPath + env.AzureKeyVersion + "/wrapkey?api-version=7.1"},
			[]string{"azure POST " + azureKeyPath + env.AzureKeyVersion + "/unwrapkey?api-version=7.1"},
		},
		{
			"gcp", cloudGCPMasterKey(env), cloudGCPMasterKey(env),
			[]string{"gcp POST /token", "gcp POST " + gcpKeyPath + ":encrypt"},
			[]string{"gcp POST /token", "gcp POST " + gcpKeyPath + ":decrypt"},
		},
		{
			"gcp", func() bson.M { m := cloudGCPMasterKey(env); m["keyVersion"] = "1"; return m }(),
			bson.M{"keyVersion": "1"},
			[]string{"gcp POST " + gcpKeyPath + "/cryptoKeyVersions/1:encrypt"},
			[]string{"gcp POST " + gcpKeyPath + ":decrypt"},
		},
	} {
		name := tc.provider
		if tc.masterKey["keyVersion"] != nil {
			name += " with keyVersion"
		}
		n := len(env.CloudRequests())
		ce := cloudCE(t, env, client, cloudProviders(env, localKey))
		keyID, err := ce.CreateDataKey(ctx, tc.provider, options.DataKey().SetMasterKey(tc.masterKey))
		if err != nil {
			t.Fatalf("%s: CreateDataKey: %v", name, err)
		}
		cloudWantRequests(t, name+": CreateDataKey", cloudRequestsSince(env, n), tc.create...)
		cloudCheckMasterKey(t, cloudKeyDoc(t, ctx, client, keyID), tc.provider, tc.wantDoc)

		plaintext := "secret via " + name
		ct := encrypt(t, ctx, ce, keyID, plaintext)
		checkDecrypt(t, ctx, ce, ct, plaintext)

		n = len(env.CloudRequests())
		checkDecrypt(t, ctx, cloudCE(t, env, client, cloudProviders(env, localKey)), ct, plaintext)
		cloudWantRequests(t, name+": Decrypt", cloudRequestsSince(env, n), tc.decrypt...)
	}

	cloudLogRequests(t, env)
}

// TestCloudKMSAccessToken gives the providers an access token instead of
// credentials. libmongocrypt 1.7.2 uses a configured accessToken to unwrap
// (decrypt) but not to wrap (create, rewrap): there it reads the token only
// from credentials supplied on demand, so it asks the default token
// endpoint (login.microsoftonline.com) for Azure, and fails to sign a JWT
// with no key for GCP.
func TestCloudKMSAccessToken(t *testing.T) {
	t.Parallel()
	env := startEnv(t, t.TempDir())
	ctx := testCtx(t)
	client := connect(t, ctx, env)
	withCreds := cloudCE(t, env, client, cloudProviders(env, cloudRandomKey(t)))
	version := mongocrypt.Version()

	for _, p := range []struct {
		name    string
		mk      bson.M
		wrapErr string // with libmongocrypt 1.7
	}{
		{"azure", cloudAzureMasterKey(env), "login.microsoftonline.com"},
		{"gcp", cloudGCPMasterKey(env), "Failed to create GCP oauth request signature"},
	} {
		keyID, err := withCreds.CreateDataKey(ctx, p.name, options.DataKey().SetMasterKey(p.mk))
		if err != nil {
			t.Fatalf("%s: CreateDataKey: %v", p.name, err)
		}
		ct := encrypt(t, ctx, withCreds, keyID, "by token")

		token := env.AzureAccessToken()
		if p.name == "gcp" {
			token = env.GCPAccessToken()
		}
		byToken := cloudCE(t, env, client, cloudKMSProviders{p.name: {"accessToken": token}})
		n := len(env.CloudRequests())
		checkDecrypt(t, ctx, byToken, ct, "by token")
		got := cloudRequestsSince(env, n)
		cloudWantRequests(t, p.name+": Decrypt with accessToken", got, map[string]string{"azure": "/unwrapkey", "gcp": ":decrypt"}[p.name])
		for _, r := range got {
			if strings.Contains(r, "/token") {
				t.Errorf("%s: with an accessToken, libmongocrypt still asked for one: %s", p.name, r)
			}
		}

		forged := cloudCE(t, env, client, cloudKMSProviders{p.name: {"accessToken": "forged-" + token}})
		if _, err := forged.Decrypt(ctx, ct); err == nil || !strings.Contains(err.Error(), "HTTP status=401") {
			t.Errorf("%s: Decrypt with a token the server did not issue: %v, want a 401", p.name, err)
		}

		_, err = byToken.CreateDataKey(ctx, p.name, options.DataKey().SetMasterKey(p.mk))
		switch {
		case strings.HasPrefix(version, "1.7."):
			if err == nil || !strings.Contains(err.Error(), p.wrapErr) {
				t.Errorf("%s: CreateDataKey with only an accessToken under libmongocrypt %s: %v, want the known failure %q", p.name, version, err, p.wrapErr)
			} else {
				t.Logf("%s: libmongocrypt %s cannot wrap with a configured accessToken: %v", p.name, version, err)
			}
		case err != nil:
			t.Errorf("%s: CreateDataKey with an accessToken under libmongocrypt %s: %v", p.name, version, err)
		}
	}
}

func TestCloudKMSRewrap(t *testing.T) {
	t.Parallel()
	env := startEnv(t, t.TempDir())
	ctx := testCtx(t)
	client := connect(t, ctx, env)
	localKey := cloudRandomKey(t)
	providers := cloudProviders(env, localKey)
	// Give gcp its key as DER bytes here, base64 elsewhere: the driver
	// takes both.
	providers["gcp"]["privateKey"] = env.GCPPrivateKeyDER()

	ce := cloudCE(t, env, client, providers)
	keyID, err := ce.CreateDataKey(ctx, "local")
	if err != nil {
		t.Fatalf("CreateDataKey(local): %v", err)
	}
	const plaintext = "rewrapped three times"
	ct := encrypt(t, ctx, ce, keyID, plaintext)

	for _, step := range []struct {
		name, to  string
		masterKey bson.M
		want      []string // requests the rewrap must make
	}{
		{"local → azure", "azure", cloudAzureMasterKey(env), []string{"/oauth2/v2.0/token", "/wrapkey?api-version=7.1"}},
		{"azure → gcp", "gcp", cloudGCPMasterKey(env), []string{"/unwrapkey?api-version=7.1", "gcp POST /token", ":encrypt"}},
		{"gcp → local", "local", nil, []string{":decrypt"}},
	} {
		n := len(env.CloudRequests())
		opts := options.RewrapManyDataKey().SetProvider(step.to)
		if step.masterKey != nil {
			opts.SetMasterKey(step.masterKey)
		}
		// A fresh ClientEncryption, so the old master key's KMS is asked
		// to unwrap, not a cache.
		res, err := cloudCE(t, env, client, providers).RewrapManyDataKey(ctx, bson.M{"_id": keyID}, opts)
		if err != nil {
			t.Fatalf("%s: RewrapManyDataKey: %v", step.name, err)
		}
		if res.BulkWriteResult == nil || res.BulkWriteResult.ModifiedCount != 1 {
			t.Fatalf("%s: RewrapManyDataKey modified %+v, want 1 key", step.name, res.BulkWriteResult)
		}
		cloudCheckMasterKey(t, cloudKeyDoc(t, ctx, client, keyID), step.to, step.masterKey)
		cloudWantRequests(t, step.name, cloudRequestsSince(env, n), step.want...)

		// The value encrypted under the local key decrypts, the data key
		// now unwrapped by the new master key's KMS.
		n = len(env.CloudRequests())
		checkDecrypt(t, ctx, cloudCE(t, env, client, providers), ct, plaintext)
		switch step.to {
		case "azure":
			cloudWantRequests(t, step.name+": Decrypt", cloudRequestsSince(env, n), "/unwrapkey")
		case "gcp":
			cloudWantRequests(t, step.name+": Decrypt", cloudRequestsSince(env, n), ":decrypt")
		default:
			if got := cloudRequestsSince(env, n); len(got) != 0 {
				t.Errorf("%s: Decrypt under a local key asked a cloud KMS: %q", step.name, got)
			}
		}
	}
	cloudLogRequests(t, env)
}

func TestCloudKMSWrongCredentials(t *testing.T) {
	t.Parallel()
	env := startEnv(t, t.TempDir())
	ctx := testCtx(t)
	client := connect(t, ctx, env)

	wrongKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	wrongDER, err := x509.MarshalPKCS8PrivateKey(wrongKey)
	if err != nil {
		t.Fatal(err)
	}
	wrongSecret := env.AzureClientSecret[:len(env.AzureClientSecret)-1] + "0"
	if wrongSecret == env.AzureClientSecret {
		wrongSecret = env.AzureClientSecret[:len(env.AzureClientSecret)-1] + "1"
	}

	for _, tc := range []struct {
		name      string
		change    func(cloudKMSProviders)
		provider  string
		masterKey bson.M
		wantErr   string
	}{
		{"wrong client secret", func(p cloudKMSProviders) { p["azure"]["clientSecret"] = wrongSecret },
			"azure", cloudAzureMasterKey(env), "invalid_client"},
		{"wrong client id", func(p cloudKMSProviders) { p["azure"]["clientId"] = env.AzureTenantID },
			"azure", cloudAzureMasterKey(env), "invalid_client"},
		{"wrong tenant", func(p cloudKMSProviders) { p["azure"]["tenantId"] = env.AzureClientID },
			"azure", cloudAzureMasterKey(env), "Tenant"},
		{"unknown azure key", func(cloudKMSProviders) {},
			"azure", bson.M{"keyVaultEndpoint": env.AzureEndpoint, "keyName": "no-such-key"}, "KeyNotFound"},
		{"wrong GCP private key", func(p cloudKMSProviders) { p["gcp"]["privateKey"] = wrongDER },
			"gcp", cloudGCPMasterKey(env), "invalid_grant"},
		{"wrong GCP email", func(p cloudKMSProviders) { p["gcp"]["email"] = "other@csfle-dev.iam.gserviceaccount.com" },
			"gcp", cloudGCPMasterKey(env), "invalid_grant"},
		{"unknown gcp key", func(cloudKMSProviders) {},
			"gcp", func() bson.M { m := cloudGCPMasterKey(env); m["keyName"] = "no-such-key"; return m }(), "NOT_FOUND"},
	} {
		providers := cloudProviders(env, cloudRandomKey(t))
		tc.change(providers)
		_, err := cloudCE(t, env, client, providers).CreateDataKey(ctx, tc.provider, options.DataKey().SetMasterKey(tc.masterKey))
		if err == nil {
			t.Errorf("%s: CreateDataKey succeeded", tc.name)
			continue
		}
		t.Logf("%s: %v", tc.name, err)
		if !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: CreateDataKey: %v, want an error with %q", tc.name, err, tc.wantErr)
		}
		if strings.Contains(err.Error(), wrongSecret) || strings.Contains(err.Error(), env.AzureClientSecret) {
			t.Errorf("%s: the error shows a client secret", tc.name)
		}
	}
	if n, err := client.Database("encryption").Collection("__keyVault").CountDocuments(ctx, bson.M{}); err != nil || n != 0 {
		t.Errorf("key vault holds %d keys (err %v) after failed creates, want 0", n, err)
	}
}

func TestCloudKMSRestartKeepsKeysAndEndpoints(t *testing.T) {
	t.Parallel()
	if !cseBuild {
		t.Fatal("this test needs libmongocrypt: run it with -tags cse")
	}
	dir := t.TempDir()
	ctx := testCtx(t)

	first, err := devenv.Start(ctx, devenv.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Close() })
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(first.MongoURI))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.CreateAzureKey("kept"); err != nil {
		t.Fatal(err)
	}
	if err := first.CreateGCPKey("kept-project", "us-east1", "ring", "kept"); err != nil {
		t.Fatal(err)
	}
	ce, err := mongo.NewClientEncryption(client, options.ClientEncryption().
		SetKeyVaultNamespace(keyVaultNS).
		SetKmsProviders(cloudProviders(first, cloudRandomKey(t))).
		SetTLSConfig(map[string]*tls.Config{"azure": first.TLSConfig(), "gcp": first.TLSConfig()}))
	if err != nil {
		t.Fatal(err)
	}
	var cts []primitive.Binary
	for _, p := range []struct {
		name string
		mk   bson.M
	}{
		{"azure", bson.M{"keyVaultEndpoint": first.AzureEndpoint, "keyName": "kept"}},
		{"gcp", bson.M{"projectId": "kept-project", "location": "us-east1", "keyRing": "ring", "keyName": "kept", "endpoint": first.GCPEndpoint}},
	} {
		keyID, err := ce.CreateDataKey(ctx, p.name, options.DataKey().SetMasterKey(p.mk))
		if err != nil {
			t.Fatalf("%s: CreateDataKey: %v", p.name, err)
		}
		cts = append(cts, encrypt(t, ctx, ce, keyID, "kept by "+p.name))
	}
	_ = ce.Close(ctx)
	_ = client.Disconnect(ctx)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := startEnv(t, dir)
	if second.AzureEndpoint != first.AzureEndpoint || second.GCPEndpoint != first.GCPEndpoint {
		t.Errorf("endpoints changed across restart: %s %s -> %s %s", first.AzureEndpoint, first.GCPEndpoint, second.AzureEndpoint, second.GCPEndpoint)
	}
	if second.AzureClientSecret == first.AzureClientSecret || second.GCPPrivateKeyPEM == first.GCPPrivateKeyPEM {
		t.Error("credentials were not renewed across restart")
	}
	if second.AzureKeyVersion != first.AzureKeyVersion {
		t.Errorf("default Azure key version changed: %s -> %s", first.AzureKeyVersion, second.AzureKeyVersion)
	}
	// Data keys wrapped in the first run unwrap in the second, with the
	// second run's credentials; the first run's no longer work.
	ce2 := cloudCE(t, second, connect(t, ctx, second), cloudProviders(second, cloudRandomKey(t)))
	for i, p := range []string{"azure", "gcp"} {
		checkDecrypt(t, ctx, ce2, cts[i], "kept by "+p)
	}
	stale := cloudCE(t, second, connect(t, ctx, second), cloudProviders(first, cloudRandomKey(t)))
	if _, err := stale.Decrypt(ctx, cts[0]); err == nil {
		t.Error("the first run's Azure client secret still works")
	}
	if _, err := stale.Decrypt(ctx, cts[1]); err == nil {
		t.Error("the first run's GCP key still works")
	}
}

func cloudRandomKey(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 96)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func cloudLogRequests(t *testing.T, env *devenv.Env) {
	t.Helper()
	for _, r := range env.CloudRequests() {
		t.Log(r)
	}
}
