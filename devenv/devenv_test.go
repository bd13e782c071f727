package devenv_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/csfle/csfle/devenv"
)

const keyVaultNS = "encryption.__keyVault"

func startEnv(t *testing.T, dir string) *devenv.Env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env, err := devenv.Start(ctx, devenv.Options{Dir: dir})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return env
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func connect(t *testing.T, ctx context.Context, env *devenv.Env) *mongo.Client {
	t.Helper()
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(env.MongoURI).SetTimeout(30*time.Second))
	if err != nil {
		t.Fatalf("mongo.Connect(%s): %v", env.MongoURI, err)
	}
	// Disconnect before the env's Close (cleanups run last-in first-out),
	// so FerretDB need not wait out its grace period for open connections.
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client
}

func TestEnvShape(t *testing.T) {
	t.Parallel()
	env := startEnv(t, t.TempDir())

	for name, got := range map[string]string{"MongoURI": env.MongoURI, "KMSURL": env.KMSURL} {
		if !strings.Contains(got, "://127.0.0.1:") {
			t.Errorf("%s = %q, want a 127.0.0.1 address", name, got)
		}
	}
	if host, _, err := net.SplitHostPort(env.KMSEndpoint); err != nil || host != "127.0.0.1" {
		t.Errorf("KMSEndpoint = %q, want 127.0.0.1:PORT", env.KMSEndpoint)
	}
	if env.KMSURL != "https://"+env.KMSEndpoint {
		t.Errorf("KMSURL = %q, KMSEndpoint = %q: they disagree", env.KMSURL, env.KMSEndpoint)
	}
	if env.Region != "us-east-1" {
		t.Errorf("Region = %q", env.Region)
	}
	if env.AccessKeyID == "" || env.SecretAccessKey == "" {
		t.Error("credentials are empty")
	}
	if other := startEnv(t, t.TempDir()); other.SecretAccessKey == env.SecretAccessKey {
		t.Error("two environments got the same secret access key")
	}

	pem, err := os.ReadFile(env.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(pem), "-----BEGIN CERTIFICATE-----") {
		t.Errorf("CAFile does not hold a PEM certificate:\n%s", pem)
	}

	// The certificate must verify against CAFile and nothing else.
	conn, err := tls.Dial("tcp", env.KMSEndpoint, env.TLSConfig())
	if err != nil {
		t.Fatalf("TLS to KMS with the env's CA: %v", err)
	}
	_ = conn.Close()
	if conn, err := tls.Dial("tcp", env.KMSEndpoint, &tls.Config{}); err == nil {
		_ = conn.Close()
		t.Error("KMS certificate verified against the system roots")
	}
}

func TestFerretDBInsertFind(t *testing.T) {
	t.Parallel()
	env := startEnv(t, t.TempDir())
	ctx := testCtx(t)
	client := connect(t, ctx, env)

	if err := client.Ping(ctx, nil); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	coll := client.Database("devenv_test").Collection("things")
	if _, err := coll.InsertOne(ctx, bson.M{"_id": "a", "n": 42}); err != nil {
		t.Fatalf("InsertOne: %v", err)
	}
	var got struct {
		ID string `bson:"_id"`
		N  int    `bson:"n"`
	}
	if err := coll.FindOne(ctx, bson.M{"_id": "a"}).Decode(&got); err != nil {
		t.Fatalf("FindOne: %v", err)
	}
	if got.ID != "a" || got.N != 42 {
		t.Errorf("FindOne = %+v, want {a 42}", got)
	}
	if err := coll.FindOne(ctx, bson.M{"_id": "b"}).Err(); !errors.Is(err, mongo.ErrNoDocuments) {
		t.Errorf("FindOne(missing) err = %v, want ErrNoDocuments", err)
	}
}

