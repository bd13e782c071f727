package devenv

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// KMIPInstallHint is what to run when PyKMIP's server is missing; errors
// from StartKMIP say it verbatim.
const KMIPInstallHint = "apt-get install -y python3-pykmip"

// KMIPClientIdentity is the common name of the client certificate. PyKMIP
// takes it as the client's identity and makes that identity the owner of
// every object the client registers; only the owner may Get them. Keeping it
// fixed keeps the keys in a directory's database usable across restarts,
// although each start makes new certificates.
const KMIPClientIdentity = "csfle"

// KMIPPythonEnv, if set, names the Python interpreter that runs PyKMIP
// (for a PyKMIP installed elsewhere than from Debian's package). The default
// is Debian's system Python, which is where python3-pykmip installs the
// kmip module: the python3 first on PATH may be another interpreter.
const KMIPPythonEnv = "CSFLE_KMIP_PYTHON"

const kmipDefaultPython = "/usr/bin/python3"

// Layout of a KMIP server's directory. The names do not clash with Start's,
// so one directory can hold both.
const (
	kmipCAFile         = "kmip-ca.pem"
	kmipServerCertFile = "kmip-server.pem"
	kmipServerKeyFile  = "kmip-server-key.pem"
	kmipClientCertFile = "kmip-client.pem"
	kmipClientKeyFile  = "kmip-client-key.pem"
	kmipConfigFile     = "kmip-server.conf"
	kmipLogFile        = "kmip-server.log"
	kmipDatabaseFile   = "kmip.sqlite"
	kmipPolicySubdir   = "kmip-policies"
)

const (
	// kmipStartTimeout bounds the wait for the server to accept TLS when
	// ctx has no earlier deadline. PyKMIP takes about a second to start.
	kmipStartTimeout = 30 * time.Second
	// kmipStopTimeout bounds Close's wait for the process to exit after
	// its stdin is closed, before it is killed.
	kmipStopTimeout = 5 * time.Second
	// kmipExitBadModule is the launcher's exit status when the kmip module
	// cannot be imported.
	kmipExitBadModule = 3
)

// kmipLauncher runs PyKMIP's server (kmip.services.server.KmipServer) with
// the configuration file and log file named on the command line, the same
// options pykmip-server takes. It adds two things pykmip-server lacks:
//   - a clear exit status when the kmip module is missing;
//   - a prompt, complete exit when its stdin reaches end of file, which is
//     how Close stops it and also what happens when the Go process dies.
//     PyKMIP's own SIGTERM handling waits for its 10-second accept timeout
//     and leaves its multiprocessing helpers (the policy monitor and a
//     Manager) behind if the parent is killed.
//
// Operation policies are read once (live_policies=False): the directory is
// always empty, so only PyKMIP's built-in "default" policy applies, under
// which the owner of an object may do everything with it.
const kmipLauncher = `
import multiprocessing, os, sys, threading
try:
    from kmip.services.server import server
except ImportError as e:
    sys.stderr.write("csfle: cannot import PyKMIP's server: %s\n" % e)
    sys.exit(3)

def watch_stdin():
    # os.read, not sys.stdin: a thread blocked in sys.stdin's read holds its
    # lock, and multiprocessing's forked children, which close sys.stdin
    # first thing, would wait for it forever.
    try:
        while os.read(0, 4096):
            pass
    finally:
        for child in multiprocessing.active_children():
            child.kill()
        os._exit(0)

threading.Thread(target=watch_stdin, daemon=True).start()
opts, _ = server.build_argument_parser().parse_args(sys.argv[1:])
s = server.KmipServer(config_path=opts.config_path, log_path=opts.log_path, live_policies=False)
with s:
    s.serve()
`

