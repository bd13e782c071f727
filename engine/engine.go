package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/csfle/csfle/config"
	"github.com/csfle/csfle/kms"
	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/state"
	"github.com/csfle/csfle/vault"
)

// DefaultStateFile is the state file's name in the configuration directory.
const DefaultStateFile = "csfle.state.json"

// Options say where things are and how long to wait.
type Options struct {
	Dir         string // configuration directory
	Vars        []string
	VarFiles    []string
	StatePath   string // default Dir/csfle.state.json
	LockTimeout time.Duration
	Concurrency int
	LookupEnv   func(string) (string, bool)
	Version     string // csfle's version, recorded in the state
	// ScanAll makes the in-use check before a key delete scan every field
	// of every collection of the cluster, not only the declared paths of
	// the managed collections.
	ScanAll bool
	// AllowReplace lets a plan recreate Queryable Encryption collections.
	AllowReplace bool
	// ScanProgress, if set, is told how many documents a scan has read.
	ScanProgress func(scanned int64)
	// KeyCacheWait is waited before keys are deleted (see
	// executor.Options.DeleteDelay); OnWait is told first.
	KeyCacheWait time.Duration
	OnWait       func(time.Duration)
	// StepTimeout bounds one try of a step (executor.Options.StepTimeout).
	StepTimeout time.Duration
	// Notice, if set, is told things worth a line on standard error.
	Notice func(string)
	// CrashSettle is waited, after taking a lock whose last holder died,
	// before the key vault is read: writes the dead run had sent may still
	// land, and a plan made before they do could create a key twice.
	// Default 2s.
	CrashSettle time.Duration
}

func (o Options) statePath() string {
	if o.StatePath != "" {
		return o.StatePath
	}
	return filepath.Join(o.Dir, DefaultStateFile)
}

func (o Options) loadOptions() config.LoadOptions {
	lo := config.DefaultLoadOptions()
	lo.Vars, lo.VarFiles = o.Vars, o.VarFiles
	if o.LookupEnv != nil {
		lo.LookupEnv = o.LookupEnv
	}
	lo.LibmongocryptVersion = vault.LibmongocryptVersion()
	return lo
}

// LoadConfig evaluates the configuration.
func LoadConfig(o Options) (*config.Config, hcl.Diagnostics) {
	return config.Load(o.Dir, o.loadOptions())
}

// ConfigDigest fingerprints the configuration files, so a saved plan can be
// refused when they change. Variable values are left out: they may be secret.
func ConfigDigest(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("engine: reading %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && config.IsConfigFile(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return "", fmt.Errorf("engine: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", n, len(b))
		h.Write(b)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// Session is an open state (locked) and an open key vault.
type Session struct {
	Config *config.Config
	// desired is Config.Desired(), made once: it copies every key.
	desired model.Desired
	opts    Options
	backend state.Backend
	unlock  func() error
	state   *state.State
	// fresh is set while no state file exists: the lineage of s.state is
	// not yet a fact a saved plan can be held to.
	fresh     bool
	vault     *vault.Vault
	providers *kms.Providers
}

// Open takes the state lock for operation, reads the state, resolves the KMS
// credentials and connects to the key vault.
func Open(ctx context.Context, cfg *config.Config, o Options, operation string) (*Session, error) {
	backend := state.NewLocal(o.statePath())
	lockCtx, cancel := context.WithTimeout(ctx, o.LockTimeout)
	unlock, err := backend.Lock(lockCtx, state.NewLockInfo(operation))
	cancel()
	if err != nil {
		return nil, err
	}
	s := &Session{Config: cfg, desired: cfg.Desired(), opts: o, backend: backend, unlock: unlock}
	if died := backend.DiedHolder(); died != nil {
		settle := o.CrashSettle
		if settle == 0 {
			settle = 2 * time.Second
		}
		if o.Notice != nil {
			o.Notice(fmt.Sprintf("The last run (%s by %s, pid %d) died holding the state lock; waiting %s for the writes it had sent to land before reading the key vault.",
				died.Operation, died.Who, died.PID, settle))
		}
		select {
		case <-ctx.Done():
		case <-time.After(settle):
		}
	}
	if err := s.open(ctx); err != nil {
		_ = unlock()
		return nil, err
	}
	return s, nil
}

func (s *Session) open(ctx context.Context) error {
	st, err := s.backend.Read(ctx)
	if err != nil {
		return err
	}
	ns := s.Config.KeyVault.Namespace
	if st == nil {
		st, s.fresh = state.New(ns), true
	} else if st.KeyVault != ns {
		return fmt.Errorf("engine: the state in %s belongs to key vault %s, but the configuration names %s; use another state file (-state) for another key vault",
			s.opts.statePath(), st.KeyVault, ns)
	}
	s.state = st
	providers, err := kms.Resolve(ctx, providerConfigs(s.Config), kms.Options{LookupEnv: s.opts.LookupEnv})
	if err != nil {
		return err
	}
	s.providers = providers
	s.vault, err = vault.Open(ctx, s.Config.KeyVault.URI, ns, providers)
	return err
}

func providerConfigs(cfg *config.Config) []kms.Config {
	out := make([]kms.Config, 0, len(cfg.Providers))
	for _, p := range cfg.Providers {
		out = append(out, kms.Config{Name: p.Name, Kind: p.Kind, LocalKey: p.LocalKey,
			Region: p.Region, Profile: p.Profile, Endpoint: p.Endpoint, CAFile: p.CAFile,
			RoleARN: p.RoleARN, ExternalID: p.ExternalID, SessionName: p.SessionName,
			TenantID: p.TenantID, ClientID: p.ClientID, ClientSecret: p.ClientSecret, AccessToken: p.AccessToken,
			IdentityPlatformEndpoint: p.IdentityPlatformEndpoint, Email: p.Email, PrivateKey: p.PrivateKey,
			ClientCertFile: p.ClientCertFile, ClientKeyFile: p.ClientKeyFile})
	}
	return out
}

// Close disconnects and releases the lock.
func (s *Session) Close(ctx context.Context) error {
	var errs []error
	if s.vault != nil {
		errs = append(errs, s.vault.Close(ctx))
	}
	errs = append(errs, s.unlock())
	return errors.Join(errs...)
}

// prior is the state as the planner sees it.
func (s *Session) prior() model.Prior {
	p := s.state.Prior()
	if s.fresh {
		p.Lineage = ""
	}
	return p
}

// State returns a copy of the state as read (and as updated by apply).
func (s *Session) State() *state.State { return s.state.DeepCopy() }

// ReadState reads the state without the vault, for show and output.
func ReadState(ctx context.Context, o Options) (*state.State, error) {
	return state.NewLocal(o.statePath()).Read(ctx)
}
