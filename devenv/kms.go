package devenv

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"
	"github.com/nsmithuk/local-kms/src/handler"
	"github.com/sirupsen/logrus"
)

// Region and AccountID are what every environment's KMS reports. local-kms
// keeps them in package globals (config.AWSRegion, config.AWSAccountId) read
// by its request handlers, so they cannot differ between two environments in
// one process: devenv sets them once, before the first server starts, and
// never again. AccountID is the placeholder AWS's own documentation uses.
const (
	Region    = "us-east-1"
	AccountID = "111122223333"
)

var (
	kmsGlobalsOnce sync.Once
	kmsGlobalsErr  error
)

// setKMSGlobals is the only writer of local-kms's globals. The sync.Once
// makes every later read in a handler goroutine happen after the write.
// Something else in the process that sets them differently is reported
// rather than silently overridden or raced with.
func setKMSGlobals() error {
	kmsGlobalsOnce.Do(func() {
		if (config.AWSRegion != "" && config.AWSRegion != Region) ||
			(config.AWSAccountId != "" && config.AWSAccountId != AccountID) {
			kmsGlobalsErr = fmt.Errorf("devenv: local-kms is already configured in this process for region %q, account %q; devenv needs %q, %q",
				config.AWSRegion, config.AWSAccountId, Region, AccountID)
			return
		}
		config.AWSRegion = Region
		config.AWSAccountId = AccountID
	})
	return kmsGlobalsErr
}

// kmsServer is local-kms behind an HTTPS server of our own.
type kmsServer struct {
	db   *data.Database
	srv  *http.Server
	done chan struct{}
}

// startKMS serves local-kms on ln (already bound to 127.0.0.1) with the
// environment's certificate, storing keys in a LevelDB under dbDir.
func startKMS(ln net.Listener, dbDir string, cert tls.Certificate, verbose bool) (*kmsServer, error) {
	if err := setKMSGlobals(); err != nil {
		return nil, err
	}
	db, err := openKMSDatabase(dbDir)
	if err != nil {
		return nil, err
	}

	logger := logrus.New()
	logger.SetLevel(logrus.InfoLevel)
	errorLog := log.New(io.Discard, "", 0)
	if verbose {
		logger.SetOutput(os.Stderr)
		errorLog = log.New(os.Stderr, "devenv kms: ", log.LstdFlags)
	} else {
		logger.SetOutput(io.Discard)
	}

	s := &kmsServer{
		db: db,
		srv: &http.Server{
			Handler:           kmsHandler(db, logger),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          errorLog,
		},
		done: make(chan struct{}),
	}
	tlsLn := tls.NewListener(ln, &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	})
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(tlsLn) // always non-nil; ErrServerClosed after close
	}()
	return s, nil
}

// openKMSDatabase turns local-kms's panic on a LevelDB open failure (most
// often: another process holds the lock) into an error.
func openKMSDatabase(dir string) (db *data.Database, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprint(r)
			if strings.Contains(msg, "resource temporarily unavailable") || strings.Contains(msg, "lock") {
				err = fmt.Errorf("devenv: KMS database %s is in use by another process (is csfle-dev already running on this directory?): %v", dir, r)
				return
			}
			err = fmt.Errorf("devenv: open KMS database %s: %v", dir, r)
		}
	}()
	return data.NewDatabase(dir), nil
}

// close stops accepting requests, lets running ones finish within ctx, then
// closes the database.
func (s *kmsServer) close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	s.db.Close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("devenv: stop KMS: %w", err)
	}
	return nil
}

// kmsHandler does what local-kms's src.HandleRequest does, with a logger we
// choose: HandleRequest logs through an unexported package-level logrus
// logger that writes to stderr at Info level on every Encrypt and Decrypt,
// and offers no way to silence it.
func kmsHandler(db *data.Database, logger *logrus.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.Debugf("%s %s %s", r.RemoteAddr, r.Method, r.URL)
		switch {
		case r.URL.Path != "/":
			http.Error(w, "Page not found", http.StatusNotFound)
			return
		case r.Method != http.MethodPost:
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		case !strings.Contains(r.Header.Get("Content-Type"), "json"):
			http.Error(w, "Only JSON based content types accepted", http.StatusUnsupportedMediaType)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)

		// X-Amz-Target is "TrentService.<Operation>"; local-kms implements
		// each operation as a method of that name on its RequestHandler.
		target := strings.Split(r.Header.Get("X-Amz-Target"), ".")
		if len(target) < 2 {
			notImplemented(w, r)
			return
		}
		method := reflect.ValueOf(handler.NewRequestHandler(r, logger, db)).MethodByName(target[1])
		if !method.IsValid() || method.Type().NumIn() != 0 || method.Type().NumOut() != 1 {
			notImplemented(w, r)
			return
		}
		resp, ok := method.Call(nil)[0].Interface().(handler.Response)
		if !ok {
			notImplemented(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(resp.Code)
		_, _ = io.WriteString(w, resp.Body)
	})
}

func notImplemented(w http.ResponseWriter, r *http.Request) {
	http.Error(w, fmt.Sprintf("Passed X-Amz-Target (%s) is not implemented", r.Header.Get("X-Amz-Target")), http.StatusNotImplemented)
}
