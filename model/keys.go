package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// DefaultKeyVaultNamespace is where MongoDB's guides keep data keys.
const DefaultKeyVaultNamespace = "encryption.__keyVault"

// Addr is the address of a managed object, such as "data_key.ssn".
// It is the identity that plans and state use; it never changes for an object.
type Addr struct {
	Type string // "data_key", "key_vault"
	Name string
}

// DataKeyAddr returns the address of the data_key block labelled name.
func DataKeyAddr(name string) Addr { return Addr{Type: "data_key", Name: name} }

// KeyVaultIndexAddr is the address of the unique index on keyAltNames.
var KeyVaultIndexAddr = Addr{Type: "key_vault", Name: "keyAltNames_index"}

func (a Addr) String() string { return a.Type + "." + a.Name }

// MarshalText writes the dotted form.
func (a Addr) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText parses the dotted form.
func (a *Addr) UnmarshalText(b []byte) error {
	p, err := ParseAddr(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}

// ParseAddr parses "type.name".
func ParseAddr(s string) (Addr, error) {
	typ, name, ok := strings.Cut(s, ".")
	if !ok || typ == "" || name == "" {
		return Addr{}, fmt.Errorf("model: %q is not an address (want TYPE.NAME, such as data_key.ssn)", s)
	}
	return Addr{Type: typ, Name: name}, nil
}

// DesiredKey is a data key as the configuration wants it.
type DesiredKey struct {
	Addr           Addr
	MasterKey      MasterKey
	AltNames       []string // sorted, at least one
	PreventDestroy bool
}

// Desired is everything the configuration asks for.
type Desired struct {
	KeyVaultNamespace string
	// Providers are the names of the configured KMS providers ("local", "aws").
	Providers []string
	Keys      []DesiredKey // sorted by address
	// Collections are the encrypted collections, sorted by address.
	Collections []DesiredCollection
}

// HasProvider reports whether the provider name is configured.
func (d Desired) HasProvider(name string) bool {
	for _, p := range d.Providers {
		if p == name {
			return true
		}
	}
	return false
}

// LiveKey is one document of the key vault, as far as csfle cares: never the
// wrapped key material.
type LiveKey struct {
	ID        KeyID
	AltNames  []string // sorted
	MasterKey MasterKey
	Created   time.Time
	Updated   time.Time
	Status    int
}

// IndexState describes the key vault's index on keyAltNames.
type IndexState int

const (
	IndexMissing IndexState = iota
	// IndexPresent is a unique index on keyAltNames with the partial filter
	// MongoDB recommends.
	IndexPresent
	// IndexUnprotected is an index that exists but does not enforce
	// uniqueness per alt name (not unique, or not partial).
	IndexUnprotected
)

// Live is what the key vault holds, read in one pass.
type Live struct {
	Namespace     string
	Keys          []LiveKey // sorted by id
	AltNamesIndex IndexState
	// Collections are the managed collections as listCollections shows
	// them, sorted by namespace; one that does not exist has Exists false.
	Collections []LiveCollection
}

// KeyByID finds a live key.
func (l Live) KeyByID(id KeyID) (LiveKey, bool) {
	i := sort.Search(len(l.Keys), func(i int) bool { return bytes.Compare(l.Keys[i].ID[:], id[:]) >= 0 })
	if i < len(l.Keys) && l.Keys[i].ID == id {
		return l.Keys[i], true
	}
	return LiveKey{}, false
}

// SortKeys orders keys by id, as KeyByID expects.
func SortKeys(keys []LiveKey) {
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i].ID[:], keys[j].ID[:]) < 0 })
}

// PriorKey is a data key as the state recorded it after the last apply.
type PriorKey struct {
	Addr      Addr      `json:"address"`
	ID        KeyID     `json:"id"`
	AltNames  []string  `json:"alt_names"`
	MasterKey MasterKey `json:"master_key"`
	// Updated is the key document's updateDate when it was last recorded,
	// which tells an out-of-band rewrap apart from no change.
	Updated        time.Time `json:"update_date"`
	PreventDestroy bool      `json:"prevent_destroy,omitempty"`
}

// Prior is what the state file recorded.
type Prior struct {
	Lineage     string
	Serial      uint64
	Keys        []PriorKey
	Collections []PriorCollection
	// IndexUnsupported is set when the server refused the unique index on
	// keyAltNames at the last apply; it says why, so the plan can warn
	// instead of proposing the same failing change every time.
	IndexUnsupported string
}

// Digest summarises what a plan depends on in the key vault: every key's id,
// alt names and master key, and the index state. Two reads of an unchanged
// vault have the same digest, whatever order the documents came in.
func (l Live) Digest() string {
	keys := l.Keys
	if !sort.SliceIsSorted(keys, func(i, j int) bool { return bytes.Compare(keys[i].ID[:], keys[j].ID[:]) < 0 }) {
		keys = append([]LiveKey(nil), keys...)
		SortKeys(keys)
	}
	h := sha256.New()
	// Fields are length-prefixed so no two different vaults write the
	// same byte stream.
	var buf []byte
	field := func(s string) {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	field(l.Namespace)
	buf = binary.AppendUvarint(buf, uint64(l.AltNamesIndex))
	for _, k := range keys {
		buf = append(buf, k.ID[:]...)
		buf = binary.AppendUvarint(buf, uint64(len(k.AltNames)))
		for _, a := range k.AltNames {
			field(a)
		}
		field(k.MasterKey.Provider)
		names := k.MasterKey.FieldNames()
		buf = binary.AppendUvarint(buf, uint64(len(names)))
		for _, n := range names {
			field(n)
			field(k.MasterKey.Fields[n])
		}
		if len(buf) > 32<<10 {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	buf = binary.AppendUvarint(buf, uint64(len(l.Collections)))
	for _, c := range l.Collections {
		field(c.Database)
		field(c.Name)
		field(fmt.Sprint(c.Exists, c.OtherValidator))
		field(c.JSONSchema)
		field(c.ValidationLevel)
		field(c.ValidationAction)
		field(c.EncryptedFields)
	}
	h.Write(buf)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// ErrIndexUnsupported is wrapped by errors of a server that will not keep a
// unique partial index on keyAltNames.
var ErrIndexUnsupported = errors.New("the server refused a unique partial index on keyAltNames")
