package devenv

// Shared machinery of the Azure and GCP test servers (azure.go, gcp.go):
// the HTTPS server, the bearer tokens they issue, the AES-256-GCM "wrapping"
// that stands in for the real services' key operations, the record of the
// requests they saw, and the state that survives a restart.
//
// These servers implement only what libmongocrypt sends, and answer in the
// shapes it parses. They are test infrastructure: the wrapping key of each
// server lives in Dir (cloudkms.json, mode 0600), like local-kms's keys in
// its LevelDB, so that data keys made under Azure or GCP stay readable
// across restarts of the same environment.

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"
)

// cloudStateFile holds, in Dir, the ports and wrapping keys of the Azure and
// GCP servers and the master keys created on them. Unlike devenv.json it
// holds secrets, hence its own file and mode 0600.
const cloudStateFile = "cloudkms.json"

type cloudState struct {
	AzurePort    int               `json:"azure_port"`
	GCPPort      int               `json:"gcp_port"`
	AzureWrapKey []byte            `json:"azure_wrap_key"` // 32 bytes
	GCPWrapKey   []byte            `json:"gcp_wrap_key"`   // 32 bytes
	AzureKeys    map[string]string `json:"azure_keys"`     // key name -> its one version
	GCPKeys      []string          `json:"gcp_keys"`       // projects/P/locations/L/keyRings/R/cryptoKeys/K
}

func readCloudState(dir string) cloudState {
	var s cloudState
	b, err := os.ReadFile(filepath.Join(dir, cloudStateFile))
	if err != nil || json.Unmarshal(b, &s) != nil {
		return cloudState{}
	}
	return s
}

func writeCloudState(dir string, s cloudState) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, cloudStateFile), append(b, '\n'), 0o600)
}

// tokenTTL is how long an issued access token is valid, as the real
// services grant by default.
const tokenTTL = time.Hour

// tokenStore remembers the bearer tokens a server issued. A token it did not
// issue, or one past its expiry, is refused.
type tokenStore struct {
	mu     sync.Mutex
	tokens map[string]time.Time // token -> expiry
}

func (s *tokenStore) issue(now time.Time) string {
	tok := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens == nil {
		s.tokens = make(map[string]time.Time)
	}
	for t, exp := range s.tokens { // keep the map small on long runs
		if now.After(exp) {
			delete(s.tokens, t)
		}
	}
	s.tokens[tok] = now.Add(tokenTTL)
	return tok
}

// check reports whether the request carries "Authorization: Bearer T" for
// a token T issued here and still valid.
func (s *tokenStore) check(r *http.Request, now time.Time) bool {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) <= len(prefix) || h[:len(prefix)] != prefix {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[h[len(prefix):]]
	return ok && now.Before(exp)
}

// wrapper seals key material with AES-256-GCM under a server's key, bound
// by the additional data to the master key that wrapped it, so that
// unwrapping under another master key fails as it would in a real KMS.
type wrapper struct{ aead cipher.AEAD }

func newWrapper(key []byte) (*wrapper, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &wrapper{aead}, nil
}

func (w *wrapper) wrap(masterKey string, plaintext []byte) []byte {
	nonce := randomBytes(w.aead.NonceSize())
	return w.aead.Seal(nonce, nonce, plaintext, []byte(masterKey))
}

func (w *wrapper) unwrap(masterKey string, wrapped []byte) ([]byte, error) {
	n := w.aead.NonceSize()
	if len(wrapped) < n+w.aead.Overhead() {
		return nil, errors.New("ciphertext too short")
	}
	return w.aead.Open(nil, wrapped[:n], wrapped[n:], []byte(masterKey))
}

// requestLog records "PROVIDER METHOD PATH?QUERY STATUS" for each request a
// server answered: paths and statuses only, never headers or bodies, which
// carry secrets.
type requestLog struct {
	mu      sync.Mutex
	entries []string
}

const maxLoggedRequests = 1000

func (l *requestLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) == maxLoggedRequests {
		l.entries = append(l.entries[:0], l.entries[1:]...)
	}
	l.entries = append(l.entries, s)
}

func (l *requestLog) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.entries...)
}

// statusRecorder captures the status a handler wrote, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// maxRequestBody bounds what a server reads of a request. libmongocrypt's
// requests are well under a kilobyte.
const maxRequestBody = 1 << 20

// httpsServer serves h over TLS on ln (already bound to 127.0.0.1), logging
// each request's path and status to rlog and, if verbose, to stderr.
type httpsServer struct {
	name string
	srv  *http.Server
	done chan struct{}
}

