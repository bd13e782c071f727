package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/csfle/csfle/model"
)

// TestLocalWriteFailureKeepsPrevious fails a write at every step in turn
// and checks that the state file, until its rename, is the previous
// version, and that no temporary file is left behind.
func TestLocalWriteFailureKeepsPrevious(t *testing.T) {
	steps := []string{
		"create", "write", "sync", "close",
		"backup-create", "backup-write", "backup-sync", "backup-close", "backup-rename", "backup-syncdir",
		"rename", "syncdir",
	}
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			l := NewLocal(filepath.Join(dir, DefaultPath))
			ctx := context.Background()
			s := New("db.keys")
			s.SetKey(model.PriorKey{Addr: model.DataKeyAddr("one"), MasterKey: model.MasterKey{Provider: "local"}})
			for range 2 { // so that a backup exists too
				if err := l.Write(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := os.ReadFile(l.Path())
			backupBefore, _ := os.ReadFile(l.BackupPath())

			injected := errors.New("injected failure")
			var seen []string
			l.fault = func(at string) error {
				seen = append(seen, at)
				if at == step {
					return injected
				}
				return nil
			}
			s.SetKey(model.PriorKey{Addr: model.DataKeyAddr("two"), MasterKey: model.MasterKey{Provider: "local"}})
			err := l.Write(ctx, s)
			if !errors.Is(err, injected) {
				t.Fatalf("Write = %v, want the injected failure", err)
			}
			if !slices.Contains(seen, step) {
				t.Fatalf("step %q never ran (steps: %v)", step, seen)
			}
			after, _ := os.ReadFile(l.Path())
			switch step {
			case "syncdir":
				// Renamed already: the new state is in place and s says so,
				// so the next write is not refused as stale.
				if string(after) == string(before) || s.Serial != 3 {
					t.Errorf("after a failed directory sync: file unchanged=%v, serial %d; want the new state, serial 3", string(after) == string(before), s.Serial)
				}
			default:
				if string(after) != string(before) {
					t.Errorf("state file changed although the write failed at %s", step)
				}
				if s.Serial != 2 {
					t.Errorf("serial = %d after a failed write, want 2", s.Serial)
				}
			}
			if step != "backup-rename" && step != "backup-syncdir" && step != "rename" && step != "syncdir" {
				if b, _ := os.ReadFile(l.BackupPath()); string(b) != string(backupBefore) {
					t.Errorf("backup changed although the write failed at %s", step)
				}
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if n := e.Name(); n != DefaultPath && n != DefaultPath+".backup" {
					t.Errorf("left behind %s", n)
				}
			}

			l.fault = nil
			if err := l.Write(ctx, s); err != nil {
				t.Errorf("Write after the failure: %v", err)
			}
		})
	}
}
