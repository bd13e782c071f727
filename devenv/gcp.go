package devenv

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// gcpServer answers, on one host:port, the two Google services
// libmongocrypt 1.7.2 talks to:
//
//   - the OAuth 2.0 token endpoint, where the "gcp" KMS provider's endpoint
//     points: POST /token with the form body
//     grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=JWT,
//     the JWT signed RS256 with the service account's key and claiming
//     {"iss": email, "aud": "https://{host}/token", "scope":
//     "https://www.{domain}/auth/cloudkms", "iat": …, "exp": iat+300},
//     answered with {"access_token": …, "expires_in": …};
//   - Cloud KMS, where a master key's endpoint points:
//     POST /v1/projects/P/locations/L/keyRings/R/cryptoKeys/K:encrypt with
//     {"plaintext": "<base64>"} → {"ciphertext": "<base64>"}, and :decrypt
//     the other way round, with "Authorization: Bearer {token}". An encrypt
//     for a stated keyVersion goes to …/cryptoKeys/K/cryptoKeyVersions/V:encrypt.
//
// {host} is the endpoint's host without its port, and {domain} is what
// follows its first dot: for 127.0.0.1:PORT, "https://127.0.0.1/token" and
// "https://www.0.0.1/auth/cloudkms".
type gcpServer struct {
	email     string
	publicKey *rsa.PublicKey
	audiences map[string]bool // "aud" claims accepted

	tokens tokenStore
	wrap   *wrapper
	keys   func(resource string) bool
	now    func() time.Time
}

// gcpKeyVersion is the one version each crypto key has.
const gcpKeyVersion = "1"