// KMIPServer is PyKMIP's KMIP server running in a child process, listening
// on 127.0.0.1 over TLS with certificates StartKMIP made. Clients must
// present ClientCertFile and ClientKeyFile, and trust CAFile. Its fields are
// read-only.
type KMIPServer struct {
	Endpoint string // "127.0.0.1:PORT", a kmip provider's or master key's endpoint

	CAFile         string // PEM of the CA that signed the server's and the client's certificates
	ClientCertFile string // PEM client certificate, CN KMIPClientIdentity
	ClientKeyFile  string // PEM (PKCS#8) private key of the client certificate: a secret

	LogFile string // PyKMIP's own log, which says why it refused a request

	tlsConfig *tls.Config
	cmd       *exec.Cmd
	stdin     io.Closer
	output    *kmipTail
	exited    chan struct{} // closed when the process has exited
	waitErr   error         // set before exited is closed

	closeOnce sync.Once
	closeErr  error
}

// StartKMIP runs PyKMIP's server from Debian's python3-pykmip on a free
// port of 127.0.0.1, with a CA, a server certificate for 127.0.0.1 and a
// client certificate, all made afresh, written to dir with the server's
// configuration, its log and its SQLite database. Keys registered in the
// database survive Close, so a later StartKMIP on the same dir still serves
// them (on another port). Only one server may run on a dir at a time; that
// is not checked, and a second one would replace the first one's certificates.
//
// The interpreter is /usr/bin/python3 unless KMIPPythonEnv names another.
// ctx bounds the start-up only; the server runs until Close. If PyKMIP is not
// installed, the error says to run KMIPInstallHint.
func StartKMIP(ctx context.Context, dir string) (_ *KMIPServer, err error) {
	if dir == "" {
		return nil, errors.New("devenv: StartKMIP needs a directory")
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("devenv: %w", err)
	}
	policyDir := filepath.Join(dir, kmipPolicySubdir)
	if err := os.MkdirAll(policyDir, 0o700); err != nil {
		return nil, fmt.Errorf("devenv: %w", err)
	}

	python := os.Getenv(KMIPPythonEnv)
	if python == "" {
		python = kmipDefaultPython
	}
	if _, err := exec.LookPath(python); err != nil {
		return nil, fmt.Errorf("devenv: the KMIP test server runs PyKMIP with %s, which is not there (%v): run %s", python, err, KMIPInstallHint)
	}

	certs, err := newKMIPCerts(time.Now())
	if err != nil {
		return nil, err
	}
	s := &KMIPServer{
		CAFile:         filepath.Join(dir, kmipCAFile),
		ClientCertFile: filepath.Join(dir, kmipClientCertFile),
		ClientKeyFile:  filepath.Join(dir, kmipClientKeyFile),
		LogFile:        filepath.Join(dir, kmipLogFile),
		tlsConfig:      certs.clientConfig,
	}
	serverCert, serverKey := filepath.Join(dir, kmipServerCertFile), filepath.Join(dir, kmipServerKeyFile)
	for _, f := range []struct {
		path string
		data []byte
		perm os.FileMode
	}{
		{s.CAFile, certs.caPEM, 0o644},
		{serverCert, certs.serverCertPEM, 0o644},
		{serverKey, certs.serverKeyPEM, 0o600},
		{s.ClientCertFile, certs.clientCertPEM, 0o644},
		{s.ClientKeyFile, certs.clientKeyPEM, 0o600},
	} {
		if err := writeFileAtomic(f.path, f.data, f.perm); err != nil {
			return nil, err
		}
	}

	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, kmipStartTimeout)
		defer cancel()
	}

	// PyKMIP binds its port itself, so a port found free here may be taken
	// by someone else before it binds: then try another.
	const attempts = 3
	for attempt := 1; ; attempt++ {
		port, err := kmipFreePort()
		if err != nil {
			return nil, err
		}
		s.Endpoint = localAddr(port)
		conf := kmipConfig(port, serverCert, serverKey, s.CAFile, policyDir, filepath.Join(dir, kmipDatabaseFile))
		if err := writeFileAtomic(filepath.Join(dir, kmipConfigFile), conf, 0o600); err != nil {
			return nil, err
		}
		err = s.run(ctx, python, filepath.Join(dir, kmipConfigFile))
		if err == nil {
			return s, nil
		}
		var bindErr *kmipBindError
		if !errors.As(err, &bindErr) || attempt == attempts {
			return nil, err
		}
	}
}

