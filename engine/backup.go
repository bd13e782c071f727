package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/csfle/csfle/model"
)

// KeyBackup is a key document kept before a rewrap or a delete. Its
// keyMaterial is wrapped by the master key, so it is useless without it;
// the file is still private (0600).
type KeyBackup struct {
	FormatVersion int        `json:"format_version"`
	Address       model.Addr `json:"address"`
	KeyID         string     `json:"key_id"`
	Namespace     string     `json:"key_vault_namespace"`
	CreatedAt     time.Time  `json:"created_at"`
	// Document is the key document as canonical extended JSON.
	Document json.RawMessage `json:"document"`
}

// backupDir is where key backups go: beside the state file.
func (o Options) backupDir() string { return o.statePath() + ".backups" }

// Backup writes a key backup file, atomically and privately.
func (r *recorder) Backup(ctx context.Context, addr model.Addr, id model.KeyID, doc string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("engine: not backing up for an abandoned step: %w", err)
	}
	b := KeyBackup{FormatVersion: 1, Address: addr, KeyID: id.String(), Namespace: r.state.KeyVault,
		CreatedAt: time.Now().UTC(), Document: json.RawMessage(doc)}
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return fmt.Errorf("engine: encoding the backup of %s: %w", addr, err)
	}
	if err := os.MkdirAll(r.backupDir, 0o700); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	name := fmt.Sprintf("%s-%s-%s.json", b.CreatedAt.Format("20060102T150405.000000000Z"), addr, id)
	tmp, err := os.CreateTemp(r.backupDir, ".backup-*")
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("engine: writing a key backup: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("engine: writing a key backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("engine: writing a key backup: %w", err)
	}
	return os.Rename(tmp.Name(), filepath.Join(r.backupDir, name))
}

// ReadKeyBackup reads a backup file.
func ReadKeyBackup(path string) (*KeyBackup, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	var b KeyBackup
	if err := json.Unmarshal(data, &b); err != nil || b.FormatVersion != 1 || len(b.Document) == 0 {
		return nil, fmt.Errorf("engine: %s is not a csfle key backup", path)
	}
	return &b, nil
}

// Restore puts a backed-up key back into the key vault, as it was before
// the change that deleted it.
func (s *Session) Restore(ctx context.Context, b *KeyBackup) (model.KeyID, error) {
	if b.Namespace != s.Config.KeyVault.Namespace {
		return model.KeyID{}, fmt.Errorf("engine: the backup is of key vault %s, but the configuration names %s", b.Namespace, s.Config.KeyVault.Namespace)
	}
	return s.vault.RestoreKeyDocument(ctx, strings.TrimSpace(string(b.Document)))
}
