package vault

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/schema"
)

// serverAddedFields are the parts of encryptedFields that the server fills
// in itself; they are left out so what was written compares with what is read.
var serverAddedFields = map[string]bool{"escCollection": true, "eccCollection": true, "ecocCollection": true, "strEncodeVersion": true}

type collectionInfo struct {
	Name    string `bson:"name"`
	Type    string `bson:"type"`
	Options struct {
		Validator        bson.Raw `bson:"validator"`
		ValidationLevel  string   `bson:"validationLevel"`
		ValidationAction string   `bson:"validationAction"`
		EncryptedFields  bson.Raw `bson:"encryptedFields"`
	} `bson:"options"`
}

// ReadCollections reads the given namespaces ("db.coll") with one
// listCollections per database, sorted by namespace.
func (v *Vault) ReadCollections(ctx context.Context, namespaces []string) ([]model.LiveCollection, error) {
	byDB := map[string][]string{}
	for _, ns := range namespaces {
		db, coll, _ := strings.Cut(ns, ".")
		byDB[db] = append(byDB[db], coll)
	}
	var out []model.LiveCollection
	for db, colls := range byDB {
		found := map[string]model.LiveCollection{}
		cur, err := v.client.Database(db).ListCollections(ctx, bson.D{{Key: "name", Value: bson.D{{Key: "$in", Value: colls}}}})
		if err != nil {
			return nil, fmt.Errorf("vault: listing the collections of %s: %w", db, err)
		}
		var infos []collectionInfo
		if err := cur.All(ctx, &infos); err != nil {
			return nil, fmt.Errorf("vault: listing the collections of %s: %w", db, err)
		}
		for _, info := range infos {
			lc, err := liveCollection(db, info)
			if err != nil {
				return nil, err
			}
			found[info.Name] = lc
		}
		for _, c := range colls {
			lc, ok := found[c]
			if !ok {
				lc = model.LiveCollection{Database: db, Name: c}
			}
			out = append(out, lc)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Database+"."+out[i].Name < out[j].Database+"."+out[j].Name
	})
	return out, nil
}

func liveCollection(db string, info collectionInfo) (model.LiveCollection, error) {
	lc := model.LiveCollection{Database: db, Name: info.Name, Exists: true,
		ValidationLevel: info.Options.ValidationLevel, ValidationAction: info.Options.ValidationAction}
	if len(info.Options.Validator) > 0 {
		if lc.ValidationLevel == "" {
			lc.ValidationLevel = "strict"
		}
		if lc.ValidationAction == "" {
			lc.ValidationAction = "error"
		}
		elems, err := info.Options.Validator.Elements()
		if err != nil {
			return lc, fmt.Errorf("vault: the validator of %s.%s: %w", db, info.Name, err)
		}
		for _, e := range elems {
			if e.Key() != "$jsonSchema" {
				lc.OtherValidator = true
				continue
			}
			doc, ok := e.Value().DocumentOK()
			if !ok {
				return lc, fmt.Errorf("vault: the $jsonSchema of %s.%s is not a document", db, info.Name)
			}
			if lc.JSONSchema, err = extJSON(doc, nil); err != nil {
				return lc, err
			}
		}
	}
	if len(info.Options.EncryptedFields) > 0 {
		var err error
		if lc.EncryptedFields, err = extJSON(info.Options.EncryptedFields, serverAddedFields); err != nil {
			return lc, err
		}
	}
	return lc, nil
}

// extJSON writes a document as canonical extended JSON, leaving out the
// top-level keys in skip.
func extJSON(doc bson.Raw, skip map[string]bool) (string, error) {
	if len(skip) > 0 {
		elems, err := doc.Elements()
		if err != nil {
			return "", fmt.Errorf("vault: %w", err)
		}
		d := bson.D{}
		for _, e := range elems {
			if !skip[e.Key()] {
				d = append(d, bson.E{Key: e.Key(), Value: e.Value()})
			}
		}
		if doc, err = bson.Marshal(d); err != nil {
			return "", fmt.Errorf("vault: %w", err)
		}
	}
	b, err := bson.MarshalExtJSON(doc, true, false)
	if err != nil {
		return "", fmt.Errorf("vault: %w", err)
	}
	return string(b), nil
}

func fromExtJSON(doc string) (bson.Raw, error) {
	var raw bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(doc), true, &raw); err != nil {
		return nil, fmt.Errorf("vault: a generated document is not extended JSON: %w", err)
	}
	return raw, nil
}

// ErrUnsupported is wrapped by errors of a server that lacks a feature
// csfle needs for a change (FerretDB has no validators and no Queryable
// Encryption).
var ErrUnsupported = errors.New("the server does not support it")

func unsupported(what string, err error) error {
	var ce mongo.CommandError
	if errors.As(err, &ce) && (ce.Code == 115 || ce.Code == 238 || ce.Name == "NotImplemented" || ce.Name == "CommandNotSupported") {
		return fmt.Errorf("vault: %s: %w (%s)", what, ErrUnsupported, ce.Message)
	}
	return fmt.Errorf("vault: %s: %w", what, err)
}