// TLSConfig is what a client needs to reach the server: the CA to trust and
// the client certificate to present. Each call returns a new config the
// caller may modify, as options.ClientEncryption().SetTLSConfig wants it
// under "kmip".
func (s *KMIPServer) TLSConfig() *tls.Config { return s.tlsConfig.Clone() }

// Close stops the server. It is safe to call more than once; later calls
// return the first call's result. An error means the server had already
// stopped on its own, or would not stop.
func (s *KMIPServer) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.stop() })
	return s.closeErr
}

// kmipBindError reports that PyKMIP could not bind its port.
type kmipBindError struct{ err error }

func (e *kmipBindError) Error() string { return e.err.Error() }
func (e *kmipBindError) Unwrap() error { return e.err }

// run starts the process and waits until it completes a TLS handshake. On
// failure the process is gone.
func (s *KMIPServer) run(ctx context.Context, python, configPath string) error {
	cmd := exec.Command(python, "-c", kmipLauncher, "--config_path", configPath, "--log_path", s.LogFile)
	cmd.Dir = filepath.Dir(configPath)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("devenv: KMIP server: %w", err)
	}
	s.output = &kmipTail{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = s.output, s.output
	if err := cmd.Start(); err != nil {
		_ = stdin.Close()
		return fmt.Errorf("devenv: start KMIP server with %s: %w; is PyKMIP installed? Run %s", python, err, KMIPInstallHint)
	}
	s.cmd, s.stdin, s.exited = cmd, stdin, make(chan struct{})
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	err = s.waitReady(ctx)
	if err == nil {
		return nil
	}
	_ = s.stop()
	return err
}

