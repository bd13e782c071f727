package devenv

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Options configure Start.
type Options struct {
	// Dir holds the SQLite files, the KMS's LevelDB, the CA certificate and
	// the record of the last run. It is created if missing. Data in it
	// survives Close, so a later Start on the same Dir sees the same keys.
	Dir string

	// Verbose sends FerretDB's and local-kms's logs to stderr. Otherwise
	// they are discarded.
	Verbose bool

	// MongoPort and KMSPort pin the servers' ports on 127.0.0.1; Start fails
	// if a pinned port is taken. Zero means: the port the previous run in
	// Dir used, if it is free, else any free port. Reusing the KMS port
	// matters because every data key created against it records its
	// host:port as the master key's endpoint.
	MongoPort int
	KMSPort   int

	// AzurePort and GCPPort do the same for the Azure and GCP test
	// servers, whose host:port data keys record as keyVaultEndpoint and
	// endpoint.
	AzurePort int
	GCPPort   int
}

// Env is a running environment. Its fields are read-only.
type Env struct {
	Dir         string // absolute
	MongoURI    string // "mongodb://127.0.0.1:PORT/"
	KMSEndpoint string // "127.0.0.1:PORT", as an aws master key's endpoint wants it
	KMSURL      string // "https://127.0.0.1:PORT"
	CAFile      string // PEM of the CA that signed the KMS server's certificate
	Region      string // always "us-east-1"

	// Dummy credentials, random per Start. local-kms does not check them,
	// but clients insist on having some.
	AccessKeyID, SecretAccessKey string

	CMKARN string // a symmetric, enabled CMK

	// Azure: one server on 127.0.0.1 over TLS (CAFile) that is both the
	// identity platform (the azure provider's identityPlatformEndpoint) and
	// Key Vault (a master key's keyVaultEndpoint). It checks the client
	// credentials, random per Start, and the bearer tokens it issued.
	AzureEndpoint     string // "127.0.0.1:PORT"
	AzureTenantID     string
	AzureClientID     string
	AzureClientSecret string // a secret: keep it out of logs and stdout
	AzureKeyName      string // a key that exists: DefaultAzureKeyName
	AzureKeyVersion   string // its one version; master keys may omit it

	// GCP: one server on 127.0.0.1 over TLS (CAFile) that is both the OAuth
	// token endpoint (the gcp provider's endpoint) and Cloud KMS (a master
	// key's endpoint). It checks that the JWT assertion is signed with
	// GCPPrivateKeyPEM, random per Start, and the bearer tokens it issued.
	GCPEndpoint      string // "127.0.0.1:PORT"
	GCPEmail         string // the service account
	GCPPrivateKeyPEM string // PKCS#8 PEM ("PRIVATE KEY"); a secret
	GCPProjectID     string // with GCPLocation, GCPKeyRing and GCPKeyName,
	GCPLocation      string // a crypto key that exists (the Default* ones)
	GCPKeyRing       string
	GCPKeyName       string

	ca         *certAuthority
	httpClient *http.Client
	kms        *kmsServer
	ferret     *ferretServer
	cloud      *cloudKMS

	closeOnce sync.Once
	closeErr  error
}

// Layout of Dir.
const (
	ferretSubdir = "ferretdb"
	kmsSubdir    = "kms"
	caFileName   = "kms-ca.pem"
)

// kmsStopTimeout bounds how long Close waits for KMS requests in flight.
const kmsStopTimeout = 5 * time.Second

