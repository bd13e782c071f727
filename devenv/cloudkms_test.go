package devenv_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/csfle/csfle/devenv"
)

// These tests speak the Azure and GCP protocols directly, in the shapes
// libmongocrypt 1.7.2 sends (see azure.go and gcp.go), and need no cgo.
// cloudkms_cse_test.go has libmongocrypt itself talk to the servers.

func TestCloudKMSShape(t *testing.T) {
	t.Parallel()
	env := startEnv(t, t.TempDir())

	for name, ep := range map[string]string{"AzureEndpoint": env.AzureEndpoint, "GCPEndpoint": env.GCPEndpoint} {
		if host, _, err := net.SplitHostPort(ep); err != nil || host != "127.0.0.1" {
			t.Errorf("%s = %q, want 127.0.0.1:PORT", name, ep)
		}
		conn, err := tls.Dial("tcp", ep, env.TLSConfig())
		if err != nil {
			t.Errorf("TLS to %s with the env's CA: %v", name, err)
			continue
		}
		_ = conn.Close()
		if conn, err := tls.Dial("tcp", ep, &tls.Config{}); err == nil {
			_ = conn.Close()
			t.Errorf("%s's certificate verified against the system roots", name)
		}
	}
	if env.AzureEndpoint == env.GCPEndpoint || env.AzureEndpoint == env.KMSEndpoint {
		t.Errorf("servers share an address: azure %s, gcp %s, aws %s", env.AzureEndpoint, env.GCPEndpoint, env.KMSEndpoint)
	}
	for name, v := range map[string]string{
		"AzureTenantID": env.AzureTenantID, "AzureClientID": env.AzureClientID, "AzureClientSecret": env.AzureClientSecret,
		"AzureKeyName": env.AzureKeyName, "AzureKeyVersion": env.AzureKeyVersion,
		"GCPEmail": env.GCPEmail, "GCPProjectID": env.GCPProjectID, "GCPLocation": env.GCPLocation,
		"GCPKeyRing": env.GCPKeyRing, "GCPKeyName": env.GCPKeyName,
	} {
		if v == "" {
			t.Errorf("%s is empty", name)
		}
	}
	// libmongocrypt sends the client secret unencoded in a form body.
	if strings.Trim(env.AzureClientSecret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != "" {
		t.Errorf("AzureClientSecret has characters a form body must encode")
	}
	if _, err := x509.ParsePKCS8PrivateKey(env.GCPPrivateKeyDER()); err != nil {
		t.Errorf("GCPPrivateKeyPEM is not PKCS#8: %v", err)
	}
	if b, _ := pem.Decode([]byte(env.GCPPrivateKeyPEM)); b == nil || b.Type != "PRIVATE KEY" {
		t.Errorf("GCPPrivateKeyPEM is not a PEM PRIVATE KEY block")
	}

	other := startEnv(t, t.TempDir())
	if other.AzureClientSecret == env.AzureClientSecret || other.GCPPrivateKeyPEM == env.GCPPrivateKeyPEM ||
		other.AzureTenantID == env.AzureTenantID || other.AzureClientID == env.AzureClientID {
		t.Error("two environments got the same Azure or GCP credentials")
	}
}

func TestCloudKMSEnvFile(t *testing.T) {
	t.Parallel()
	env := startEnv(t, t.TempDir())

	// Exports may be printed (csfle-dev does): no secret in them.
	shown := strings.Join(env.Exports(), "\n")
	for name, secret := range map[string]string{
		"Azure client secret": env.AzureClientSecret,
		"GCP private key":     strings.TrimSpace(strings.Split(env.GCPPrivateKeyPEM, "\n")[1]),
	} {
		if strings.Contains(shown, secret) {
			t.Errorf("Exports shows the %s", name)
		}
	}

	path := filepath.Join(t.TempDir(), "env.sh")
	if err := env.WriteEnvFile(path); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("env file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	want := map[string]string{
		"CSFLE_DEV_CA_FILE":             env.CAFile,
		"CSFLE_DEV_AZURE_ENDPOINT":      env.AzureEndpoint,
		"CSFLE_DEV_AZURE_TENANT_ID":     env.AzureTenantID,
		"CSFLE_DEV_AZURE_CLIENT_ID":     env.AzureClientID,
		"CSFLE_DEV_AZURE_CLIENT_SECRET": env.AzureClientSecret,
		"CSFLE_DEV_AZURE_KEY_NAME":      env.AzureKeyName,
		"CSFLE_DEV_AZURE_KEY_VERSION":   env.AzureKeyVersion,
		"CSFLE_DEV_GCP_ENDPOINT":        env.GCPEndpoint,
		"CSFLE_DEV_GCP_EMAIL":           env.GCPEmail,
		"CSFLE_DEV_GCP_PRIVATE_KEY":     env.GCPPrivateKeyPEM,
		"CSFLE_DEV_GCP_PROJECT_ID":      env.GCPProjectID,
		"CSFLE_DEV_GCP_LOCATION":        env.GCPLocation,
		"CSFLE_DEV_GCP_KEY_RING":        env.GCPKeyRing,
		"CSFLE_DEV_GCP_KEY_NAME":        env.GCPKeyName,
	}
	// A real sh sources the file; each value comes back NUL-terminated, so
	// the PEM's newlines survive.
	script := ". " + path + "\n"
	var names []string
	for name := range want {
		names = append(names, name)
		script += "printf '%s\\0' \"$" + name + "\"\n"
	}
	out, err := exec.Command("sh", "-c", script).Output()
	if err != nil {
		t.Fatalf("sh: %v", err)
	}
	values := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(values) != len(names) {
		t.Fatalf("sh printed %d values, want %d", len(values), len(names))
	}
	for i, name := range names {
		if values[i] != want[name] {
			t.Errorf("after sourcing, %s = %q, want %q", name, values[i], want[name])
		}
	}
}

// cloudPost sends a request as libmongocrypt does (its own Host header aside)
// and decodes the JSON answer.
func cloudPost(t *testing.T, env *devenv.Env, hostPort, pathQuery, contentType, token string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "https://"+hostPort+pathQuery, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{
		Transport:     env.HTTPClient().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", pathQuery, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ContentLength != int64(len(raw)) {
		t.Errorf("POST %s: Content-Length %d for a body of %d bytes", pathQuery, resp.ContentLength, len(raw))
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("POST %s: %d, body is not JSON: %q", pathQuery, resp.StatusCode, raw)
	}
	return resp.StatusCode, m
}

func cloudForm(kv ...string) []byte {
	var parts []string
	for i := 0; i < len(kv); i += 2 {
		parts = append(parts, kv[i]+"="+kv[i+1]) // unencoded, as libmongocrypt does
	}
	return []byte(strings.Join(parts, "&"))
}

const cloudFormType = "application/x-www-form-urlencoded"

func cloudAzureToken(t *testing.T, env *devenv.Env, tenant, clientID, secret string) (int, map[string]any) {
	t.Helper()
	return cloudPost(t, env, env.AzureEndpoint, "/"+tenant+"/oauth2/v2.0/token", cloudFormType, "",
		cloudForm("client_id", clientID, "scope", "https%3A%2F%2F0.0.1%2F.default", "client_secret", secret, "grant_type", "client_credentials"))
}

func TestAzureServerProtocol(t *testing.T) {
	t.Parallel()
	env := startEnv(t, t.TempDir())

	for _, tc := range []struct {
		name                     string
		tenant, clientID, secret string
		status                   int
	}{
		{"wrong secret", env.AzureTenantID, env.AzureClientID, env.AzureClientSecret + "x", 401},
		{"wrong client", env.AzureTenantID, env.AzureTenantID, env.AzureClientSecret, 401},
		{"wrong tenant", env.AzureClientID, env.AzureClientID, env.AzureClientSecret, 400},
	} {
		status, body := cloudAzureToken(t, env, tc.tenant, tc.clientID, tc.secret)
		if status != tc.status || body["error"] == nil || body["access_token"] != nil {
			t.Errorf("%s: %d %v, want %d and an error", tc.name, status, body, tc.status)
		}
		if b, _ := json.Marshal(body); strings.Contains(string(b), tc.secret) {
			t.Errorf("%s: the error echoes the secret sent", tc.name)
		}
	}

	status, body := cloudAzureToken(t, env, env.AzureTenantID, env.AzureClientID, env.AzureClientSecret)
	token, _ := body["access_token"].(string)
	if status != 200 || token == "" || body["expires_in"] == nil {
		t.Fatalf("token: %d %v", status, body)
	}

	other, err := env.CreateAzureKey("other-key")
	if err != nil {
		t.Fatal(err)
	}
	dek := bytes.Repeat([]byte{7}, 96)
	wrapBody := func(v []byte) []byte {
		return []byte(`{"alg": "RSA-OAEP-256", "value": "` + base64.RawURLEncoding.EncodeToString(v) + `"}`)
	}
	keyOp := func(name, version, op, token string, value []byte) (int, map[string]any) {
		return cloudPost(t, env, env.AzureEndpoint, "/keys/"+name+"/"+version+"/"+op+"?api-version=7.1", "application/json", token, wrapBody(value))
	}

	// Without a key version the path has an empty segment.
	status, body = keyOp(env.AzureKeyName, "", "wrapkey", token, dek)
	wrapped, _ := body["value"].(string)
	if status != 200 || wrapped == "" || !strings.Contains(body["kid"].(string), "/keys/"+env.AzureKeyName+"/"+env.AzureKeyVersion) {
		t.Fatalf("wrapkey: %d %v", status, body)
	}
	if strings.ContainsAny(wrapped, "+/=") {
		t.Errorf("wrapkey value %q is not unpadded base64url", wrapped)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(wrapped)
	if bytes.Contains(raw, dek[:16]) {
		t.Error("the wrapped key contains the key")
	}
	for _, version := range []string{"", env.AzureKeyVersion} {
		status, body = keyOp(env.AzureKeyName, version, "unwrapkey", token, raw)
		if got, _ := base64.RawURLEncoding.DecodeString(body["value"].(string)); status != 200 || !bytes.Equal(got, dek) {
			t.Errorf("unwrapkey (version %q): %d %v", version, status, body)
		}
	}
	if status, _ = keyOp(env.AzureKeyName, "", "unwrapkey", env.AzureAccessToken(), raw); status != 200 {
		t.Errorf("unwrapkey with AzureAccessToken: %d", status)
	}

	for _, tc := range []struct {
		name                 string
		key, version, op, tk string
		value                []byte
		status               int
	}{
		{"no token", env.AzureKeyName, "", "unwrapkey", "", raw, 401},
		{"token not issued here", env.AzureKeyName, "", "unwrapkey", env.AzureClientSecret, raw, 401},
		{"unknown key", "no-such-key", "", "wrapkey", token, dek, 404},
		{"unknown version", env.AzureKeyName, other, "wrapkey", token, dek, 404},
		{"another key's wrapping", "other-key", "", "unwrapkey", token, raw, 400},
		{"tampered", env.AzureKeyName, "", "unwrapkey", token, append(raw[:len(raw)-1:len(raw)-1], raw[len(raw)-1]^1), 400},
	} {
		if status, body := keyOp(tc.key, tc.version, tc.op, tc.tk, tc.value); status != tc.status || body["error"] == nil {
			t.Errorf("%s: %d %v, want %d and an error", tc.name, status, body, tc.status)
		}
	}
	if status, _ := cloudPost(t, env, env.AzureEndpoint, "/keys/"+env.AzureKeyName+"//wrapkey", "application/json", token, wrapBody(dek)); status != 400 {
		t.Errorf("wrapkey without api-version: %d, want 400", status)
	}
}

// cloudGCPAssertion signs a JWT as libmongocrypt does.
func cloudGCPAssertion(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	signed := "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString(c)
	digest := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestGCPServerProtocol(t *testing.T) {
	t.Parallel()
	env := startEnv(t, t.TempDir())
	k, err := x509.ParsePKCS8PrivateKey(env.GCPPrivateKeyDER())
	if err != nil {
		t.Fatal(err)
	}
	key := k.(*rsa.PrivateKey)
	wrongKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	claims := func(change func(map[string]any)) map[string]any {
		// What libmongocrypt claims for an endpoint of 127.0.0.1:PORT.
		c := map[string]any{
			"iss": env.GCPEmail, "aud": "https://127.0.0.1/token", "scope": "https://www.0.0.1/auth/cloudkms",
			"iat": now, "exp": now + 300,
		}
		if change != nil {
			change(c)
		}
		return c
	}
	tokenReq := func(assertion string) (int, map[string]any) {
		return cloudPost(t, env, env.GCPEndpoint, "/token", cloudFormType, "",
			cloudForm("grant_type", "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer", "assertion", assertion))
	}

	for _, tc := range []struct {
		name      string
		assertion string
	}{
		{"another key", cloudGCPAssertion(t, wrongKey, claims(nil))},
		{"another issuer", cloudGCPAssertion(t, key, claims(func(c map[string]any) { c["iss"] = "someone@else.iam.gserviceaccount.com" }))},
		{"another audience", cloudGCPAssertion(t, key, claims(func(c map[string]any) { c["aud"] = "https://oauth2.googleapis.com/token" }))},
		{"no KMS scope", cloudGCPAssertion(t, key, claims(func(c map[string]any) { c["scope"] = "https://www.googleapis.com/auth/devstorage" }))},
		{"expired", cloudGCPAssertion(t, key, claims(func(c map[string]any) { c["iat"], c["exp"] = now-7200, now-6900 }))},
		{"too long", cloudGCPAssertion(t, key, claims(func(c map[string]any) { c["exp"] = now + 7200 }))},
		{"not a JWT", "abc.def"},
	} {
		if status, body := tokenReq(tc.assertion); status != 400 || body["error"] != "invalid_grant" {
			t.Errorf("%s: %d %v, want 400 invalid_grant", tc.name, status, body)
		}
	}

	status, body := tokenReq(cloudGCPAssertion(t, key, claims(nil)))
	token, _ := body["access_token"].(string)
	if status != 200 || token == "" || body["expires_in"] == nil {
		t.Fatalf("token: %d %v", status, body)
	}
	if status, _ := tokenReq(cloudGCPAssertion(t, key, claims(func(c map[string]any) { c["aud"] = "https://" + env.GCPEndpoint + "/token" }))); status != 200 {
		t.Errorf("audience with the port: %d, want 200", status)
	}

	if err := env.CreateGCPKey(env.GCPProjectID, env.GCPLocation, env.GCPKeyRing, "other-key"); err != nil {
		t.Fatal(err)
	}
	keyPath := func(name string) string {
		return "/v1/projects/" + env.GCPProjectID + "/locations/" + env.GCPLocation + "/keyRings/" + env.GCPKeyRing + "/cryptoKeys/" + name
	}
	op := func(path, field, token string, value []byte) (int, map[string]any) {
		return cloudPost(t, env, env.GCPEndpoint, path, "application/json", token,
			[]byte(`{"`+field+`": "`+base64.StdEncoding.EncodeToString(value)+`"}`))
	}
	dek := bytes.Repeat([]byte{9}, 96)
	status, body = op(keyPath(env.GCPKeyName)+":encrypt", "plaintext", token, dek)
	ct, err := base64.StdEncoding.DecodeString(body["ciphertext"].(string))
	if status != 200 || err != nil || bytes.Contains(ct, dek[:16]) {
		t.Fatalf("encrypt: %d %v", status, body)
	}
	status, body = op(keyPath(env.GCPKeyName)+":decrypt", "ciphertext", env.GCPAccessToken(), ct)
	if pt, _ := base64.StdEncoding.DecodeString(body["plaintext"].(string)); status != 200 || !bytes.Equal(pt, dek) {
		t.Errorf("decrypt: %d %v", status, body)
	}
	if status, _ := op(keyPath(env.GCPKeyName)+"/cryptoKeyVersions/1:encrypt", "plaintext", token, dek); status != 200 {
		t.Errorf("encrypt with version 1: %d", status)
	}

	for _, tc := range []struct {
		name, path, field, token string
		value                    []byte
		status                   int
	}{
		{"no token", keyPath(env.GCPKeyName) + ":decrypt", "ciphertext", "", ct, 401},
		{"token not issued here", keyPath(env.GCPKeyName) + ":decrypt", "ciphertext", env.AzureAccessToken(), ct, 401},
		{"unknown key", keyPath("no-such-key") + ":encrypt", "plaintext", token, dek, 404},
		{"unknown version", keyPath(env.GCPKeyName) + "/cryptoKeyVersions/2:encrypt", "plaintext", token, dek, 404},
		{"another key's ciphertext", keyPath("other-key") + ":decrypt", "ciphertext", token, ct, 400},
		{"bad identifier", "/v1/projects/a%20b/locations/l/keyRings/r/cryptoKeys/k:encrypt", "plaintext", token, dek, 400},
	} {
		if status, body := op(tc.path, tc.field, tc.token, tc.value); status != tc.status || body["error"] == nil {
			t.Errorf("%s: %d %v, want %d and an error", tc.name, status, body, tc.status)
		}
	}
}