func serveHTTPS(name string, ln net.Listener, cert tls.Certificate, h http.Handler, rlog *requestLog, verbose bool) *httpsServer {
	errorLog := log.New(io.Discard, "", 0)
	var reqLog *log.Logger
	if verbose {
		errorLog = log.New(os.Stderr, "devenv "+name+": ", log.LstdFlags)
		reqLog = errorLog
	}
	logged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		line := name + " " + r.Method + " " + r.URL.RequestURI() + " " + strconv.Itoa(rec.status)
		rlog.add(line)
		if reqLog != nil {
			reqLog.Print(line)
		}
	})
	s := &httpsServer{
		name: name,
		srv: &http.Server{
			Handler:           logged,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          errorLog,
		},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})) // always non-nil; ErrServerClosed after close
	}()
	return s
}

func (s *httpsServer) close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("devenv: stop %s server: %w", s.name, err)
	}
	return nil
}

// writeJSON answers with v as JSON and an explicit Content-Length, which
// libmongocrypt's response parser reads to know where the body ends.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// readJSON decodes a JSON request body into v.
func readJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// equalSecret compares two secrets in constant time.
func equalSecret(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// decodeBase64Any accepts standard or URL-safe base64, padded or not: the
// real services are lenient, and libmongocrypt's base64url has no padding.
func decodeBase64Any(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("invalid base64")
}

func rawURL64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// The master keys every environment has, on each server.
const (
	DefaultAzureKeyName = "csfle-dev-key"

	DefaultGCPProjectID = "csfle-dev"
	DefaultGCPLocation  = "global"
	DefaultGCPKeyRing   = "csfle-dev"
	DefaultGCPKeyName   = "csfle-dev-key"
)

// gcpServiceAccountEmail is the one service account of every environment.
const gcpServiceAccountEmail = "csfle-dev@csfle-dev.iam.gserviceaccount.com"

// cloudKMS is the Azure and GCP servers of one environment and the state
// they share with Dir.
type cloudKMS struct {
	dir string

	mu    sync.Mutex // guards state
	state cloudState

	log   requestLog
	azure *azureServer
	gcp   *gcpServer
	https []*httpsServer
}

// cloudCredentials are what startCloudKMS hands back for Env's fields.
type cloudCredentials struct {
	azureEndpoint, gcpEndpoint       string
	azureKeyVersion                  string
	tenantID, clientID, clientSecret string
	gcpPrivateKeyPEM                 string
}

// startCloudKMS starts both servers on 127.0.0.1 with the environment's
// certificate. The caller must already own dir (hold the KMS database's
// lock): it reads and rewrites cloudkms.json there.
func startCloudKMS(dir string, opts Options, cert tls.Certificate) (_ *cloudKMS, _ cloudCredentials, err error) {
	var creds cloudCredentials
	c := &cloudKMS{dir: dir, state: readCloudState(dir)}
	defer func() {
		if err != nil {
			_ = c.close(context.Background())
		}
	}()
	st := &c.state
	if len(st.AzureWrapKey) != 32 || len(st.GCPWrapKey) != 32 {
		// A new environment, or a state file lost or damaged: keys wrapped
		// by a previous run can no longer be unwrapped.
		st.AzureWrapKey, st.GCPWrapKey = randomBytes(32), randomBytes(32)
		st.AzureKeys, st.GCPKeys = nil, nil
	}
	if st.AzureKeys == nil {
		st.AzureKeys = make(map[string]string)
	}
	if _, ok := st.AzureKeys[DefaultAzureKeyName]; !ok {
		st.AzureKeys[DefaultAzureKeyName] = newAzureKeyVersion()
	}
	if defaultGCP := gcpKeyResource(DefaultGCPProjectID, DefaultGCPLocation, DefaultGCPKeyRing, DefaultGCPKeyName); !c.hasGCPKey(defaultGCP) {
		st.GCPKeys = append(st.GCPKeys, defaultGCP)
	}
	creds.azureKeyVersion = st.AzureKeys[DefaultAzureKeyName]

	azureWrap, err := newWrapper(st.AzureWrapKey)
	if err != nil {
		return nil, creds, fmt.Errorf("devenv: Azure wrapping key: %w", err)
	}
	gcpWrap, err := newWrapper(st.GCPWrapKey)
	if err != nil {
		return nil, creds, fmt.Errorf("devenv: GCP wrapping key: %w", err)
	}
	gcpKey, gcpPEM, err := newGCPServiceAccountKey()
	if err != nil {
		return nil, creds, err
	}

	creds.tenantID = newUUID()
	creds.clientID = newUUID()
	// Shaped like an Azure client secret (40 characters, a "~" among them),
	// within the URL-unreserved characters: libmongocrypt puts the secret
	// into the form body without encoding it.
	creds.clientSecret = "dev~" + rawURL64(randomBytes(27))
	creds.gcpPrivateKeyPEM = gcpPEM

	azureLn, err := listenLocal("Azure", opts.AzurePort, st.AzurePort)
	if err != nil {
		return nil, creds, err
	}
	gcpLn, err := listenLocal("GCP", opts.GCPPort, st.GCPPort)
	if err != nil {
		_ = azureLn.Close()
		return nil, creds, err
	}
	creds.azureEndpoint = azureLn.Addr().String()
	creds.gcpEndpoint = gcpLn.Addr().String()
	st.AzurePort = azureLn.Addr().(*net.TCPAddr).Port
	st.GCPPort = gcpLn.Addr().(*net.TCPAddr).Port

	c.azure = &azureServer{
		tenantID:     creds.tenantID,
		clientID:     creds.clientID,
		clientSecret: creds.clientSecret,
		wrap:         azureWrap,
		keys:         c.azureKeyVersion,
		now:          time.Now,
	}
	c.gcp = &gcpServer{
		email:     gcpServiceAccountEmail,
		publicKey: &gcpKey.PublicKey,
		audiences: map[string]bool{},
		wrap:      gcpWrap,
		keys:      c.hasGCPKey,
		now:       time.Now,
	}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		port := strconv.Itoa(st.GCPPort)
		c.gcp.audiences["https://"+host+"/token"] = true
		c.gcp.audiences["https://"+net.JoinHostPort(host, port)+"/token"] = true
	}
	c.https = append(c.https,
		serveHTTPS("azure", azureLn, cert, c.azure, &c.log, opts.Verbose),
		serveHTTPS("gcp", gcpLn, cert, c.gcp, &c.log, opts.Verbose))

	c.mu.Lock()
	err = writeCloudState(dir, c.state)
	c.mu.Unlock()
	if err != nil {
		return nil, creds, err
	}
	return c, creds, nil
}

