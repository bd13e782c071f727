//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// Lock takes an exclusive flock(2) on LockPath, polling until ctx is done.
//
// flock belongs to the open file description, so the operating system
// drops it when the holder exits for any reason, SIGKILL included, and a
// second Lock in the same process (which opens the file again) is excluded
// like any other process. The holder's LockInfo is written into the file
// so that a waiter can say whom it waits for.
func (l *Local) Lock(ctx context.Context, info LockInfo) (func() error, error) {
	if info.ID == "" {
		info.ID = newUUID()
	}
	const maxDelay = 250 * time.Millisecond
	delay := 5 * time.Millisecond
	for {
		f, err := l.tryLock()
		if err != nil {
			return nil, fmt.Errorf("state: lock %s: %w", l.LockPath(), err)
		}
		if f != nil {
			var died LockInfo
			if data, err := os.ReadFile(l.LockPath()); err == nil && len(data) > 0 && json.Unmarshal(data, &died) == nil && died.ID != "" {
				l.died = &died
			}
			if err := writeHolder(f, info); err != nil {
				releaseLock(f)
				return nil, fmt.Errorf("state: lock %s: record the holder: %w", l.LockPath(), err)
			}
			var once sync.Once
			var unlockErr error
			return func() error {
				once.Do(func() {
					if err := releaseLock(f); err != nil {
						unlockErr = fmt.Errorf("state: unlock %s: %w", l.LockPath(), err)
					}
				})
				return unlockErr
			}, nil
		}
		select {
		case <-ctx.Done():
			return nil, &LockError{Holder: l.holder(), Path: l.LockPath()}
		case <-time.After(delay):
		}
		delay = min(2*delay, maxDelay)
	}
}

// tryLock returns the locked lock file, or nil if another holder has it.
func (l *Local) tryLock() (*os.File, error) {
	f, err := os.OpenFile(l.LockPath(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, nil
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	// If someone removed the lock file between our open and our flock, we
	// hold a lock on a file nobody else will ever open; count it as taken
	// and try again with the file now at the path.
	held, err1 := f.Stat()
	now, err2 := os.Stat(l.LockPath())
	if err1 != nil || err2 != nil || !os.SameFile(held, now) {
		releaseLock(f)
		return nil, nil
	}
	return f, nil
}

func writeHolder(f *os.File, info LockInfo) error {
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		return err
	}
	return f.Sync()
}

// releaseLock empties the lock file, so that it never names a holder that
// is gone, then drops the lock and closes the file.
func releaseLock(f *os.File) error {
	err := f.Truncate(0)
	if e := syscall.Flock(int(f.Fd()), syscall.LOCK_UN); err == nil {
		err = e
	}
	if e := f.Close(); err == nil {
		err = e
	}
	return err
}

// holder reads the LockInfo the current holder wrote. A holder that has
// just taken the lock may not have written it yet, so an empty or partial
// file is read again a few times before giving up on naming it.
func (l *Local) holder() LockInfo {
	for range 5 {
		data, err := os.ReadFile(l.LockPath())
		var info LockInfo
		if err == nil && len(data) > 0 && json.Unmarshal(data, &info) == nil {
			return info
		}
		time.Sleep(10 * time.Millisecond)
	}
	return LockInfo{}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		err = nil // the file system cannot sync directories; nothing more to do
	}
	if e := d.Close(); err == nil {
		err = e
	}
	return err
}

// ForceUnlock clears the lock that has the given id. A local lock is an
// flock, which the operating system drops when its holder dies, so all a
// crash can leave is a stale record of the holder: that is cleared. A
// holder that is still running is refused: stop it instead.
func (l *Local) ForceUnlock(id string) (LockInfo, error) {
	f, err := l.tryLock()
	if err != nil {
		return LockInfo{}, fmt.Errorf("state: force-unlock %s: %w", l.LockPath(), err)
	}
	if f == nil {
		h := l.holder()
		return h, fmt.Errorf("state: the lock is held by %s (%s, pid %d, lock id %s), which is still running; stop it rather than force the lock",
			orUnknown(h.Who), orUnknown(h.Operation), h.PID, orUnknown(h.ID))
	}
	var stale LockInfo
	if data, err := os.ReadFile(l.LockPath()); err == nil && len(data) > 0 {
		_ = json.Unmarshal(data, &stale)
	}
	if stale.ID != "" && stale.ID != id {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
		return stale, fmt.Errorf("state: the lock's record has id %s, not %s; nothing was changed", stale.ID, id)
	}
	if err := releaseLock(f); err != nil { // empties the record
		return stale, fmt.Errorf("state: force-unlock %s: %w", l.LockPath(), err)
	}
	return stale, nil
}
