//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package state

import (
	"context"
	"fmt"
	"runtime"
)

// Lock is not available: the local backend's lock relies on flock(2).
func (l *Local) Lock(ctx context.Context, info LockInfo) (func() error, error) {
	return nil, fmt.Errorf("state: lock %s: the local state lock is not supported on %s", l.LockPath(), runtime.GOOS)
}

func syncDir(dir string) error { return nil }

// ForceUnlock is not supported where there is no flock.
func (l *Local) ForceUnlock(id string) (LockInfo, error) {
	return LockInfo{}, fmt.Errorf("state: force-unlock %s: local state locks need flock, which this system lacks", l.LockPath())
}