// CreateCollection creates db.coll with a $jsonSchema validator
// (jsonSchema, validationLevel strict, validationAction error) or with
// Queryable Encryption encryptedFields, then reads it back and fails if the
// server did not keep what it was given.
func (v *Vault) CreateCollection(ctx context.Context, db, coll, jsonSchema, encryptedFields string) error {
	opts := options.CreateCollection()
	what := "create " + db + "." + coll
	switch {
	case jsonSchema != "":
		doc, err := fromExtJSON(jsonSchema)
		if err != nil {
			return err
		}
		opts.SetValidator(bson.D{{Key: "$jsonSchema", Value: doc}}).SetValidationLevel("strict").SetValidationAction("error")
		what += " with a $jsonSchema validator"
	case encryptedFields != "":
		doc, err := fromExtJSON(encryptedFields)
		if err != nil {
			return err
		}
		opts.SetEncryptedFields(doc)
		what += " with encryptedFields (Queryable Encryption)"
	}
	if err := v.client.Database(db).CreateCollection(ctx, coll, opts); err != nil {
		return unsupported(what, err)
	}
	return v.checkCollection(ctx, db, coll, jsonSchema, encryptedFields, what)
}

// SetValidator replaces the $jsonSchema validator of an existing collection
// with collMod; an empty jsonSchema removes the validator.
func (v *Vault) SetValidator(ctx context.Context, db, coll, jsonSchema string) error {
	validator := bson.D{}
	what := "collMod " + db + "." + coll + " to remove its validator"
	if jsonSchema != "" {
		doc, err := fromExtJSON(jsonSchema)
		if err != nil {
			return err
		}
		validator = bson.D{{Key: "$jsonSchema", Value: doc}}
		what = "collMod " + db + "." + coll + " to set its $jsonSchema validator"
	}
	cmd := bson.D{{Key: "collMod", Value: coll}, {Key: "validator", Value: validator},
		{Key: "validationLevel", Value: "strict"}, {Key: "validationAction", Value: "error"}}
	if err := v.client.Database(db).RunCommand(ctx, cmd).Err(); err != nil {
		var ce mongo.CommandError
		if jsonSchema == "" && errors.As(err, &ce) && ce.Code == 26 { // NamespaceNotFound: no validator to remove
			return nil
		}
		return unsupported(what, err)
	}
	return v.checkCollection(ctx, db, coll, jsonSchema, "", what)
}

// CountDocuments counts the documents of db.coll (0 when it does not exist).
func (v *Vault) CountDocuments(ctx context.Context, db, coll string) (int64, error) {
	n, err := v.client.Database(db).Collection(coll).CountDocuments(ctx, bson.D{})
	if err != nil {
		return 0, fmt.Errorf("vault: counting the documents of %s.%s: %w", db, coll, err)
	}
	return n, nil
}

// DropEmpty drops db.coll, with the collections Queryable Encryption keeps
// beside it, only if it holds no document: data is never dropped.
func (v *Vault) DropEmpty(ctx context.Context, db, coll string) error {
	n, err := v.CountDocuments(ctx, db, coll)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("vault: %s.%s holds %d documents, so it is not dropped; migrate them to another collection first", db, coll, n)
	}
	if err := v.client.Database(db).Collection(coll).Drop(ctx); err != nil {
		return fmt.Errorf("vault: dropping the empty collection %s.%s: %w", db, coll, err)
	}
	return nil
}

// checkCollection reads a collection back after a write: a server that
// accepted a command but did not keep it must not pass for one that did.
func (v *Vault) checkCollection(ctx context.Context, db, coll, jsonSchema, encryptedFields, what string) error {
	got, err := v.ReadCollections(ctx, []string{db + "." + coll})
	if err != nil {
		return err
	}
	lc := got[0]
	if !lc.Exists {
		return fmt.Errorf("vault: %s: the collection does not exist afterwards", what)
	}
	if !sameDoc(lc.JSONSchema, jsonSchema, schema.Equal) || (jsonSchema != "" && (lc.ValidationLevel != "strict" || lc.ValidationAction != "error")) {
		return fmt.Errorf("vault: %s: %w: the server accepted the command but did not keep the validator", what, ErrUnsupported)
	}
	if encryptedFields != "" && !sameDoc(lc.EncryptedFields, encryptedFields, schema.EqualEncryptedFields) {
		return fmt.Errorf("vault: %s: %w: the server accepted the command but did not keep encryptedFields (it lacks Queryable Encryption)", what, ErrUnsupported)
	}
	return nil
}

// sameDoc compares two documents with equal, where "" means none.
func sameDoc(a, b string, equal func(a, b string) bool) bool {
	if a == "" || b == "" {
		return a == b
	}
	return equal(a, b)
}
