package devenv

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// ferretNewMu serializes ferretdb.New, which writes a package global
// (version.Get().Package = "embedded") every time it is called.
var ferretNewMu sync.Mutex

// ferretStopTimeout bounds Close. FerretDB gives connected clients 3 seconds
// to hang up after its context is canceled, then cuts them off.
const ferretStopTimeout = 10 * time.Second

type ferretServer struct {
	uri    string
	port   int
	cancel context.CancelFunc
	done   chan struct{}
}

// startFerret runs FerretDB with the SQLite backend in dbDir, listening on
// addr (127.0.0.1:PORT, port 0 for any free one).
func startFerret(addr, dbDir string, verbose bool) (*ferretServer, error) {
	logger := slog.New(slog.DiscardHandler)
	if verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil)).With("component", "ferretdb")
	}

	// FerretDB wants a "file:" URI naming an existing directory, ending in "/".
	sqliteURL := (&url.URL{Scheme: "file", Path: dbDir + "/"}).String()

	ferretNewMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	ferretNewMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("devenv: start FerretDB on %s: %w", addr, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	s := &ferretServer{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = f.Run(ctx) // always nil in v1.24
	}()

	// New has already bound the listener, so the address is known even
	// before Run gets to accept.
	s.uri = f.MongoDBURI()
	u, err := url.Parse(s.uri)
	if err == nil {
		s.port, err = strconv.Atoi(u.Port())
	}
	if err != nil {
		_ = s.close()
		return nil, fmt.Errorf("devenv: FerretDB reported an unusable URI %q: %w", s.uri, err)
	}
	return s, nil
}

func (s *ferretServer) close() error {
	s.cancel()
	select {
	case <-s.done:
		return nil
	case <-time.After(ferretStopTimeout):
		return fmt.Errorf("devenv: FerretDB did not stop within %s", ferretStopTimeout)
	}
}
