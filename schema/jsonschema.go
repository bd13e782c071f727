package schema

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/csfle/csfle/model"
)

// MongoDB's names of the CSFLE algorithms, as the encrypt keyword holds them.
const (
	MongoDeterministic = "AEAD_AES_256_CBC_HMAC_SHA_512-Deterministic"
	MongoRandom        = "AEAD_AES_256_CBC_HMAC_SHA_512-Random"
)

// AlgorithmName is MongoDB's name for a configuration's algorithm
// (model.AlgorithmDeterministic or model.AlgorithmRandom).
func AlgorithmName(algorithm string) (string, error) {
	switch algorithm {
	case model.AlgorithmDeterministic:
		return MongoDeterministic, nil
	case model.AlgorithmRandom:
		return MongoRandom, nil
	}
	return "", fmt.Errorf("schema: unknown algorithm %q (want %q or %q)", algorithm, model.AlgorithmDeterministic, model.AlgorithmRandom)
}

// algorithmFromMongo is the configuration's name for one of MongoDB's; a
// name it does not know is kept as it is, so a hand-edited schema shows up
// as a difference rather than vanishing.
func algorithmFromMongo(name string) string {
	switch name {
	case MongoDeterministic:
		return model.AlgorithmDeterministic
	case MongoRandom:
		return model.AlgorithmRandom
	}
	return name
}

// JSONSchema is the $jsonSchema of a CSFLE collection:
//
//	{"bsonType":"object","properties":{"ssn":{"encrypt":{"keyId":[UUID],"bsonType":"string","algorithm":"AEAD_AES_256_CBC_HMAC_SHA_512-Deterministic"}}}}
//
// Dotted paths become nested {"bsonType":"object","properties":{...}}
// objects. ids maps data_key addresses to key ids; a field whose key has no
// id yet is an error, since a schema can only be written once its keys
// exist.
func JSONSchema(c model.DesiredCollection, ids map[model.Addr]model.KeyID) (string, error) {
	d, err := JSONSchemaDoc(c, ids)
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// JSONSchemaDoc is JSONSchema as a Doc.
func JSONSchemaDoc(c model.DesiredCollection, ids map[model.Addr]model.KeyID) (Doc, error) {
	if c.Mode == model.ModeQueryable {
		return nil, fmt.Errorf("schema: %s uses Queryable Encryption: it has encryptedFields, not a $jsonSchema", collName(c))
	}
	root := newTree()
	for _, f := range sortedFields(c.Fields) {
		enc, err := encryptKeyword(f, ids)
		if err != nil {
			return nil, fmt.Errorf("schema: %s field %q: %w", collName(c), f.Path, err)
		}
		if err := root.insert(f.PathParts(), Doc{{"encrypt", enc}}); err != nil {
			return nil, fmt.Errorf("schema: %s field %q: %w", collName(c), f.Path, err)
		}
	}
	return root.doc(), nil
}

// SchemaMap is {"db.coll": <$jsonSchema>, ...} for the CSFLE collections
// among cs (modes validator and schema_map), sorted by namespace: what
// AutoEncryptionOpts.SchemaMap takes. Queryable collections are left out;
// they belong in EncryptedFieldsMap.
func SchemaMap(cs []model.DesiredCollection, ids map[model.Addr]model.KeyID) (string, error) {
	d, err := SchemaMapDoc(cs, ids)
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// SchemaMapDoc is SchemaMap as a Doc.
func SchemaMapDoc(cs []model.DesiredCollection, ids map[model.Addr]model.KeyID) (Doc, error) {
	return namespaceMap(cs, func(c model.DesiredCollection) bool { return c.Mode != model.ModeQueryable }, func(c model.DesiredCollection) (Doc, error) {
		return JSONSchemaDoc(c, ids)
	})
}

func namespaceMap(cs []model.DesiredCollection, keep func(model.DesiredCollection) bool, doc func(model.DesiredCollection) (Doc, error)) (Doc, error) {
	var picked []model.DesiredCollection
	for _, c := range cs {
		if keep(c) {
			picked = append(picked, c)
		}
	}
	sort.SliceStable(picked, func(i, j int) bool { return picked[i].Namespace() < picked[j].Namespace() })
	out := Doc{}
	for i, c := range picked {
		if i > 0 && picked[i-1].Namespace() == c.Namespace() {
			return nil, fmt.Errorf("schema: namespace %s is declared twice", c.Namespace())
		}
		d, err := doc(c)
		if err != nil {
			return nil, err
		}
		out = append(out, Elem{c.Namespace(), d})
	}
	return out, nil
}

func encryptKeyword(f model.EncryptedField, ids map[model.Addr]model.KeyID) (Doc, error) {
	id, err := keyID(f, ids)
	if err != nil {
		return nil, err
	}
	alg, err := AlgorithmName(f.Algorithm)
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "schema: "))
	}
	enc := Doc{{"keyId", []any{UUID(id)}}}
	if f.BSONType != "" {
		enc = append(enc, Elem{"bsonType", f.BSONType})
	}
	return append(enc, Elem{"algorithm", alg}), nil
}

