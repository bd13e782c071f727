package vault

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/csfle/csfle/model"
)

const pointerSchema = `{"bsonType":"object","properties":{
  "ssn":{"encrypt":{"keyId":"/keyName","bsonType":"string","algorithm":"AEAD_AES_256_CBC_HMAC_SHA_512-Random"}},
  "notes":{"encrypt":{"keyId":[{"$binary":{"base64":"AAAAAAAAAAAAAAAAAAAAAQ==","subType":"04"}}],"algorithm":"AEAD_AES_256_CBC_HMAC_SHA_512-Random"}}}}`

func TestAltNamePointers(t *testing.T) {
	got, err := AltNamePointers(pointerSchema)
	if err != nil || len(got) != 1 || got[0] != "keyName" {
		t.Fatalf("AltNamePointers = %v, %v; want [keyName]", got, err)
	}
	var doc bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(`{"validator":{"$jsonSchema":`+pointerSchema+`}}`), true, &doc); err != nil {
		t.Fatal(err)
	}
	got, err = validatorPointers(doc)
	if err != nil || len(got) != 1 || got[0] != "keyName" {
		t.Errorf("validatorPointers = %v, %v", got, err)
	}
	if got, err := validatorPointers(nil); err != nil || got != nil {
		t.Errorf("no options: %v, %v", got, err)
	}
}

func TestCountAltNameReferences(t *testing.T) {
	env := startDev(t)
	ctx := context.Background()
	v := openVault(t, env.MongoURI)
	db := fmt.Sprintf("csfle_ptr_%d", time.Now().UnixNano())
	t.Cleanup(func() { _ = v.client.Database(db).Drop(context.Background()) })
	coll := v.client.Database(db).Collection("people")
	for _, name := range []string{"billing", "billing", "other", ""} {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "keyName", Value: name}}); err != nil {
			t.Fatal(err)
		}
	}
	billing, other := model.KeyID{1}, model.KeyID{2}
	usage, err := v.CountAltNameReferences(ctx,
		[]ScanTarget{{Database: db, Collection: "people", AltNamePointers: []string{"keyName"}}, {Database: db, Collection: "missing", AltNamePointers: []string{"keyName"}}},
		map[string]model.KeyID{"billing": billing, "billing-2026": billing, "other": other, "unused": {3}})
	if err != nil {
		t.Fatal(err)
	}
	if usage[billing][db+".people"] != 2 || usage[other][db+".people"] != 1 || usage.Total(model.KeyID{3}) != 0 {
		t.Errorf("usage = %v", usage)
	}
}
