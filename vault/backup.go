package vault

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/csfle/csfle/model"
)

// KeyDocument returns a key's whole document, wrapped key material
// included, as canonical extended JSON: the backup taken before a rewrap or
// a delete. The material is useless without the master key that wraps it,
// but the caller still keeps the backup private.
func (v *Vault) KeyDocument(ctx context.Context, id model.KeyID) (string, error) {
	var raw bson.Raw
	err := v.coll.FindOne(ctx, bson.D{{Key: "_id", Value: binID(id)}}).Decode(&raw)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", fmt.Errorf("vault: key %s is not in %s", id, v.namespace)
	}
	if err != nil {
		return "", fmt.Errorf("vault: reading key %s for its backup: %w", id, err)
	}
	return extJSON(raw, nil)
}

// RestoreKeyDocument puts a backed-up key document back into the key vault.
// It refuses when a key with the same id is there already, or when one of
// its alt names is now carried by another key.
func (v *Vault) RestoreKeyDocument(ctx context.Context, doc string) (model.KeyID, error) {
	raw, err := fromExtJSON(doc)
	if err != nil {
		return model.KeyID{}, err
	}
	var d keyDoc
	if err := bson.Unmarshal(raw, &d); err != nil {
		return model.KeyID{}, fmt.Errorf("vault: the backup is not a key document: %w", err)
	}
	k, err := d.live()
	if err != nil {
		return model.KeyID{}, err
	}
	if _, _, ok := raw.Lookup("keyMaterial").BinaryOK(); !ok {
		return k.ID, fmt.Errorf("vault: the backup of key %s has no keyMaterial", k.ID)
	}
	if _, exists, err := v.Get(ctx, k.ID); err != nil {
		return k.ID, err
	} else if exists {
		return k.ID, fmt.Errorf("vault: key %s is already in %s; nothing to restore", k.ID, v.namespace)
	}
	for _, a := range k.AltNames {
		n, err := v.coll.CountDocuments(ctx, bson.D{{Key: "keyAltNames", Value: a}})
		if err != nil {
			return k.ID, fmt.Errorf("vault: %w", err)
		}
		if n > 0 {
			return k.ID, fmt.Errorf("vault: another key in %s carries the alt name %q now; remove it from that key first", v.namespace, a)
		}
	}
	if _, err := v.coll.InsertOne(ctx, raw); err != nil {
		return k.ID, fmt.Errorf("vault: restoring key %s: %w", k.ID, err)
	}
	return k.ID, nil
}
