package state

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// DefaultPath is the state file's name in the configuration directory.
const DefaultPath = "csfle.state.json"

// Local keeps the state in a JSON file, the previous version in
// PATH.backup and the lock in PATH.lock, all with mode 0600.
type Local struct {
	path  string
	fault faultFunc // tests only
	// died is the record of a holder that died holding the lock, found
	// when this Local took it.
	died *LockInfo
}

// DiedHolder returns the holder that died holding the lock before this
// Local took it (the operating system released its lock; its record was
// left), or nil. Writes that run had in flight may still land.
func (l *Local) DiedHolder() *LockInfo { return l.died }

var _ Backend = (*Local)(nil)

// NewLocal returns a backend for the state file at path. The directory
// must exist; the file is created by the first Write.
func NewLocal(path string) *Local { return &Local{path: path} }

// Path is the state file.
func (l *Local) Path() string { return l.path }

// BackupPath is where Write keeps the version it replaced.
func (l *Local) BackupPath() string { return l.path + ".backup" }

// LockPath is the lock file. It is never removed: removing a lock file that
// another process has open would let two processes hold "the" lock.
func (l *Local) LockPath() string { return l.path + ".lock" }

// Read reads the state file.
func (l *Local) Read(ctx context.Context) (*State, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("state: read %s: %w", l.path, err)
	}
	s, _, err := l.read()
	return s, err
}

// read returns the state and the bytes it was decoded from.
func (l *Local) read() (*State, []byte, error) {
	data, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("state: read %s: %w", l.path, err)
	}
	s, err := Decode(data, l.path)
	var ce *corruptError
	if errors.As(err, &ce) {
		ce.backup = l.BackupPath()
		_, statErr := os.Stat(ce.backup)
		ce.hasBackup = statErr == nil
	}
	if err != nil {
		return nil, nil, err
	}
	return s, data, nil
}

// Write replaces the state file atomically, after copying the version it
// replaces to BackupPath (atomically too). It refuses to replace a file it
// cannot read, so that a damaged state never overwrites the good backup.
func (l *Local) Write(ctx context.Context, s *State) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: write %s: %w", l.path, err)
	}
	stored, prev, err := l.read()
	if err != nil {
		return err
	}
	next, data, err := nextState(l.path, stored, s)
	if err != nil {
		return err
	}
	backup := func() error {
		if prev == nil {
			return nil
		}
		_, err := writeAtomic(l.BackupPath(), prev, nil, l.faultPrefix("backup-"))
		if err != nil {
			return fmt.Errorf("back up the previous state to %s: %w", l.BackupPath(), err)
		}
		return nil
	}
	renamed, err := writeAtomic(l.path, data, backup, l.fault)
	if renamed {
		// The new file is in place even if syncing its directory failed;
		// s must match it, or the next write would be refused as stale.
		s.Serial, s.FormatVersion = next.Serial, next.FormatVersion
	}
	if err != nil {
		return fmt.Errorf("state: write %s: %w", l.path, err)
	}
	return nil
}

func (l *Local) faultPrefix(prefix string) faultFunc {
	if l.fault == nil {
		return nil
	}
	return func(step string) error { return l.fault(prefix + step) }
}
