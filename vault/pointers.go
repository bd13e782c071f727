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

// validatorPointers reads the alt-name pointers of a collection's
// validator, as listCollections returns its options.
func validatorPointers(options bson.Raw) ([]string, error) {
	if len(options) == 0 {
		return nil, nil
	}
	v, err := options.LookupErr("validator", "$jsonSchema")
	if err != nil {
		return nil, nil // no $jsonSchema validator
	}
	doc, ok := v.DocumentOK()
	if !ok {
		return nil, nil
	}
	js, err := extJSON(doc, nil)
	if err != nil {
		return nil, err
	}
	return AltNamePointers(js)
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
