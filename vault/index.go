package vault

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/csfle/csfle/model"
)

const altNamesIndexName = "keyAltNames_1"

type indexSpec struct {
	Name    string   `bson:"name"`
	Key     bson.D   `bson:"key"`
	Unique  bool     `bson:"unique"`
	Partial bson.Raw `bson:"partialFilterExpression"`
}

func (v *Vault) indexState(ctx context.Context) (model.IndexState, error) {
	cur, err := v.coll.Indexes().List(ctx)
	if err != nil {
		var ce mongo.CommandError
		if errors.As(err, &ce) && ce.Code == 26 { // NamespaceNotFound: no key vault yet
			return model.IndexMissing, nil
		}
		return 0, fmt.Errorf("vault: listing the indexes of %s: %w", v.namespace, err)
	}
	var specs []indexSpec
	if err := cur.All(ctx, &specs); err != nil {
		return 0, fmt.Errorf("vault: listing the indexes of %s: %w", v.namespace, err)
	}
	state := model.IndexMissing
	for _, s := range specs {
		if len(s.Key) != 1 || s.Key[0].Key != "keyAltNames" {
			continue
		}
		if s.Unique && len(s.Partial) > 0 {
			return model.IndexPresent, nil
		}
		state = model.IndexUnprotected
	}
	return state, nil
}

// CreateAltNamesIndex creates the unique partial index MongoDB requires on
// keyAltNames, then reads it back: a server that accepts the command but
// drops the partial filter or the uniqueness gets the index removed again
// (a unique index without the filter would reject keys that have no alt
// names) and an error wrapping model.ErrIndexUnsupported.
func (v *Vault) CreateAltNamesIndex(ctx context.Context) error {
	spec := mongo.IndexModel{
		Keys: bson.D{{Key: "keyAltNames", Value: 1}},
		Options: options.Index().SetName(altNamesIndexName).SetUnique(true).
			SetPartialFilterExpression(bson.D{{Key: "keyAltNames", Value: bson.D{{Key: "$exists", Value: true}}}}),
	}
	if _, err := v.coll.Indexes().CreateOne(ctx, spec); err != nil {
		var ce mongo.CommandError
		if errors.As(err, &ce) && (ce.Code == 238 || ce.Code == 115 || ce.Name == "NotImplemented") {
			return fmt.Errorf("%w: %s", model.ErrIndexUnsupported, ce.Message)
		}
		return fmt.Errorf("vault: creating the keyAltNames index: %w", err)
	}
	state, err := v.indexState(ctx)
	if err != nil {
		return err
	}
	if state == model.IndexPresent {
		return nil
	}
	_, _ = v.coll.Indexes().DropOne(ctx, altNamesIndexName)
	return fmt.Errorf("%w: it accepted the index but did not keep its partial filter or uniqueness", model.ErrIndexUnsupported)
}
