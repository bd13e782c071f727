package config

import (
	"sort"

	"github.com/hashicorp/hcl/v2"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/secret"
)

// Config is a configuration, fully evaluated.
type Config struct {
	// Dir is the directory the configuration was read from.
	Dir       string
	KeyVault  KeyVault
	Providers []*Provider // sorted by Name
	DataKeys  []*DataKey  // sorted by Name
	// Files are the parsed sources, configuration and -var-file files alike,
	// keyed by the file names used in diagnostics, for printing snippets.
	Files map[string]*hcl.File
}

// KeyVault is the key_vault block.
type KeyVault struct {
	// URI is the MongoDB connection string. It may hold a password.
	URI       secret.Value
	Namespace string // "db.coll"
	DeclRange hcl.Range
}

// Provider is a kms block: a configured KMS provider.
type Provider struct {
	// Name is how keys refer to the provider: the kind ("aws"), or the kind
	// and a label joined by a colon for a named provider ("aws:prod").
	Name string
	Kind string // model.KindLocal, model.KindAWS
	// LocalKey is the 96-byte local master key, decoded (local only).
	LocalKey secret.Value
	// Region, Profile, Endpoint and CAFile configure aws; empty means unset.
	// CAFile is resolved against the configuration directory.
	Region, Profile, Endpoint, CAFile string
	DeclRange                         hcl.Range
}

// DataKey is a data_key block.
type DataKey struct {
	Name     string
	Addr     model.Addr
	Provider string // a Provider's Name
	// MasterKey has the provider's defaults (region, endpoint) filled in.
	MasterKey      model.MasterKey
	AltNames       []string // sorted, deduplicated, never empty
	PreventDestroy bool
	DeclRange      hcl.Range
}

// Provider returns the provider called name, or nil.
func (c *Config) Provider(name string) *Provider {
	i := sort.Search(len(c.Providers), func(i int) bool { return c.Providers[i].Name >= name })
	if i < len(c.Providers) && c.Providers[i].Name == name {
		return c.Providers[i]
	}
	return nil
}

// DataKey returns the data key labelled name, or nil.
func (c *Config) DataKey(name string) *DataKey {
	i := sort.Search(len(c.DataKeys), func(i int) bool { return c.DataKeys[i].Name >= name })
	if i < len(c.DataKeys) && c.DataKeys[i].Name == name {
		return c.DataKeys[i]
	}
	return nil
}

// Desired is what the configuration asks of the key vault, with no secrets:
// the planner's view of the config.
func (c *Config) Desired() model.Desired {
	d := model.Desired{
		KeyVaultNamespace: c.KeyVault.Namespace,
		Providers:         make([]string, 0, len(c.Providers)),
		Keys:              make([]model.DesiredKey, 0, len(c.DataKeys)),
	}
	for _, p := range c.Providers {
		d.Providers = append(d.Providers, p.Name)
	}
	for _, k := range c.DataKeys {
		d.Keys = append(d.Keys, model.DesiredKey{
			Addr:           k.Addr,
			MasterKey:      k.MasterKey.Clone(),
			AltNames:       append([]string(nil), k.AltNames...),
			PreventDestroy: k.PreventDestroy,
		})
	}
	sort.Slice(d.Keys, func(i, j int) bool { return d.Keys[i].Addr.String() < d.Keys[j].Addr.String() })
	return d
}