func keyID(f model.EncryptedField, ids map[model.Addr]model.KeyID) (model.KeyID, error) {
	if f.Key == (model.Addr{}) {
		return model.KeyID{}, errors.New("no data_key given")
	}
	id, ok := ids[f.Key]
	if !ok || id.IsZero() {
		return model.KeyID{}, fmt.Errorf("%s has no key id yet (create the key before the schema that names it)", f.Key)
	}
	return id, nil
}

func collName(c model.DesiredCollection) string {
	if c.Addr != (model.Addr{}) {
		return c.Addr.String()
	}
	return "collection " + c.Namespace()
}

func sortedFields(fs []model.EncryptedField) []model.EncryptedField {
	out := append([]model.EncryptedField(nil), fs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// tree gathers dotted paths into nested properties, keeping the order in
// which names first appear.
type tree struct {
	names    []string
	children map[string]*tree
	leaf     Doc // set for an encrypted field
}

func newTree() *tree { return &tree{children: map[string]*tree{}} }

func (t *tree) insert(parts []string, leaf Doc) error {
	for _, p := range parts {
		if p == "" {
			return errors.New("the path has an empty part")
		}
	}
	n := t
	for i, p := range parts {
		child, ok := n.children[p]
		if ok && child.leaf != nil {
			if i == len(parts)-1 {
				return errors.New("the path is encrypted twice")
			}
			return fmt.Errorf("%s is encrypted as a whole, so nothing inside it can be encrypted on its own", strings.Join(parts[:i+1], "."))
		}
		if !ok {
			child = newTree()
			n.children[p] = child
			n.names = append(n.names, p)
		}
		if i == len(parts)-1 {
			if len(child.names) > 0 {
				return errors.New("fields inside it are encrypted on their own, so it cannot be encrypted as a whole")
			}
			child.leaf = leaf
		}
		n = child
	}
	return nil
}

func (t *tree) doc() Doc {
	if t.leaf != nil {
		return t.leaf
	}
	props := Doc{}
	for _, name := range t.names {
		props = append(props, Elem{name, t.children[name].doc()})
	}
	return Doc{{"bsonType", "object"}, {"properties", props}}
}

// Field is an encrypted field as a document on the server describes it.
type Field struct {
	// Path is dotted: "billing.card.number".
	Path string
	// BSONType is the field's BSON type; "" when the schema names none.
	// Several types (which a random field may list) are joined by commas.
	BSONType string
	// Algorithm is model.AlgorithmDeterministic or model.AlgorithmRandom
	// when the schema holds one of MongoDB's two names, any other name as
	// it is, and "" for Queryable Encryption.
	Algorithm string
	// KeyIDs are the ids the schema names; empty when the key is found by
	// alt name through KeyAltNamePointer.
	KeyIDs []model.KeyID
	// KeyAltNamePointer is a keyId given as a JSON pointer ("/owner"): the
	// key is the one whose alt name the document holds at that pointer.
	KeyAltNamePointer string
	// Queries are a Queryable Encryption field's queries, with range
	// bounds written back as text (numbers as the server prints them,
	// dates in RFC 3339).
	Queries []model.Query
}

// Fields reads the encrypted fields out of a $jsonSchema in extended JSON,
// as the server returns it. It walks nested properties and applies
// encryptMetadata's keyId and algorithm to the encrypt keywords below it
// that do not name their own. Fields are sorted by path.
func Fields(jsonSchema string) ([]Field, error) {
	d, err := Parse(jsonSchema)
	if err != nil {
		return nil, err
	}
	var out []Field
	if err := walkSchema(d, nil, encryptSettings{}, &out); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// encryptSettings are what encryptMetadata passes down.
type encryptSettings struct {
	keyIDs    []model.KeyID
	pointer   string
	hasKey    bool
	algorithm string
}

func walkSchema(node Doc, path []string, inherited encryptSettings, out *[]Field) error {
	where := "the top level"
	if len(path) > 0 {
		where = fmt.Sprintf("%q", strings.Join(path, "."))
	}
	if v, ok := node.Get("encryptMetadata"); ok {
		meta, ok := v.(Doc)
		if !ok {
			return fmt.Errorf("schema: encryptMetadata at %s is not an object", where)
		}
		s, err := readSettings(meta, inherited)
		if err != nil {
			return fmt.Errorf("schema: encryptMetadata at %s: %w", where, err)
		}
		inherited = s
	}
	if v, ok := node.Get("encrypt"); ok {
		enc, ok := v.(Doc)
		if !ok {
			return fmt.Errorf("schema: encrypt at %s is not an object", where)
		}
		if len(path) == 0 {
			return errors.New("schema: encrypt at the top level: only a field can be encrypted")
		}
		s, err := readSettings(enc, inherited)
		if err != nil {
			return fmt.Errorf("schema: encrypt at %s: %w", where, err)
		}
		bt, err := readBSONType(enc)
		if err != nil {
			return fmt.Errorf("schema: encrypt at %s: %w", where, err)
		}
		*out = append(*out, Field{
			Path:              strings.Join(path, "."),
			BSONType:          bt,
			Algorithm:         algorithmFromMongo(s.algorithm),
			KeyIDs:            s.keyIDs,
			KeyAltNamePointer: s.pointer,
		})
	}
	v, ok := node.Get("properties")
	if !ok {
		return nil
	}
	props, ok := v.(Doc)
	if !ok {
		return fmt.Errorf("schema: properties at %s is not an object", where)
	}
	for _, e := range props {
		child, ok := e.Value.(Doc)
		if !ok {
			return fmt.Errorf("schema: property %q is not an object", strings.Join(append(path[:len(path):len(path)], e.Key), "."))
		}
		if err := walkSchema(child, append(path[:len(path):len(path)], e.Key), inherited, out); err != nil {
			return err
		}
	}
	return nil
}

// readSettings reads keyId and algorithm from an encrypt or
// encryptMetadata object, keeping what is inherited where it names neither.
func readSettings(d Doc, s encryptSettings) (encryptSettings, error) {
	if v, ok := d.Get("keyId"); ok {
		s.keyIDs, s.pointer, s.hasKey = nil, "", true
		switch t := v.(type) {
		case string:
			if !strings.HasPrefix(t, "/") {
				return s, fmt.Errorf("keyId %q is neither a list of key ids nor a JSON pointer", t)
			}
			s.pointer = t
		case []any:
			for _, e := range t {
				id, ok := keyIDValue(e)
				if !ok {
					return s, fmt.Errorf("keyId holds %s, which is not a UUID", compact(e))
				}
				s.keyIDs = append(s.keyIDs, id)
			}
		default:
			return s, fmt.Errorf("keyId %s is neither a list of key ids nor a JSON pointer", compact(v))
		}
	}
	if v, ok := d.Get("algorithm"); ok {
		a, ok := v.(string)
		if !ok {
			return s, fmt.Errorf("algorithm %s is not a string", compact(v))
		}
		s.algorithm = a
	}
	return s, nil
}

func readBSONType(enc Doc) (string, error) {
	v, ok := enc.Get("bsonType")
	if !ok {
		return "", nil
	}
	switch t := v.(type) {
	case string:
		return t, nil
	case []any:
		var names []string
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return "", fmt.Errorf("bsonType %s is not a list of type names", compact(v))
			}
			names = append(names, s)
		}
		return strings.Join(names, ","), nil
	}
	return "", fmt.Errorf("bsonType %s is not a type name", compact(v))
}

func compact(v any) string {
	var b strings.Builder
	writeCompact(&b, v)
	return b.String()
}