func (c *cloudKMS) close(ctx context.Context) error {
	var errs []error
	for _, s := range c.https {
		errs = append(errs, s.close(ctx))
	}
	return errors.Join(errs...)
}

func (c *cloudKMS) azureKeyVersion(name string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.state.AzureKeys[name]
	return v, ok
}

func (c *cloudKMS) hasGCPKey(resource string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Contains(c.state.GCPKeys, resource)
}

func gcpKeyResource(projectID, location, keyRing, keyName string) string {
	return "projects/" + projectID + "/locations/" + location + "/keyRings/" + keyRing + "/cryptoKeys/" + keyName
}

func newAzureKeyVersion() string { return fmt.Sprintf("%x", randomBytes(16)) }

// newUUID returns a random (version 4) UUID, the form of Azure's tenant and
// client ids.
func newUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// CreateAzureKey adds a key named name to the environment's Azure Key Vault
// and returns its version, the only one it has. Master keys may name it
// with or without that version. Creating a key that exists returns its
// version. Keys survive restarts on the same Dir.
func (e *Env) CreateAzureKey(name string) (version string, err error) {
	if !azureKeyNameRE.MatchString(name) {
		return "", fmt.Errorf("devenv: Azure key name %q: want 1 to 127 letters, digits and dashes", name)
	}
	c := e.cloud
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.state.AzureKeys[name]; ok {
		return v, nil
	}
	v := newAzureKeyVersion()
	c.state.AzureKeys[name] = v
	if err := writeCloudState(c.dir, c.state); err != nil {
		delete(c.state.AzureKeys, name)
		return "", err
	}
	return v, nil
}

// CreateGCPKey adds a crypto key to the environment's Cloud KMS, with one
// version, "1". Creating a key that exists does nothing. Keys survive
// restarts on the same Dir.
func (e *Env) CreateGCPKey(projectID, location, keyRing, keyName string) error {
	for _, id := range []string{projectID, location, keyRing, keyName} {
		if !gcpIDRE.MatchString(id) {
			return fmt.Errorf("devenv: GCP key identifier %q: want 1 to 63 letters, digits, dashes and underscores", id)
		}
	}
	resource := gcpKeyResource(projectID, location, keyRing, keyName)
	c := e.cloud
	c.mu.Lock()
	defer c.mu.Unlock()
	if slices.Contains(c.state.GCPKeys, resource) {
		return nil
	}
	c.state.GCPKeys = append(c.state.GCPKeys, resource)
	if err := writeCloudState(c.dir, c.state); err != nil {
		c.state.GCPKeys = c.state.GCPKeys[:len(c.state.GCPKeys)-1]
		return err
	}
	return nil
}

// AzureAccessToken returns a new access token for the environment's Key
// Vault, valid for an hour, as the azure provider's accessToken option
// takes it.
func (e *Env) AzureAccessToken() string { return e.cloud.azure.tokens.issue(time.Now()) }

// GCPAccessToken returns a new access token for the environment's Cloud
// KMS, valid for an hour, as the gcp provider's accessToken option takes it.
func (e *Env) GCPAccessToken() string { return e.cloud.gcp.tokens.issue(time.Now()) }

// GCPPrivateKeyDER is GCPPrivateKeyPEM's PKCS#8 DER, the form the gcp
// provider's privateKey option takes (as bytes, or base64-encoded).
func (e *Env) GCPPrivateKeyDER() []byte {
	b, _ := pem.Decode([]byte(e.GCPPrivateKeyPEM))
	if b == nil {
		return nil
	}
	return b.Bytes
}