// waitReady dials until a TLS handshake with the client certificate
// succeeds, the process exits, or ctx ends.
func (s *KMIPServer) waitReady(ctx context.Context) error {
	dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: time.Second}, Config: s.TLSConfig()}
	var lastErr error
	for {
		conn, err := dialer.DialContext(ctx, "tcp", s.Endpoint)
		if err == nil {
			_ = conn.Close()
			return nil
		}
		lastErr = err
		select {
		case <-s.exited:
			return s.exitError()
		case <-ctx.Done():
			return fmt.Errorf("devenv: KMIP server on %s did not accept TLS connections in time (last: %v); its output: %s; its log: %s",
				s.Endpoint, lastErr, s.output.String(), s.LogFile)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// exitError explains why the process exited before it was asked to. Call it
// only after s.exited is closed.
func (s *KMIPServer) exitError() error {
	out := s.output.String()
	var exitErr *exec.ExitError
	switch {
	case errors.As(s.waitErr, &exitErr) && exitErr.ExitCode() == kmipExitBadModule:
		return fmt.Errorf("devenv: PyKMIP's server is not installed for %s (%s): run %s", s.cmd.Path, strings.TrimSpace(out), KMIPInstallHint)
	case strings.Contains(out, "failed to bind socket"):
		return &kmipBindError{fmt.Errorf("devenv: KMIP server could not bind %s: %s", s.Endpoint, out)}
	}
	return fmt.Errorf("devenv: KMIP server exited (%v); its output: %s; its log: %s", s.waitErr, out, s.LogFile)
}

// stop closes the launcher's stdin, which makes it kill its helpers and
// exit, and kills it if it has not within kmipStopTimeout.
func (s *KMIPServer) stop() error {
	if s.cmd == nil {
		return nil
	}
	select {
	case <-s.exited:
		// It stopped by itself: that was not supposed to happen.
		return s.exitError()
	default:
	}
	_ = s.stdin.Close()
	select {
	case <-s.exited:
		return nil
	case <-time.After(kmipStopTimeout):
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	return fmt.Errorf("devenv: KMIP server did not stop within %s and was killed", kmipStopTimeout)
}

// kmipFreePort finds a port on 127.0.0.1 that is free right now.
func kmipFreePort() (int, error) {
	ln, err := net.Listen("tcp", localAddr(0))
	if err != nil {
		return 0, fmt.Errorf("devenv: KMIP: no free port on 127.0.0.1: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// kmipConfig is PyKMIP's server configuration file: TLS 1.2 (the "TLS1.2"
// suite, whose ciphers include the ECDHE-ECDSA-AES-GCM ones Go offers),
// client certificates required and checked for the clientAuth extended key
// usage, and the client identity taken from their common name.
func kmipConfig(port int, certPath, keyPath, caPath, policyDir, dbPath string) []byte {
	// The file is read by Python's configparser, whose interpolation gives
	// '%' a meaning.
	q := func(s string) string { return strings.ReplaceAll(s, "%", "%%") }
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by csfle's devenv.StartKMIP; rewritten at every start.\n")
	fmt.Fprintf(&b, "[server]\n")
	fmt.Fprintf(&b, "hostname=127.0.0.1\n")
	fmt.Fprintf(&b, "port=%d\n", port)
	fmt.Fprintf(&b, "certificate_path=%s\n", q(certPath))
	fmt.Fprintf(&b, "key_path=%s\n", q(keyPath))
	fmt.Fprintf(&b, "ca_path=%s\n", q(caPath))
	fmt.Fprintf(&b, "auth_suite=TLS1.2\n")
	fmt.Fprintf(&b, "enable_tls_client_auth=True\n")
	fmt.Fprintf(&b, "policy_path=%s\n", q(policyDir))
	fmt.Fprintf(&b, "database_path=%s\n", q(dbPath))
	fmt.Fprintf(&b, "logging_level=INFO\n")
	return b.Bytes()
}

// kmipCerts are the PEM files of a KMIP server's own CA, its server
// certificate for 127.0.0.1 and the client certificate.
type kmipCerts struct {
	caPEM                       []byte
	serverCertPEM, serverKeyPEM []byte
	clientCertPEM, clientKeyPEM []byte
	clientConfig                *tls.Config
}

func newKMIPCerts(now time.Time) (*kmipCerts, error) {
	caKey, caCert, caDER, err := newCA(now, "csfle devenv KMIP CA")
	if err != nil {
		return nil, err
	}

	leaf := func(tmpl *x509.Certificate) (certPEM, keyPEM []byte, _ tls.Certificate, _ error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, tls.Certificate{}, fmt.Errorf("devenv: KMIP: generate key for %s: %w", tmpl.Subject.CommonName, err)
		}
		tmpl.SerialNumber = randomSerial()
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.AddDate(1, 0, 0)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			return nil, nil, tls.Certificate{}, fmt.Errorf("devenv: KMIP: create certificate for %s: %w", tmpl.Subject.CommonName, err)
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, nil, tls.Certificate{}, fmt.Errorf("devenv: KMIP: encode key for %s: %w", tmpl.Subject.CommonName, err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
			tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
	}

	c := &kmipCerts{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}
	c.serverCertPEM, c.serverKeyPEM, _, err = leaf(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "127.0.0.1"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	})
	if err != nil {
		return nil, err
	}
	var client tls.Certificate
	c.clientCertPEM, c.clientKeyPEM, client, err = leaf(&x509.Certificate{
		Subject:     pkix.Name{CommonName: KMIPClientIdentity},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	c.clientConfig = &tls.Config{
		RootCAs:      pool,
		Certificates: []tls.Certificate{client},
		MinVersion:   tls.VersionTLS12,
	}
	return c, nil
}

// kmipTail keeps the last max bytes written to it: the server's stdout and
// stderr, for error messages.
type kmipTail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *kmipTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *kmipTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.buf))
	if s == "" {
		return "(none)"
	}
	return s
}
