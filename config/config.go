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
	// Collections are the encrypted collections, sorted by address.
	Collections []*Collection
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

// Provider is a kms block: a configured KMS provider. Each kind uses only
// its own fields; the others are empty. Secrets are secret.Value, whether
// they were written inline, read with file() or env(), or given to a
// sensitive variable. File paths are resolved against the configuration
// directory and were readable, and held PEM of the right kind, at load time.
type Provider struct {
	// Name is how keys refer to the provider: the kind ("aws"), or the kind
	// and a label joined by a colon for a named provider ("aws:prod").
	Name string
	Kind string // model.KindLocal, KindAWS, KindAzure, KindGCP or KindKMIP
	// LocalKey is the 96-byte local master key, decoded (local only).
	LocalKey secret.Value
	// Region and Profile configure aws; empty means unset.
	Region, Profile string
	// Endpoint is host[:port]: the KMS endpoint for aws, the OAuth endpoint
	// for gcp (MongoDB's default is oauth2.googleapis.com), and the KMIP
	// server for kmip (required there). Empty means the default.
	Endpoint string
	// CAFile is a PEM file of certificates to trust for the provider's TLS
	// endpoints (aws, azure, gcp, kmip).
	CAFile string

	// RoleARN is an IAM role to assume with STS on top of the credentials
	// of the default chain (aws); ExternalID and SessionName go with it.
	RoleARN, ExternalID, SessionName string

	// TenantID, ClientID and ClientSecret are an Azure app registration's
	// credentials; AccessToken replaces ClientID and ClientSecret (azure,
	// and gcp). Exactly one of the two forms is set.
	TenantID, ClientID string
	ClientSecret       secret.Value
	AccessToken        secret.Value
	// IdentityPlatformEndpoint is host[:port] of the Microsoft identity
	// platform (azure); empty means login.microsoftonline.com.
	IdentityPlatformEndpoint string

	// Email and PrivateKey are a GCP service account's credentials.
	// PrivateKey is the DER encoding of its PKCS#8 RSA key, decoded from the
	// PEM or base64 the configuration gave.
	Email      string
	PrivateKey secret.Value

	// ClientCertFile is the PEM file of the TLS client certificate (kmip);
	// ClientKeyFile holds its private key, or is empty when ClientCertFile
	// holds the key too.
	ClientCertFile, ClientKeyFile string

	DeclRange hcl.Range
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

// Collection is a collection block: the fields of one collection that are
// encrypted, and how that is enforced.
type Collection struct {
	Addr     model.Addr // collection.DB.COLL
	Database string
	Name     string
	Mode     string   // model.ModeValidator (the default), ModeSchemaMap or ModeQueryable
	Fields   []*Field // sorted by Path
	// DeclRange is the block's header.
	DeclRange hcl.Range
}

// Field is a field block of a collection.
type Field struct {
	// Path is dotted ("billing.card.number"): no empty segments, no "$".
	Path string
	// BSONType is a BSON type alias ("string", "int", "date"...); empty
	// only where MongoDB lets the type be any (random algorithm, or a
	// queryable field without queries).
	BSONType string
	// Algorithm is model.AlgorithmDeterministic or AlgorithmRandom in the
	// CSFLE modes, empty in queryable mode.
	Algorithm string
	DataKey   string // a DataKey's Name
	// Query is the field's Queryable Encryption query, nil for none. Range
	// bounds are strings: an int or long bound is a whole number, a double
	// or decimal bound a decimal number (such as "0", "-1.5" or "2.5e3"),
	// and a date bound an RFC 3339 timestamp ("2024-01-01T00:00:00Z").
	Query *model.Query
	// DeclRange is the block's header.
	DeclRange hcl.Range
}

// Collection returns the collection block for db.name, or nil.
func (c *Config) Collection(db, name string) *Collection {
	addr := model.CollectionAddr(db, name).Name
	i := sort.Search(len(c.Collections), func(i int) bool { return c.Collections[i].Addr.Name >= addr })
	if i < len(c.Collections) && c.Collections[i].Addr.Name == addr {
		return c.Collections[i]
	}
	return nil
}

// Field returns the field block for path, or nil.
func (c *Collection) Field(path string) *Field {
	i := sort.Search(len(c.Fields), func(i int) bool { return c.Fields[i].Path >= path })
	if i < len(c.Fields) && c.Fields[i].Path == path {
		return c.Fields[i]
	}
	return nil
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
	for _, c := range c.Collections {
		d.Collections = append(d.Collections, c.desired())
	}
	sort.Slice(d.Collections, func(i, j int) bool { return d.Collections[i].Addr.String() < d.Collections[j].Addr.String() })
	return d
}

func (c *Collection) desired() model.DesiredCollection {
	d := model.DesiredCollection{
		Addr:     c.Addr,
		Database: c.Database,
		Name:     c.Name,
		Mode:     c.Mode,
		Fields:   make([]model.EncryptedField, 0, len(c.Fields)),
	}
	for _, f := range c.Fields {
		ef := model.EncryptedField{
			Path:      f.Path,
			BSONType:  f.BSONType,
			Algorithm: f.Algorithm,
			Key:       model.DataKeyAddr(f.DataKey),
		}
		if f.Query != nil {
			ef.Queries = []model.Query{cloneQuery(*f.Query)}
		}
		d.Fields = append(d.Fields, ef)
	}
	sort.Slice(d.Fields, func(i, j int) bool { return d.Fields[i].Path < d.Fields[j].Path })
	return d
}

// cloneQuery copies the options behind the pointers, so that a Desired
// shares nothing with the Config.
func cloneQuery(q model.Query) model.Query {
	for _, p := range []**int64{&q.Contention, &q.Sparsity, &q.Precision, &q.TrimFactor} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	return q
}
