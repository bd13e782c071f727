package vault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/schema"
)

func testCollection(mode string, fields ...model.EncryptedField) model.DesiredCollection {
	db := fmt.Sprintf("csfle_coll_%d", time.Now().UnixNano())
	return model.DesiredCollection{Addr: model.CollectionAddr(db, "patients"), Database: db, Name: "patients", Mode: mode, Fields: fields}
}

// FerretDB accepts neither validators nor encryptedFields; the vault must
// say so, never pass for a server that kept them.
func TestCollectionsOnFerretDBAreRefusedClearly(t *testing.T) {
	env := startDev(t)
	ctx := context.Background()
	v := openVault(t, env.MongoURI)
	id, err := v.CreateKey(ctx, model.MasterKey{Provider: "local"}, []string{"ssn"})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[model.Addr]model.KeyID{model.DataKeyAddr("ssn"): id}

	c := testCollection(model.ModeValidator, model.EncryptedField{Path: "ssn", BSONType: "string", Algorithm: model.AlgorithmDeterministic, Key: model.DataKeyAddr("ssn")})
	doc, err := schema.JSONSchema(c, ids)
	if err != nil {
		t.Fatal(err)
	}
	err = v.CreateCollection(ctx, c.Database, c.Name, doc, "")
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "create "+c.Database+".patients with a $jsonSchema validator") {
		t.Errorf("create with a validator: %v", err)
	}
	if _, err := v.client.Database(c.Database).Collection("other").InsertOne(ctx, map[string]int{"x": 1}); err != nil {
		t.Fatal(err)
	}
	err = v.SetValidator(ctx, c.Database, "other", doc)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "collMod") {
		t.Errorf("collMod: %v", err)
	}

	q := testCollection(model.ModeQueryable, model.EncryptedField{Path: "ssn", BSONType: "string", Key: model.DataKeyAddr("ssn"), Queries: []model.Query{{Type: model.QueryEquality}}})
	ef, err := schema.EncryptedFields(q, ids)
	if err != nil {
		t.Fatal(err)
	}
	err = v.CreateCollection(ctx, q.Database, q.Name, "", ef)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "encryptedFields") {
		t.Errorf("create with encryptedFields: %v", err)
	}
	t.Cleanup(func() {
		_ = v.client.Database(c.Database).Drop(ctx)
		_ = v.client.Database(q.Database).Drop(ctx)
	})
}

// Validators and Queryable Encryption need a real MongoDB.
func TestCollectionsOnRealMongoDB(t *testing.T) {
	uri := os.Getenv("CSFLE_TEST_MONGODB_URI")
	if uri == "" {
		t.Skip("skipped: set CSFLE_TEST_MONGODB_URI to a MongoDB server (7.0+, replica set for Queryable Encryption) to test validators and encryptedFields")
	}
	ctx := context.Background()
	v := openVault(t, uri)
	k1, err := v.CreateKey(ctx, model.MasterKey{Provider: "local"}, []string{"k1"})
	if err != nil {
		t.Fatal(err)
	}
	k2, err := v.CreateKey(ctx, model.MasterKey{Provider: "local"}, []string{"k2"})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[model.Addr]model.KeyID{model.DataKeyAddr("k1"): k1, model.DataKeyAddr("k2"): k2}
	f1 := model.EncryptedField{Path: "ssn", BSONType: "string", Algorithm: model.AlgorithmDeterministic, Key: model.DataKeyAddr("k1")}
	f2 := model.EncryptedField{Path: "billing.card", BSONType: "string", Algorithm: model.AlgorithmRandom, Key: model.DataKeyAddr("k2")}

	c := testCollection(model.ModeValidator, f1)
	t.Cleanup(func() { _ = v.client.Database(c.Database).Drop(context.Background()) })
	doc1, _ := schema.JSONSchema(c, ids)
	if err := v.CreateCollection(ctx, c.Database, c.Name, doc1, ""); err != nil {
		t.Fatalf("create with a validator: %v", err)
	}
	c.Fields = append(c.Fields, f2)
	doc2, _ := schema.JSONSchema(c, ids)
	if err := v.SetValidator(ctx, c.Database, c.Name, doc2); err != nil {
		t.Fatalf("collMod: %v", err)
	}
	live, err := v.ReadCollections(ctx, []string{c.Namespace()})
	if err != nil || !schema.Equal(live[0].JSONSchema, doc2) || live[0].ValidationAction != "error" {
		t.Fatalf("read back = %+v, %v", live, err)
	}
	if err := v.SetValidator(ctx, c.Database, c.Name, ""); err != nil {
		t.Fatalf("removing the validator: %v", err)
	}

	q := testCollection(model.ModeQueryable,
		model.EncryptedField{Path: "ssn", BSONType: "string", Key: model.DataKeyAddr("k1"), Queries: []model.Query{{Type: model.QueryEquality}}},
		model.EncryptedField{Path: "age", BSONType: "int", Key: model.DataKeyAddr("k2"), Queries: []model.Query{{Type: model.QueryRange, Min: "0", Max: "150"}}})
	t.Cleanup(func() { _ = v.client.Database(q.Database).Drop(context.Background()) })
	ef, err := schema.EncryptedFields(q, ids)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.CreateCollection(ctx, q.Database, q.Name, "", ef); err != nil {
		t.Fatalf("create with encryptedFields: %v", err)
	}
	live, err = v.ReadCollections(ctx, []string{q.Namespace()})
	if err != nil || !schema.EqualEncryptedFields(live[0].EncryptedFields, ef) {
		t.Fatalf("encryptedFields read back = %+v, %v", live, err)
	}
}
