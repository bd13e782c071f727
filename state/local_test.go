//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package state_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/csfle/csfle/state"
	"github.com/csfle/csfle/state/statetest"
)

// lockHelperEnv makes the test binary, re-executed, take the lock on the
// state file it names and hold it until killed (or its stdin closes, so it
// never outlives a test that failed to kill it).
const lockHelperEnv = "CSFLE_STATE_TEST_LOCK_HELPER"

func TestMain(m *testing.M) {
	if path := os.Getenv(lockHelperEnv); path != "" {
		unlock, err := state.NewLocal(path).Lock(context.Background(), state.NewLockInfo("helper"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		defer unlock()
		fmt.Println("locked")
		io.Copy(io.Discard, os.Stdin)
		return
	}
	os.Exit(m.Run())
}

func newLocal(t *testing.T) *state.Local {
	return state.NewLocal(filepath.Join(t.TempDir(), state.DefaultPath))
}

func TestLocalConformance(t *testing.T) {
	statetest.Run(t, func(t *testing.T) state.Backend { return newLocal(t) })
}

func write(t *testing.T, b state.Backend, s *state.State) {
	t.Helper()
	if err := b.Write(context.Background(), s); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func TestLocalBackupHoldsPreviousVersion(t *testing.T) {
	l := newLocal(t)
	s := state.New("db.keys")
	s.SetKey(statetest.Key("ssn"))
	write(t, l, s)
	if _, err := os.Stat(l.BackupPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("first write left a backup (stat: %v)", err)
	}
	first := s.DeepCopy()
	s.SetKey(statetest.Key("card"))
	write(t, l, s)

	backup, err := state.NewLocal(l.BackupPath()).Read(context.Background())
	if err != nil {
		t.Fatalf("read backup: %v", err)
	}
	if diff := cmp.Diff(first, backup); diff != "" {
		t.Errorf("backup is not the previous version (-want +got):\n%s", diff)
	}
}

func TestLocalReadRefuses(t *testing.T) {
	valid := `{"format_version": 1, "serial": 3, "lineage": "abc", "csfle_version": "", "key_vault_namespace": "db.keys", "data_keys": [%s]}`
	key := `{"address": "data_key.ssn", "id": "00112233-4455-6677-8899-aabbccddeeff", "alt_names": ["ssn"], "master_key": {"provider": "local"}, "update_date": "2026-01-02T03:04:05Z"}`
	tests := []struct {
		name, doc string
		backup    bool
		want      []string
	}{
		{"truncated without backup", fmt.Sprintf(valid, key)[:60], false,
			[]string{"is not valid JSON", "may be truncated or corrupted", "There is no backup (", state.DefaultPath + ".backup) to recover from"}},
		{"truncated with backup", fmt.Sprintf(valid, key)[:60], true,
			[]string{"is not valid JSON", "may be truncated or corrupted", "The previous version is in ", ".backup; check it, then copy it over"}},
		{"empty", "", true, []string{"is not valid JSON", "truncated"}},
		{"wrong types", `{"format_version": "one"}`, false, []string{"is not a valid csfle state", "corrupted"}},
		{"bad address", fmt.Sprintf(valid, strings.Replace(key, "data_key.ssn", "ssn", 1)), false,
			[]string{"is not a valid csfle state", `"ssn" is not an address`}},
		{"newer format", `{"format_version": 2, "serial": 1, "lineage": "abc", "future": true}`, false,
			[]string{"was written by a newer csfle", "state format version 2", "reads up to version 1", "Upgrade csfle"}},
		{"no format", `{"serial": 1, "lineage": "abc"}`, false, []string{"has no format_version"}},
		{"no lineage", fmt.Sprintf(valid, key), false, nil}, // lineage removed below
		{"duplicate address", fmt.Sprintf(valid, key+", "+key), false,
			[]string{"records data_key.ssn more than once", "edited by hand"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLocal(t)
			doc, want := tc.doc, tc.want
			if tc.name == "no lineage" {
				doc, want = strings.Replace(doc, `"lineage": "abc"`, `"lineage": ""`, 1), []string{"has no lineage"}
			}
			if err := os.WriteFile(l.Path(), []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			if tc.backup {
				if err := os.WriteFile(l.BackupPath(), []byte(fmt.Sprintf(valid, "")), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s, err := l.Read(context.Background())
			if err == nil {
				t.Fatalf("Read = %+v, want an error", s)
			}
			msg := err.Error()
			for _, w := range append(want, l.Path()) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			// A state that cannot be read is never overwritten: it would
			// push the good backup out.
			before, _ := os.ReadFile(l.Path())
			if err := l.Write(context.Background(), state.New("db.keys")); err == nil {
				t.Error("Write over an unreadable state succeeded")
			}
			if after, _ := os.ReadFile(l.Path()); string(after) != string(before) {
				t.Error("refused Write changed the file")
			}
		})
	}
}

func TestLocalAcceptsValidDocument(t *testing.T) {
	l := newLocal(t)
	doc := `{"format_version": 1, "serial": 3, "lineage": "abc", "key_vault_namespace": "db.keys", "data_keys": [
		{"address": "data_key.z", "id": "00112233-4455-6677-8899-aabbccddeeff", "alt_names": ["z"], "master_key": {"provider": "local"}, "update_date": "2026-01-02T03:04:05Z"},
		{"address": "data_key.a", "id": "00112233-4455-6677-8899-aabbccddeefe", "alt_names": ["a"], "master_key": {"provider": "local"}, "update_date": "2026-01-02T03:04:05Z"}]}`
	if err := os.WriteFile(l.Path(), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := l.Read(context.Background())
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(s.Keys) != 2 || s.Keys[0].Addr.Name != "a" || s.Serial != 3 {
		t.Errorf("Read = %+v, want two keys sorted by address at serial 3", s)
	}
}

func TestLocalFileModes(t *testing.T) {
	old := syscall.Umask(0) // the modes must not depend on the umask
	defer syscall.Umask(old)

	l := newLocal(t)
	// A state file made by hand with a loose mode is tightened by the
	// first write.
	if err := os.WriteFile(l.Path(), []byte(`{"format_version": 1, "lineage": "x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := l.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	write(t, l, s)
	write(t, l, s)
	unlock, err := l.Lock(context.Background(), state.NewLockInfo("apply"))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	plan := filepath.Join(filepath.Dir(l.Path()), "plan.json")
	if err := state.WritePlanFile(plan, samplePlan(), "sha256:cfg"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{l.Path(), l.BackupPath(), l.LockPath(), plan} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

func TestLocalWriteLeavesNoTempFiles(t *testing.T) {
	l := newLocal(t)
	s := state.New("db.keys")
	for range 3 {
		write(t, l, s)
	}
	assertFiles(t, filepath.Dir(l.Path()), state.DefaultPath, state.DefaultPath+".backup")
}

func TestLocalEncodingIsStable(t *testing.T) {
	l := newLocal(t)
	s := state.New("db.keys")
	s.Lineage = "fixed-lineage"
	s.CSFLEVersion = "v1.2.3"
	k := statetest.Key("ssn")
	k.AltNames = []string{"a&b", "ssn"}
	s.SetKey(k)
	write(t, l, s)
	got, err := os.ReadFile(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "format_version": 1,
  "serial": 1,
  "lineage": "fixed-lineage",
  "csfle_version": "v1.2.3",
  "key_vault_namespace": "db.keys",
  "data_keys": [
    {
      "address": "data_key.ssn",
      "id": "73736e20-2020-2020-2020-202020202020",
      "alt_names": [
        "a&b",
        "ssn"
      ],
      "master_key": {
        "provider": "aws",
        "fields": {
          "key": "arn:aws:kms:us-east-1:111122223333:key/ssn",
          "region": "us-east-1"
        }
      },
      "update_date": "2026-01-02T03:04:05.000006Z"
    }
  ]
}
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("state file (-want +got):\n%s", diff)
	}

	empty := newLocal(t)
	write(t, empty, state.New("db.keys"))
	if got, _ := os.ReadFile(empty.Path()); !strings.Contains(string(got), `"data_keys": []`) {
		t.Errorf("an empty state should list no keys as []:\n%s", got)
	}
}

func TestLocalLockExcludesAnotherInstance(t *testing.T) {
	a := newLocal(t)
	b := state.NewLocal(a.Path())
	holder := state.NewLockInfo("apply")
	unlock, err := a.Lock(context.Background(), holder)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = b.Lock(ctx, state.NewLockInfo("plan"))
	var le *state.LockError
	if !errors.As(err, &le) || le.Holder.ID != holder.ID || le.Path != a.LockPath() {
		t.Fatalf("Lock through a second Local = %v, want a LockError naming %s and %s", err, holder.ID, a.LockPath())
	}
	if !strings.Contains(err.Error(), "run csfle force-unlock "+holder.ID) {
		t.Errorf("LockError %q does not say how to clear a lock whose holder is gone", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(a.LockPath()); len(data) != 0 {
		t.Errorf("unlock left the holder in the lock file: %s", data)
	}
	unlock, err = b.Lock(context.Background(), state.NewLockInfo("plan"))
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock()
}

func TestLocalLockReleasedWhenHolderIsKilled(t *testing.T) {
	l := newLocal(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+l.Path())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("helper said %q, %v; want \"locked\"", line, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = l.Lock(ctx, state.NewLockInfo("apply"))
	var le *state.LockError
	if !errors.As(err, &le) || le.Holder.PID != cmd.Process.Pid || le.Holder.Operation != "helper" {
		t.Fatalf("Lock while the helper (pid %d) holds it = %v, want a LockError naming it", cmd.Process.Pid, err)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	unlock, err := l.Lock(ctx, state.NewLockInfo("apply"))
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	unlock()
}

func TestForceUnlock(t *testing.T) {
	l := newLocal(t)
	// A held lock is refused: its holder is running.
	unlock, err := l.Lock(context.Background(), state.NewLockInfo("apply"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.ForceUnlock("any"); err == nil || !strings.Contains(err.Error(), "which is still running") {
		t.Errorf("force-unlock of a held lock: %v", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	// A record left by a holder that died (its flock is gone).
	stale := `{"id":"dead-1","who":"ci@host","operation":"apply","pid":4242}`
	if err := os.WriteFile(l.LockPath(), []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ForceUnlock("other"); err == nil || !strings.Contains(err.Error(), "has id dead-1, not other") {
		t.Errorf("force-unlock with the wrong id: %v", err)
	}
	got, err := l.ForceUnlock("dead-1")
	if err != nil || got.PID != 4242 {
		t.Fatalf("force-unlock of a stale record: %+v, %v", got, err)
	}
	if data, _ := os.ReadFile(l.LockPath()); len(data) != 0 {
		t.Errorf("the stale record is still there: %s", data)
	}
}

func TestLockReportsAHolderThatDied(t *testing.T) {
	l := newLocal(t)
	if err := os.WriteFile(l.LockPath(), []byte(`{"id":"dead-2","who":"ci@host","operation":"apply","pid":4243}`), 0o600); err != nil {
		t.Fatal(err)
	}
	unlock, err := l.Lock(context.Background(), state.NewLockInfo("apply"))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if d := l.DiedHolder(); d == nil || d.ID != "dead-2" || d.PID != 4243 {
		t.Errorf("DiedHolder = %+v, want the record left by pid 4243", d)
	}
	clean := newLocal(t)
	unlock2, err := clean.Lock(context.Background(), state.NewLockInfo("apply"))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock2()
	if d := clean.DiedHolder(); d != nil {
		t.Errorf("DiedHolder after a clean unlock = %+v, want nil", d)
	}
}
