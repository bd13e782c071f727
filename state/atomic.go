package state

import (
	"fmt"
	"os"
	"path/filepath"
)

// faultFunc lets tests fail a write at a named step. Nil in production.
type faultFunc func(step string) error

func (f faultFunc) at(step string) error {
	if f == nil {
		return nil
	}
	return f(step)
}

// writeAtomic replaces path with data, mode 0600, so that a reader sees the
// old file or the new one and never a mix, even after a crash: the data
// goes to a temporary file in the same directory, which is synced, closed
// and renamed over path, and then the directory is synced so the rename
// itself is durable.
//
// beforeRename, if not nil, runs once the new content is safely on disk and
// before path is touched (Local keeps its backup there). Until the rename,
// any failure leaves path as it was and removes the temporary file.
// renamed reports whether path was replaced, which can be true together
// with an error if the directory could not be synced.
func writeAtomic(path string, data []byte, beforeRename func() error, fault faultFunc) (renamed bool, err error) {
	dir := filepath.Dir(path)
	if err := fault.at("create"); err != nil {
		return false, err
	}
	// CreateTemp makes the file with mode 0600.
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return false, err
	}
	tmp, closed := f.Name(), false
	defer func() {
		if !closed {
			f.Close()
		}
		if !renamed {
			os.Remove(tmp)
		}
	}()
	if err := fault.at("write"); err != nil {
		return false, err
	}
	if _, err := f.Write(data); err != nil {
		return false, err
	}
	if err := fault.at("sync"); err != nil {
		return false, err
	}
	if err := f.Sync(); err != nil {
		return false, err
	}
	if err := fault.at("close"); err != nil {
		return false, err
	}
	closed = true
	if err := f.Close(); err != nil {
		return false, err
	}
	if beforeRename != nil {
		if err := beforeRename(); err != nil {
			return false, err
		}
	}
	if err := fault.at("rename"); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return false, err
	}
	renamed = true
	if err := fault.at("syncdir"); err != nil {
		return true, err
	}
	if err := syncDir(dir); err != nil {
		return true, fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return true, nil
}
