package devenv

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// azureServer answers, on one host:port, the two Azure services
// libmongocrypt 1.7.2 talks to:
//
//   - the Microsoft identity platform's token endpoint, where the
//     "azure" KMS provider's identityPlatformEndpoint points:
//     POST /{tenantId}/oauth2/v2.0/token with the form body
//     client_id=…&scope=https%3A%2F%2F{domain}%2F.default&client_secret=…&grant_type=client_credentials
//     (libmongocrypt does not URL-encode the id or the secret), answered
//     with {"access_token": …, "expires_in": …};
//   - Key Vault, where a master key's keyVaultEndpoint points:
//     POST /keys/{keyName}/{keyVersion}/wrapkey?api-version=7.1 and
//     …/unwrapkey, with "Authorization: Bearer {token}" and the body
//     {"alg": "RSA-OAEP-256", "value": "<base64url>"}, answered with
//     {"kid": …, "value": "<base64url>"}. With no keyVersion the path holds
//     an empty segment: /keys/{keyName}//wrapkey.
//
// Errors come in the services' shapes: {"error": "…", "error_description":
// "…"} from the identity platform, {"error": {"code": …, "message": …}}
// from Key Vault.
type azureServer struct {
	tenantID, clientID, clientSecret string

	tokens tokenStore
	wrap   *wrapper
	keys   func(name string) (version string, ok bool)
	now    func() time.Time
}

// azureKeyNameRE is what Key Vault allows in a key name.
var azureKeyNameRE = regexp.MustCompile(`^[0-9A-Za-z-]{1,127}$`)

func (a *azureServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		azureVaultError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Only POST is served here.")
		return
	}
	// The path is taken as sent: a ServeMux would clean the empty key
	// version segment of /keys/NAME//wrapkey away with a redirect.
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, "/keys/"):
		a.keyOperation(w, r)
	case strings.HasSuffix(p, "/oauth2/v2.0/token"):
		a.token(w, r, strings.TrimSuffix(strings.TrimPrefix(p, "/"), "/oauth2/v2.0/token"))
	default:
		azureVaultError(w, http.StatusNotFound, "NotFound", "No such endpoint.")
	}
}

func (a *azureServer) token(w http.ResponseWriter, r *http.Request, tenant string) {
	if tenant != a.tenantID {
		azureTokenError(w, http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("AADSTS90002: Tenant '%s' not found.", tenant))
		return
	}
	form, err := readForm(r)
	if err != nil {
		azureTokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must be a form.")
		return
	}
	if form.Get("grant_type") != "client_credentials" {
		azureTokenError(w, http.StatusBadRequest, "unsupported_grant_type",
			"AADSTS70003: This app only supports grant_type client_credentials.")
		return
	}
	// Neither the id nor the secret sent is echoed: either may be a secret
	// meant for another service.
	if !equalSecret(form.Get("client_id"), a.clientID) || !equalSecret(form.Get("client_secret"), a.clientSecret) {
		azureTokenError(w, http.StatusUnauthorized, "invalid_client",
			"AADSTS7000215: Invalid client secret provided, or no such application in this tenant.")
		return
	}
	if !strings.HasSuffix(form.Get("scope"), "/.default") {
		azureTokenError(w, http.StatusBadRequest, "invalid_scope", "AADSTS1002012: The scope must end in /.default.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     int(tokenTTL / time.Second),
		"ext_expires_in": int(tokenTTL / time.Second),
		"access_token":   a.tokens.issue(a.now()),
	})
}

func (a *azureServer) keyOperation(w http.ResponseWriter, r *http.Request) {
	// /keys/NAME/VERSION/OP or /keys/NAME/OP; VERSION may be empty.
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/keys/"), "/")
	var name, version, op string
	switch len(parts) {
	case 2:
		name, op = parts[0], parts[1]
	case 3:
		name, version, op = parts[0], parts[1], parts[2]
	default:
		azureVaultError(w, http.StatusNotFound, "NotFound", "No such endpoint.")
		return
	}
	if op != "wrapkey" && op != "unwrapkey" {
		azureVaultError(w, http.StatusNotFound, "NotFound", "Only wrapkey and unwrapkey are served here.")
		return
	}
	if v := r.URL.Query().Get("api-version"); !strings.HasPrefix(v, "7.") {
		azureVaultError(w, http.StatusBadRequest, "BadParameter",
			fmt.Sprintf("The specified version (%s) is not recognized. Consider using the latest supported version (7.x).", v))
		return
	}
	if !a.tokens.check(r, a.now()) {
		azureVaultError(w, http.StatusUnauthorized, "Unauthorized", "AKV10000: Request is missing a valid Bearer token.")
		return
	}
	keyVersion, ok := a.keys(name)
	if !ok || !azureKeyNameRE.MatchString(name) || (version != "" && version != keyVersion) {
		azureVaultError(w, http.StatusNotFound, "KeyNotFound",
			fmt.Sprintf("A key with (name/id) %s/%s was not found in this key vault.", name, version))
		return
	}

	var req struct {
		Alg   string `json:"alg"`
		Value string `json:"value"`
	}
	if err := readJSON(r, &req); err != nil {
		azureVaultError(w, http.StatusBadRequest, "BadParameter", "The request body is not valid JSON.")
		return
	}
	if req.Alg != "RSA-OAEP-256" && req.Alg != "RSA-OAEP" {
		azureVaultError(w, http.StatusBadRequest, "BadParameter", fmt.Sprintf("Algorithm %q is not supported for this key.", req.Alg))
		return
	}
	value, err := decodeBase64Any(req.Value)
	if err != nil || len(value) == 0 {
		azureVaultError(w, http.StatusBadRequest, "BadParameter", "Property 'value' must be non-empty base64url.")
		return
	}

	masterKey := "azure:" + name
	var out []byte
	if op == "wrapkey" {
		out = a.wrap.wrap(masterKey, value)
	} else if out, err = a.wrap.unwrap(masterKey, value); err != nil {
		azureVaultError(w, http.StatusBadRequest, "BadParameter", "The parameter is incorrect: the value cannot be unwrapped with this key.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"kid":   "https://" + r.Host + "/keys/" + name + "/" + keyVersion,
		"value": rawURL64(out),
	})
}

func azureTokenError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": description})
}

func azureVaultError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// readForm parses an application/x-www-form-urlencoded request body.
func readForm(r *http.Request) (url.Values, error) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return nil, fmt.Errorf("content type %q", ct)
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.PostForm, nil
}
