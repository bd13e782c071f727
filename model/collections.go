package model

import "strings"

// Enforcement modes of an encrypted collection.
const (
	// ModeValidator enforces encryption on the server with a $jsonSchema
	// validator that carries encrypt keywords.
	ModeValidator = "validator"
	// ModeSchemaMap only produces a client schemaMap for applications.
	ModeSchemaMap = "schema_map"
	// ModeQueryable is Queryable Encryption: encryptedFields, fixed when
	// the collection is created.
	ModeQueryable = "queryable"
)

// CSFLE encryption algorithms, as the configuration names them.
const (
	AlgorithmDeterministic = "deterministic"
	AlgorithmRandom        = "random"
)

// Query types of a Queryable Encryption field.
const (
	QueryEquality = "equality"
	QueryRange    = "range"
)

// CollectionAddr is the address of the collection block for db.coll.
func CollectionAddr(db, coll string) Addr { return Addr{Type: "collection", Name: db + "." + coll} }

// Query is one query a Queryable Encryption field supports. Range bounds
// are kept as the configuration wrote them and typed by the field's BSON
// type when the encryptedFields document is made.
type Query struct {
	Type       string `json:"type"`
	Contention *int64 `json:"contention,omitempty"`
	Min        string `json:"min,omitempty"`
	Max        string `json:"max,omitempty"`
	Sparsity   *int64 `json:"sparsity,omitempty"`
	Precision  *int64 `json:"precision,omitempty"`
	TrimFactor *int64 `json:"trim_factor,omitempty"`
}

// EncryptedField is one encrypted field of a collection.
type EncryptedField struct {
	// Path is dotted: "billing.card.number".
	Path string `json:"path"`
	// BSONType is the field's BSON type alias ("string", "int", "date"...);
	// empty only for a random-algorithm field that accepts any type.
	BSONType string `json:"bson_type,omitempty"`
	// Algorithm is AlgorithmDeterministic or AlgorithmRandom for CSFLE,
	// empty for Queryable Encryption.
	Algorithm string `json:"algorithm,omitempty"`
	// Key is the data_key block whose key encrypts the field.
	Key     Addr    `json:"data_key"`
	Queries []Query `json:"queries,omitempty"`
}

// PathParts splits the dotted path.
func (f EncryptedField) PathParts() []string { return strings.Split(f.Path, ".") }

// DesiredCollection is a collection block: a collection and the fields
// it encrypts, in one enforcement mode.
type DesiredCollection struct {
	Addr     Addr
	Database string
	Name     string
	Mode     string
	Fields   []EncryptedField // sorted by Path
}

// Namespace is "db.coll".
func (c DesiredCollection) Namespace() string { return c.Database + "." + c.Name }

// LiveCollection is what listCollections says of a managed collection.
// Documents are canonical extended JSON, so they compare without a driver.
type LiveCollection struct {
	Database, Name string
	Exists         bool
	// JSONSchema is the validator's $jsonSchema, "" when there is none.
	JSONSchema string
	// OtherValidator is set when the validator holds more than a
	// $jsonSchema (csfle does not manage such a validator's other parts).
	OtherValidator   bool
	ValidationLevel  string
	ValidationAction string
	// EncryptedFields is the collection's encryptedFields, "" when none.
	EncryptedFields string
}

// KeyUsage counts, per key id, the documents that still hold ciphertext
// made with the key, by collection ("db.coll").
type KeyUsage map[KeyID]map[string]int64

// Total is the number of documents that use the key.
func (u KeyUsage) Total(id KeyID) int64 {
	var n int64
	for _, c := range u[id] {
		n += c
	}
	return n
}

// PriorCollection is a collection as the state recorded it after the last
// apply: the fields, and the document csfle wrote (the $jsonSchema, or the
// encryptedFields), which tells an edit made by hand apart from no change.
type PriorCollection struct {
	Addr     Addr             `json:"address"`
	Database string           `json:"database"`
	Name     string           `json:"name"`
	Mode     string           `json:"mode"`
	Fields   []EncryptedField `json:"fields"`
	// Document is canonical extended JSON of what was applied.
	Document string `json:"document"`
}

// ScanRecord is a collection and the paths in it that once held encrypted
// fields csfle managed. When a collection block is removed, or a field
// moves, the documents written before may still hold ciphertext there, so
// the check before a key delete keeps scanning these.
type ScanRecord struct {
	Namespace string   `json:"namespace"`
	Paths     []string `json:"paths"`
}
