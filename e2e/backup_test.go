package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A key deleted by mistake comes back from its backup with its id and key
// material, so what it encrypted decrypts again.
func TestDeletedKeyIsRestoredFromItsBackup(t *testing.T) {
	w := newWorkspace(t)
	w.config(localProvider + `
data_key "notes" {
  kms = kms.local
}
`)
	w.ok("apply", "-auto-approve")
	ids := w.keyIDs()
	ct := newApp(t, w, "local").encrypt(ids["notes"], "keep me")

	w.config(localProvider)
	w.ok("apply", "-auto-approve")
	if _, err := newApp(t, w, "local").decrypt(ct); err == nil {
		t.Fatal("the value still decrypts after its key was deleted")
	}
	backups, err := filepath.Glob(filepath.Join(w.dir, "csfle.state.json.backups", "*.json"))
	if err != nil || len(backups) != 1 {
		t.Fatalf("backups = %v, %v; want the deleted key's", backups, err)
	}
	info, err := os.Stat(backups[0])
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("backup mode = %v, %v; want 0600", info.Mode().Perm(), err)
	}
	data, _ := os.ReadFile(backups[0])
	if strings.Contains(string(data), w.localKey) || !strings.Contains(string(data), "keyMaterial") {
		t.Errorf("the backup holds the master key, or no key material:\n%s", data)
	}

	r := w.ok("state", "restore", backups[0])
	if !strings.Contains(r.stdout, "Restored key") {
		t.Errorf("restore: %s", r)
	}
	if got, err := newApp(t, w, "local").decrypt(ct); err != nil || got != "keep me" {
		t.Fatalf("decrypt after the restore: %q, %v", got, err)
	}
	if r := w.run("state", "restore", backups[0]); r.code != 1 || !strings.Contains(r.stderr, "already in") {
		t.Errorf("a second restore: %s", r)
	}
	w.config(localProvider + `
data_key "notes" {
  kms = kms.local
}
`)
	p := w.planJSON()
	if len(p.Changes) != 1 || p.Changes[0].Action != "adopt" {
		t.Errorf("plan after the restore: %+v", p.Changes)
	}
	w.assertNoSecrets()
}

func TestKeyCacheWaitBeforeDeletes(t *testing.T) {
	w := newWorkspace(t)
	w.config(localProvider + "\ndata_key \"old\" {\n  kms = kms.local\n}\n")
	w.ok("apply", "-auto-approve")
	w.config(localProvider)
	r := w.ok("apply", "-auto-approve", "-key-cache-wait", "200ms")
	if !strings.Contains(r.stderr, "Waiting 200ms for applications' data key caches to expire before deleting keys") || !strings.Contains(r.stdout, "1 deleted") {
		t.Errorf("apply with -key-cache-wait: %s", r)
	}
}

func TestForceUnlockClearsAStaleRecord(t *testing.T) {
	w := newWorkspace(t)
	w.write("csfle.state.json.lock", `{"id":"lock-123","who":"ci@runner","operation":"apply","pid":999999}`)
	if r := w.run("force-unlock", "lock-999"); r.code != 1 || !strings.Contains(r.stderr, "has id lock-123, not lock-999") {
		t.Errorf("force-unlock with the wrong id: %s", r)
	}
	r := w.ok("force-unlock", "lock-123")
	if !strings.Contains(r.stdout, "Cleared the lock lock-123 left by ci@runner (apply, pid 999999)") {
		t.Errorf("force-unlock: %s", r)
	}
	if r := w.ok("force-unlock", "lock-123"); !strings.Contains(r.stdout, "not locked") {
		t.Errorf("a second force-unlock: %s", r)
	}
}