// Start runs both servers and makes sure a symmetric CMK exists. ctx bounds
// the start-up only; the servers run until Close.
func Start(ctx context.Context, opts Options) (_ *Env, err error) {
	if opts.Dir == "" {
		return nil, errors.New("devenv: Options.Dir is required")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("devenv: %w", err)
	}
	for _, d := range []string{dir, filepath.Join(dir, ferretSubdir), filepath.Join(dir, kmsSubdir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("devenv: %w", err)
		}
	}
	prev := readLastRun(dir)

	ca, err := newCertAuthority(time.Now())
	if err != nil {
		return nil, err
	}
	e := &Env{
		Dir:             dir,
		CAFile:          filepath.Join(dir, caFileName),
		Region:          Region,
		AccessKeyID:     "DEVENV" + randomToken(7),
		SecretAccessKey: "devenv-dummy-" + randomToken(16),
		ca:              ca,
	}
	e.httpClient = &http.Client{Transport: &http.Transport{
		TLSClientConfig: e.TLSConfig(),
		Proxy:           nil, // never send 127.0.0.1 traffic through a proxy
	}}
	defer func() {
		if err != nil {
			_ = e.Close()
		}
	}()

	kmsLn, err := listenLocal("KMS", opts.KMSPort, prev.KMSPort)
	if err != nil {
		return nil, err
	}
	e.kms, err = startKMS(kmsLn, filepath.Join(dir, kmsSubdir), ca.server, opts.Verbose)
	if err != nil {
		_ = kmsLn.Close()
		return nil, err
	}
	// Only now, holding the KMS database's lock, does this Start own Dir:
	// writing the CA file any earlier would clobber that of a csfle-dev
	// already running on the same Dir.
	if err := writeFileAtomic(e.CAFile, ca.caPEM, 0o644); err != nil {
		return nil, err
	}
	e.KMSEndpoint = kmsLn.Addr().String()
	e.KMSURL = "https://" + e.KMSEndpoint

	var cloud cloudCredentials
	if e.cloud, cloud, err = startCloudKMS(dir, opts, ca.server); err != nil {
		return nil, err
	}
	e.AzureEndpoint, e.AzureKeyName, e.AzureKeyVersion = cloud.azureEndpoint, DefaultAzureKeyName, cloud.azureKeyVersion
	e.AzureTenantID, e.AzureClientID, e.AzureClientSecret = cloud.tenantID, cloud.clientID, cloud.clientSecret
	e.GCPEndpoint, e.GCPEmail, e.GCPPrivateKeyPEM = cloud.gcpEndpoint, gcpServiceAccountEmail, cloud.gcpPrivateKeyPEM
	e.GCPProjectID, e.GCPLocation, e.GCPKeyRing, e.GCPKeyName = DefaultGCPProjectID, DefaultGCPLocation, DefaultGCPKeyRing, DefaultGCPKeyName

	e.ferret, err = startFerretOnPort(opts.MongoPort, prev.MongoPort, filepath.Join(dir, ferretSubdir), opts.Verbose)
	if err != nil {
		return nil, err
	}
	e.MongoURI = e.ferret.uri

	if e.CMKARN, err = e.reuseOrCreateCMK(ctx, prev.CMKARN); err != nil {
		return nil, err
	}

	if err := writeLastRun(dir, lastRun{
		MongoPort: e.ferret.port,
		KMSPort:   kmsLn.Addr().(*net.TCPAddr).Port,
		CMKARN:    e.CMKARN,
	}); err != nil {
		return nil, err
	}
	return e, nil
}

// Close stops the servers. It is safe to call more than once; later calls
// return the first call's result.
func (e *Env) Close() error {
	e.closeOnce.Do(func() {
		var errs []error
		if e.ferret != nil {
			errs = append(errs, e.ferret.close())
		}
		if e.kms != nil {
			ctx, cancel := context.WithTimeout(context.Background(), kmsStopTimeout)
			errs = append(errs, e.kms.close(ctx))
			cancel()
		}
		if e.cloud != nil {
			ctx, cancel := context.WithTimeout(context.Background(), kmsStopTimeout)
			errs = append(errs, e.cloud.close(ctx))
			cancel()
		}
		if e.httpClient != nil {
			e.httpClient.CloseIdleConnections()
		}
		e.closeErr = errors.Join(errs...)
	})
	return e.closeErr
}

// TLSConfig trusts the environment's CA and nothing else. Each call returns
// a new config the caller may modify.
func (e *Env) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: e.ca.pool, MinVersion: tls.VersionTLS12}
}

// HTTPClient is an HTTP client that trusts the KMS servers' certificate
// (AWS, Azure and GCP).
func (e *Env) HTTPClient() *http.Client { return e.httpClient }

// listenLocal binds 127.0.0.1 for the named server: on want if set (and
// nowhere else), else on prev if it is free, else on any free port.
func listenLocal(what string, want, prev int) (net.Listener, error) {
	if want != 0 {
		ln, err := net.Listen("tcp", localAddr(want))
		if err != nil {
			return nil, fmt.Errorf("devenv: %s port %d on 127.0.0.1 is not available: %w", what, want, err)
		}
		return ln, nil
	}
	if prev != 0 {
		if ln, err := net.Listen("tcp", localAddr(prev)); err == nil {
			return ln, nil
		}
	}
	ln, err := net.Listen("tcp", localAddr(0))
	if err != nil {
		return nil, fmt.Errorf("devenv: %s: no free port on 127.0.0.1: %w", what, err)
	}
	return ln, nil
}

// startFerretOnPort applies listenLocal's port rules to FerretDB, which
// insists on binding its listener itself: a port is probed first so that a
// taken one gives a clear error (or, if it was only a preference, a free
// port) instead of FerretDB's wrapped one.
func startFerretOnPort(want, prev int, dbDir string, verbose bool) (*ferretServer, error) {
	port := 0
	if want != 0 || prev != 0 {
		probe, err := listenLocal("MongoDB", want, prev)
		if err != nil {
			return nil, err
		}
		port = probe.Addr().(*net.TCPAddr).Port
		_ = probe.Close()
	}
	s, err := startFerret(localAddr(port), dbDir, verbose)
	if err != nil && want == 0 && port != 0 {
		// Lost a race for the preferred port; any port will do.
		s, err = startFerret(localAddr(0), dbDir, verbose)
	}
	return s, err
}

func localAddr(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// randomToken returns n random bytes as upper-case hex.
func randomToken(n int) string {
	return fmt.Sprintf("%X", randomBytes(n))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return b
}