func TestKMSKeys(t *testing.T) {
	t.Parallel()
	env := startEnv(t, t.TempDir())
	ctx := testCtx(t)
	client := env.KMSClient()

	describe := func(arn string) *types.KeyMetadata {
		t.Helper()
		out, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(arn)})
		if err != nil {
			t.Fatalf("DescribeKey(%s): %v", arn, err)
		}
		return out.KeyMetadata
	}

	cmk := describe(env.CMKARN)
	if cmk.KeyState != types.KeyStateEnabled || cmk.KeySpec != types.KeySpecSymmetricDefault || cmk.KeyUsage != types.KeyUsageTypeEncryptDecrypt {
		t.Errorf("CMK is %s/%s/%s, want Enabled/SYMMETRIC_DEFAULT/ENCRYPT_DECRYPT", cmk.KeyState, cmk.KeySpec, cmk.KeyUsage)
	}
	if want := "arn:aws:kms:us-east-1:"; !strings.HasPrefix(env.CMKARN, want) {
		t.Errorf("CMKARN = %q, want prefix %q", env.CMKARN, want)
	}

	disabled, err := env.CreateKey(ctx, devenv.KeySpec{Disabled: true, Description: "off"})
	if err != nil {
		t.Fatal(err)
	}
	if md := describe(disabled); md.KeyState != types.KeyStateDisabled || aws.ToString(md.Description) != "off" {
		t.Errorf("disabled key is %s %q, want Disabled \"off\"", md.KeyState, aws.ToString(md.Description))
	}

	asym, err := env.CreateKey(ctx, devenv.KeySpec{Asymmetric: true})
	if err != nil {
		t.Fatal(err)
	}
	if md := describe(asym); md.KeySpec == types.KeySpecSymmetricDefault || md.KeyState != types.KeyStateEnabled {
		t.Errorf("asymmetric key is %s/%s, want enabled and not SYMMETRIC_DEFAULT", md.KeyState, md.KeySpec)
	}

	if _, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(env.CMKARN + "0")}); err == nil {
		t.Error("DescribeKey of a key that does not exist succeeded")
	}
}

// roundTrip creates an aws data key in the env's key vault and encrypts and
// decrypts a value with it, as csfle will.
func roundTrip(t *testing.T, ctx context.Context, env *devenv.Env) primitive.Binary {
	t.Helper()
	client := connect(t, ctx, env)
	ce := clientEncryption(t, env, client)

	keyID, err := ce.CreateDataKey(ctx, "aws", options.DataKey().SetMasterKey(masterKey(env, env.CMKARN)))
	if err != nil {
		t.Fatalf("CreateDataKey: %v", err)
	}

	var doc struct {
		MasterKey map[string]string `bson:"masterKey"`
	}
	if err := client.Database("encryption").Collection("__keyVault").FindOne(ctx, bson.M{"_id": keyID}).Decode(&doc); err != nil {
		t.Fatalf("read back data key: %v", err)
	}
	if doc.MasterKey["provider"] != "aws" || doc.MasterKey["key"] != env.CMKARN || doc.MasterKey["endpoint"] != env.KMSEndpoint {
		t.Errorf("data key masterKey = %v, want provider aws, key %s, endpoint %s", doc.MasterKey, env.CMKARN, env.KMSEndpoint)
	}

	const plaintext = "123-45-6789"
	ct := encrypt(t, ctx, ce, keyID, plaintext)
	if ct.Subtype != 6 {
		t.Errorf("ciphertext subtype = %d, want 6", ct.Subtype)
	}
	if strings.Contains(string(ct.Data), plaintext) {
		t.Error("ciphertext contains the plaintext")
	}
	if again := encrypt(t, ctx, ce, keyID, plaintext); string(again.Data) != string(ct.Data) {
		t.Error("deterministic encryption gave two different ciphertexts")
	}
	if other := encrypt(t, ctx, ce, keyID, plaintext+"0"); string(other.Data) == string(ct.Data) {
		t.Error("different plaintexts gave the same ciphertext")
	}
	checkDecrypt(t, ctx, ce, ct, plaintext)
	return keyID
}

// clientEncryption closes the ClientEncryption when the test ends.
// ClientEncryption.Close must be called exactly once: a second call frees
// libmongocrypt's handle again and aborts the process.
func clientEncryption(t *testing.T, env *devenv.Env, client *mongo.Client) *mongo.ClientEncryption {
	t.Helper()
	ce := newClientEncryption(t, env, client)
	t.Cleanup(func() { _ = ce.Close(context.Background()) })
	return ce
}

