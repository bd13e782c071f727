package vault

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/schema"
)

// AltNamePointers are the fields that a $jsonSchema's keyId pointers
// ("keyId": "/owner") name: each document says in that field, by alt name,
// which key encrypts its value. Pointers become dotted paths.
func AltNamePointers(jsonSchema string) ([]string, error) {
	if jsonSchema == "" {
		return nil, nil
	}
	fields, err := schema.Fields(jsonSchema)
	if err != nil {
		return nil, fmt.Errorf("vault: reading a $jsonSchema: %w", err)
	}
	set := map[string]bool{}
	for _, f := range fields {
		if p := f.KeyAltNamePointer; p != "" {
			set[strings.ReplaceAll(strings.TrimPrefix(p, "/"), "/", ".")] = true
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// schemaReferences reads, from a collection's options as listCollections
// returns them, the alt-name pointers of its validator and the key ids its
// validator and encryptedFields name.
func schemaReferences(options bson.Raw) ([]string, []model.KeyID, error) {
	pointers, err := validatorPointers(options)
	if err != nil {
		return nil, nil, err
	}
	var ids []model.KeyID
	if js := validatorSchema(options); js != "" {
		fields, err := schema.Fields(js)
		if err != nil {
			return nil, nil, err
		}
		for _, f := range fields {
			ids = append(ids, f.KeyIDs...)
		}
	}
	if v, err := options.LookupErr("encryptedFields"); err == nil {
		if doc, ok := v.DocumentOK(); ok {
			ef, err := extJSON(doc, serverAddedFields)
			if err != nil {
				return nil, nil, err
			}
			fields, err := schema.QEFields(ef)
			if err != nil {
				return nil, nil, err
			}
			for _, f := range fields {
				ids = append(ids, f.KeyIDs...)
			}
		}
	}
	return pointers, ids, nil
}

func validatorSchema(options bson.Raw) string {
	if len(options) == 0 {
		return ""
	}
	v, err := options.LookupErr("validator", "$jsonSchema")
	if err != nil {
		return ""
	}
	doc, ok := v.DocumentOK()
	if !ok {
		return ""
	}
	js, err := extJSON(doc, nil)
	if err != nil {
		return ""
	}
	return js
}

// validatorPointers reads the alt-name pointers of a collection's
// validator, as listCollections returns its options.
func validatorPointers(options bson.Raw) ([]string, error) {
	return AltNamePointers(validatorSchema(options))
}

// CountAltNameReferences counts, per key, the documents of the targets
// whose alt-name pointer fields (ScanTarget.AltNamePointers) name one of
// the key's alt names: applications writing such a document need the key
// even before any of its ciphertext is stored. The server does the
// matching, one count per pointer field and alt name.
func (v *Vault) CountAltNameReferences(ctx context.Context, targets []ScanTarget, altNames map[string]model.KeyID) (model.KeyUsage, error) {
	usage := model.KeyUsage{}
	for _, t := range targets {
		coll := v.client.Database(t.Database).Collection(t.Collection)
		for _, path := range t.AltNamePointers {
			for name, id := range altNames {
				n, err := coll.CountDocuments(ctx, bson.D{{Key: path, Value: name}})
				if err != nil {
					return nil, fmt.Errorf("vault: counting documents of %s that name key %q in %s: %w", t.Namespace(), name, path, err)
				}
				if n == 0 {
					continue
				}
				if usage[id] == nil {
					usage[id] = map[string]int64{}
				}
				usage[id][t.Namespace()] += n
			}
		}
	}
	return usage, nil
}
