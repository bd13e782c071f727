package vault

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/csfle/csfle/devenv"
	"github.com/csfle/csfle/kms"
	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/secret"
)

func localProviders(t *testing.T) *kms.Providers {
	t.Helper()
	key := make([]byte, 96)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	p, err := kms.Resolve(context.Background(), []kms.Config{{Name: "local", Kind: "local", LocalKey: secret.New(key)}}, kms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func openVault(t *testing.T, uri string) *Vault {
	t.Helper()
	ns := fmt.Sprintf("csfle_test_%d.__keyVault", time.Now().UnixNano())
	v, err := Open(context.Background(), secret.FromString(uri), ns, localProviders(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = v.client.Database(strings.Split(ns, ".")[0]).Drop(context.Background())
		_ = v.Close(context.Background())
	})
	return v
}

func startDev(t *testing.T) *devenv.Env {
	t.Helper()
	env, err := devenv.Start(context.Background(), devenv.Options{Dir: filepath.Join(t.TempDir(), "env")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Close() })
	return env
}

func TestVaultAgainstFerretDB(t *testing.T) {
	env := startDev(t)
	ctx := context.Background()

	t.Run("keys round trip without key material", func(t *testing.T) {
		v := openVault(t, env.MongoURI)
		id, err := v.CreateKey(ctx, model.MasterKey{Provider: "local"}, []string{"b", "a"})
		if err != nil {
			t.Fatal(err)
		}
		live, err := v.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(live.Keys) != 1 || live.Keys[0].ID != id || strings.Join(live.Keys[0].AltNames, ",") != "a,b" || live.Keys[0].MasterKey.Provider != "local" {
			t.Fatalf("live = %+v", live)
		}
		if err := v.SetAltNames(ctx, id, []string{"c"}, []string{"a", "b"}); err != nil {
			t.Fatal(err)
		}
		k, ok, err := v.Get(ctx, id)
		if err != nil || !ok || strings.Join(k.AltNames, ",") != "c" {
			t.Fatalf("after SetAltNames: %+v %v %v", k, ok, err)
		}
		if err := v.CheckDecrypt(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := v.VerifyDecrypt(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := v.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := v.Get(ctx, id); ok {
			t.Fatal("key still there after Delete")
		}
	})

	t.Run("removing every alt name drops the field", func(t *testing.T) {
		v := openVault(t, env.MongoURI)
		id, err := v.CreateKey(ctx, model.MasterKey{Provider: "local"}, []string{"only"})
		if err != nil {
			t.Fatal(err)
		}
		if err := v.SetAltNames(ctx, id, nil, []string{"only"}); err != nil {
			t.Fatal(err)
		}
		var doc bson.M
		if err := v.coll.FindOne(ctx, bson.D{{Key: "_id", Value: binID(id)}}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		if _, has := doc["keyAltNames"]; has {
			t.Errorf("an empty keyAltNames array was left behind: %v", doc["keyAltNames"])
		}
	})

	t.Run("the server refuses the partial index and says so", func(t *testing.T) {
		v := openVault(t, env.MongoURI)
		err := v.CreateAltNamesIndex(ctx)
		if !errors.Is(err, model.ErrIndexUnsupported) || !strings.Contains(err.Error(), "partialFilterExpression") {
			t.Fatalf("err = %v, want ErrIndexUnsupported naming partialFilterExpression", err)
		}
		if state, err := v.indexState(ctx); err != nil || state != model.IndexMissing {
			t.Errorf("index state after the refusal = %v, %v; want missing", state, err)
		}
	})

	t.Run("a document that is not a data key is refused", func(t *testing.T) {
		v := openVault(t, env.MongoURI)
		if _, err := v.coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "not-a-uuid"}, {Key: "masterKey", Value: bson.D{{Key: "provider", Value: "local"}}}}); err != nil {
			t.Fatal(err)
		}
		_, err := v.Read(ctx)
		if err == nil || !strings.Contains(err.Error(), "not a data key") {
			t.Fatalf("Read err = %v", err)
		}
	})
}

// The unique partial index on keyAltNames needs a real MongoDB: FerretDB
// does not implement partial indexes.
func TestAltNamesIndexOnRealMongoDB(t *testing.T) {
	uri := os.Getenv("CSFLE_TEST_MONGODB_URI")
	if uri == "" {
		t.Skip("skipped: set CSFLE_TEST_MONGODB_URI to a MongoDB server to test the unique partial index on keyAltNames")
	}
	ctx := context.Background()
	v := openVault(t, uri)
	if err := v.CreateAltNamesIndex(ctx); err != nil {
		t.Fatal(err)
	}
	live, err := v.Read(ctx)
	if err != nil || live.AltNamesIndex != model.IndexPresent {
		t.Fatalf("index state = %v, %v; want present", live.AltNamesIndex, err)
	}
	if _, err := v.CreateKey(ctx, model.MasterKey{Provider: "local"}, []string{"dup"}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.CreateKey(ctx, model.MasterKey{Provider: "local"}, []string{"dup"}); err == nil || !mongo.IsDuplicateKeyError(errors.Unwrap(err)) && !strings.Contains(err.Error(), "E11000") {
		t.Fatalf("a second key with the same alt name: err = %v, want a duplicate key error", err)
	}
	// Keys without alt names are not caught by the partial index.
	for i := 0; i < 2; i++ {
		if _, err := v.CreateKey(ctx, model.MasterKey{Provider: "local"}, nil); err != nil {
			t.Fatalf("key without alt names %d: %v", i, err)
		}
	}
}

func TestMasterKeyFromBSON(t *testing.T) {
	raw, _ := bson.Marshal(bson.D{{Key: "provider", Value: "aws"}, {Key: "key", Value: "arn"}, {Key: "region", Value: "us-east-1"}})
	mk, err := masterKeyFromBSON(raw)
	if err != nil || !mk.Equal(model.MasterKey{Provider: "aws", Fields: map[string]string{"key": "arn", "region": "us-east-1"}}) {
		t.Errorf("aws = %v, %v", mk, err)
	}
	raw, _ = bson.Marshal(bson.D{{Key: "provider", Value: "kmip"}, {Key: "delegated", Value: true}})
	if mk, err := masterKeyFromBSON(raw); err != nil || mk.Fields["delegated"] != "true" {
		t.Errorf("kmip = %v, %v", mk, err)
	}
	raw, _ = bson.Marshal(bson.D{{Key: "key", Value: "arn"}})
	if _, err := masterKeyFromBSON(raw); err == nil {
		t.Error("a masterKey without provider was accepted")
	}
}