func newClientEncryption(t *testing.T, env *devenv.Env, client *mongo.Client) *mongo.ClientEncryption {
	t.Helper()
	if !cseBuild {
		t.Fatal("this test needs libmongocrypt: run it with -tags cse")
	}
	ce, err := mongo.NewClientEncryption(client, options.ClientEncryption().
		SetKeyVaultNamespace(keyVaultNS).
		SetKmsProviders(map[string]map[string]interface{}{
			"aws": {"accessKeyId": env.AccessKeyID, "secretAccessKey": env.SecretAccessKey},
		}).
		SetTLSConfig(map[string]*tls.Config{"aws": env.TLSConfig()}))
	if err != nil {
		t.Fatalf("NewClientEncryption: %v", err)
	}
	return ce
}

func masterKey(env *devenv.Env, arn string) bson.M {
	return bson.M{"region": env.Region, "key": arn, "endpoint": env.KMSEndpoint}
}

func encrypt(t *testing.T, ctx context.Context, ce *mongo.ClientEncryption, keyID primitive.Binary, s string) primitive.Binary {
	t.Helper()
	typ, data, err := bson.MarshalValue(s)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := ce.Encrypt(ctx, bson.RawValue{Type: typ, Value: data}, options.Encrypt().
		SetAlgorithm("AEAD_AES_256_CBC_HMAC_SHA_512-Deterministic").
		SetKeyID(keyID))
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	return ct
}

func checkDecrypt(t *testing.T, ctx context.Context, ce *mongo.ClientEncryption, ct primitive.Binary, want string) {
	t.Helper()
	got, err := ce.Decrypt(ctx, ct)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if s, ok := got.StringValueOK(); !ok || s != want {
		t.Errorf("Decrypt = %v, want %q", got, want)
	}
}

func TestCSFLERoundTrip(t *testing.T) {
	t.Parallel()
	env := startEnv(t, t.TempDir())
	ctx := testCtx(t)
	roundTrip(t, ctx, env)

	// The KMS is really consulted: a disabled CMK cannot wrap a data key.
	disabled, err := env.CreateKey(ctx, devenv.KeySpec{Disabled: true})
	if err != nil {
		t.Fatal(err)
	}
	ce := clientEncryption(t, env, connect(t, ctx, env))
	if _, err := ce.CreateDataKey(ctx, "aws", options.DataKey().SetMasterKey(masterKey(env, disabled))); err == nil {
		t.Error("CreateDataKey with a disabled CMK succeeded")
	} else if !strings.Contains(err.Error(), "Disabled") {
		t.Errorf("CreateDataKey with a disabled CMK: %v, want an error naming the disabled key", err)
	}
}

func TestTwoEnvironmentsConcurrently(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	envs := make([]*devenv.Env, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range envs {
		wg.Go(func() { envs[i], errs[i] = devenv.Start(ctx, devenv.Options{Dir: t.TempDir()}) })
	}
	wg.Wait()
	for i, env := range envs {
		if env != nil {
			t.Cleanup(func() {
				if err := env.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		}
		if errs[i] != nil {
			t.Fatalf("Start #%d: %v", i, errs[i])
		}
	}
	if envs[0].MongoURI == envs[1].MongoURI || envs[0].KMSEndpoint == envs[1].KMSEndpoint || envs[0].CMKARN == envs[1].CMKARN {
		t.Fatalf("environments share a server or a CMK: %+v / %+v", envs[0], envs[1])
	}

	// t.Fatal must be called from the test goroutine, so each env runs as a
	// parallel subtest.
	for i, env := range envs {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			roundTrip(t, ctx, env)
			// One env's CMK is unknown to the other's KMS.
			other := envs[1-i]
			if _, err := env.KMSClient().DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(other.CMKARN)}); err == nil {
				t.Error("a KMS knows the other environment's CMK")
			}
		})
	}
}