// gcpIDRE is what Cloud KMS allows in a key ring or key name; project ids
// and locations are narrower.
var gcpIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,63}$`)

// gcpJWTMaxLifetime and gcpClockSkew bound an assertion's iat and exp as
// Google's token endpoint does.
const (
	gcpJWTMaxLifetime = time.Hour
	gcpClockSkew      = time.Minute
)

// newGCPServiceAccountKey makes an RSA key as a GCP service account key
// file holds it: PKCS#8, PEM "PRIVATE KEY".
func newGCPServiceAccountKey() (*rsa.PrivateKey, string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, "", fmt.Errorf("devenv: generate GCP service account key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, "", fmt.Errorf("devenv: encode GCP service account key: %w", err)
	}
	return key, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

func (g *gcpServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		gcpError(w, http.StatusMethodNotAllowed, "Only POST is served here.")
		return
	}
	switch p := r.URL.Path; {
	case p == "/token":
		g.token(w, r)
	case strings.HasPrefix(p, "/v1/projects/"):
		g.keyOperation(w, r)
	default:
		gcpError(w, http.StatusNotFound, "No such endpoint.")
	}
}

func (g *gcpServer) token(w http.ResponseWriter, r *http.Request) {
	form, err := readForm(r)
	if err != nil {
		gcpTokenError(w, http.StatusBadRequest, "invalid_request", "The request body must be a form.")
		return
	}
	if form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		gcpTokenError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+form.Get("grant_type"))
		return
	}
	if err := g.verifyAssertion(form.Get("assertion")); err != nil {
		gcpTokenError(w, http.StatusBadRequest, "invalid_grant", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": g.tokens.issue(g.now()),
		"expires_in":   int(tokenTTL/time.Second) - 1,
		"token_type":   "Bearer",
	})
}

// verifyAssertion checks a JWT bearer assertion as Google's token endpoint
// does: RS256 signed by the service account's key, issued by its email, for
// this token endpoint, asking for a Cloud KMS scope, and current. Its
// errors name what is wrong but quote nothing of the assertion.
func (g *gcpServer) verifyAssertion(jwt string) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return errors.New("Invalid JWT: expected three dot-separated parts.")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodeJWTPart(parts[0], &header); err != nil || header.Alg != "RS256" {
		return errors.New("Invalid JWT header: alg must be RS256.")
	}
	sig, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[2], "="))
	if err != nil {
		return errors.New("Invalid JWT Signature.")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(g.publicKey, crypto.SHA256, digest[:], sig) != nil {
		return errors.New("Invalid JWT Signature.")
	}
	var claims struct {
		Iss   string `json:"iss"`
		Aud   string `json:"aud"`
		Scope string `json:"scope"`
		Iat   *int64 `json:"iat"`
		Exp   *int64 `json:"exp"`
	}
	if err := decodeJWTPart(parts[1], &claims); err != nil {
		return errors.New("Invalid JWT claims.")
	}
	switch {
	case claims.Iss != g.email:
		return errors.New("Invalid JWT: the issuer is not this service account.")
	case !g.audiences[claims.Aud]:
		return errors.New("Invalid JWT: the audience is not this token endpoint.")
	case !strings.Contains(claims.Scope, "/auth/cloudkms") && !strings.Contains(claims.Scope, "/auth/cloud-platform"):
		return errors.New("Invalid JWT: no Cloud KMS scope requested.")
	case claims.Iat == nil || claims.Exp == nil:
		return errors.New("Invalid JWT: iat and exp are required.")
	}
	now := g.now()
	iat, exp := time.Unix(*claims.Iat, 0), time.Unix(*claims.Exp, 0)
	switch {
	case !exp.After(iat) || exp.Sub(iat) > gcpJWTMaxLifetime:
		return errors.New("Invalid JWT: exp must be after iat, by at most an hour.")
	case iat.After(now.Add(gcpClockSkew)):
		return errors.New("Invalid JWT: iat is in the future.")
	case !now.Before(exp.Add(gcpClockSkew)):
		return errors.New("Invalid JWT: the token has expired.")
	}
	return nil
}

func decodeJWTPart(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func (g *gcpServer) keyOperation(w http.ResponseWriter, r *http.Request) {
	// /v1/projects/P/locations/L/keyRings/R/cryptoKeys/K[/cryptoKeyVersions/V]:OP
	resource, op, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v1/"), ":")
	if !ok || (op != "encrypt" && op != "decrypt") {
		gcpError(w, http.StatusNotFound, "Only :encrypt and :decrypt are served here.")
		return
	}
	parts := strings.Split(resource, "/")
	if (len(parts) != 8 && len(parts) != 10) ||
		parts[0] != "projects" || parts[2] != "locations" || parts[4] != "keyRings" || parts[6] != "cryptoKeys" ||
		(len(parts) == 10 && parts[8] != "cryptoKeyVersions") {
		gcpError(w, http.StatusNotFound, "The resource is not a crypto key or crypto key version.")
		return
	}
	for _, i := range []int{1, 3, 5, 7} {
		if !gcpIDRE.MatchString(parts[i]) {
			gcpError(w, http.StatusBadRequest, "Invalid resource name.")
			return
		}
	}
	if !g.tokens.check(r, g.now()) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{
			"code":    http.StatusUnauthorized,
			"message": "Request had invalid authentication credentials. Expected OAuth 2 access token.",
			"status":  "UNAUTHENTICATED",
		}})
		return
	}
	keyName := strings.Join(parts[:8], "/")
	if len(parts) == 10 {
		if op == "decrypt" {
			gcpError(w, http.StatusBadRequest, "Decrypt is called on a crypto key, not on one of its versions.")
			return
		}
		if parts[9] != gcpKeyVersion {
			writeJSON(w, http.StatusNotFound, gcpStatus(http.StatusNotFound, "CryptoKeyVersion "+resource+" not found.", "NOT_FOUND"))
			return
		}
	}
	if !g.keys(keyName) {
		writeJSON(w, http.StatusNotFound, gcpStatus(http.StatusNotFound, "CryptoKey "+keyName+" not found.", "NOT_FOUND"))
		return
	}

	in := map[string]string{}
	if err := readJSON(r, &in); err != nil {
		gcpError(w, http.StatusBadRequest, "Invalid JSON payload received.")
		return
	}
	field, outField := "plaintext", "ciphertext"
	if op == "decrypt" {
		field, outField = "ciphertext", "plaintext"
	}
	value, err := base64.StdEncoding.DecodeString(in[field])
	if err != nil || len(value) == 0 {
		gcpError(w, http.StatusBadRequest, fmt.Sprintf("Invalid value at '%s': must be non-empty base64.", field))
		return
	}

	masterKey := "gcp:" + keyName
	var out []byte
	if op == "encrypt" {
		out = g.wrap.wrap(masterKey, value)
	} else if out, err = g.wrap.unwrap(masterKey, value); err != nil {
		gcpError(w, http.StatusBadRequest, "Decryption failed: the ciphertext is invalid.")
		return
	}
	resp := map[string]string{outField: base64.StdEncoding.EncodeToString(out)}
	if op == "encrypt" {
		resp["name"] = keyName + "/cryptoKeyVersions/" + gcpKeyVersion
	}
	writeJSON(w, http.StatusOK, resp)
}

func gcpStatus(code int, message, status string) map[string]any {
	return map[string]any{"error": map[string]any{"code": code, "message": message, "status": status}}
}

func gcpError(w http.ResponseWriter, code int, message string) {
	status := "INVALID_ARGUMENT"
	switch code {
	case http.StatusNotFound:
		status = "NOT_FOUND"
	case http.StatusMethodNotAllowed:
		status = "UNIMPLEMENTED"
	}
	writeJSON(w, code, gcpStatus(code, message, status))
}

func gcpTokenError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": description})
}