func TestRestartKeepsKeysAndEndpoint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := testCtx(t)

	first, err := devenv.Start(ctx, devenv.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Close() }) // in case the test stops early
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(first.MongoURI))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	ce := newClientEncryption(t, first, client)
	keyID, err := ce.CreateDataKey(ctx, "aws", options.DataKey().SetMasterKey(masterKey(first, first.CMKARN)))
	if err != nil {
		t.Fatal(err)
	}
	ct := encrypt(t, ctx, ce, keyID, "kept")
	_ = ce.Close(ctx)
	_ = client.Disconnect(ctx)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	second := startEnv(t, dir)
	if second.CMKARN != first.CMKARN {
		t.Errorf("CMK changed across restart: %s -> %s", first.CMKARN, second.CMKARN)
	}
	if second.KMSEndpoint != first.KMSEndpoint || second.MongoURI != first.MongoURI {
		t.Errorf("ports changed across restart: %s %s -> %s %s", first.MongoURI, first.KMSEndpoint, second.MongoURI, second.KMSEndpoint)
	}
	// The data key made in the first run is still in the vault, and its
	// recorded endpoint reaches the second run's KMS.
	checkDecrypt(t, ctx, clientEncryption(t, second, connect(t, ctx, second)), ct, "kept")
}

func TestSecondStartOnSameDirFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := startEnv(t, dir)
	ca, err := os.ReadFile(first.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	env, err := devenv.Start(testCtx(t), devenv.Options{Dir: dir})
	if err == nil {
		_ = env.Close()
		t.Fatal("second Start on a directory in use succeeded")
	}
	if !strings.Contains(err.Error(), "in use by another process") {
		t.Errorf("second Start: %v, want it to say the directory is in use", err)
	}
	if after, err := os.ReadFile(first.CAFile); err != nil || string(after) != string(ca) {
		t.Errorf("the failed Start replaced the running environment's CA file (err %v)", err)
	}
}

func TestPinnedPortInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	for _, opts := range []devenv.Options{{KMSPort: port}, {MongoPort: port}} {
		opts.Dir = t.TempDir()
		env, err := devenv.Start(testCtx(t), opts)
		if err == nil {
			_ = env.Close()
			t.Fatalf("Start(%+v) succeeded on a taken port", opts)
		}
		if want := "port " + strconv.Itoa(port) + " on 127.0.0.1 is not available"; !strings.Contains(err.Error(), want) {
			t.Errorf("Start(%+v): %v, want %q", opts, err, want)
		}
	}
}

func TestEnvFile(t *testing.T) {
	t.Parallel()
	env := startEnv(t, t.TempDir())
	path := filepath.Join(t.TempDir(), "env.sh")
	if err := env.WriteEnvFile(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("env file mode = %v, want 0600", fi.Mode().Perm())
	}

	want := map[string]string{
		"CSFLE_DEV_MONGODB_URI":  env.MongoURI,
		"CSFLE_DEV_AWS_ENDPOINT": env.KMSEndpoint,
		"CSFLE_DEV_AWS_KEY_ARN":  env.CMKARN,
		"AWS_REGION":             env.Region,
		"AWS_ACCESS_KEY_ID":      env.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":  env.SecretAccessKey,
		"AWS_CA_BUNDLE":          env.CAFile,
	}
	if n := len(env.Exports()); n < len(want) {
		t.Errorf("Exports has %d lines, want at least %d", n, len(want))
	}
	// Let a real sh source the file and report what it got.
	script := ". " + path + "\n"
	for name := range want {
		script += "printf '%s=%s\\n' " + name + " \"$" + name + "\"\n"
	}
	out, err := exec.Command("sh", "-c", script).Output()
	if err != nil {
		t.Fatalf("sh: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, value, _ := strings.Cut(line, "=")
		if want[name] != value {
			t.Errorf("after sourcing, %s = %q, want %q", name, value, want[name])
		}
		delete(want, name)
	}
	if len(want) != 0 {
		t.Errorf("not exported: %v", want)
	}
}
