package e2e

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// app is what an application does with the keys csfle manages: explicit
// encryption through the driver and libmongocrypt.
type app struct {
	t  *testing.T
	ce *mongo.ClientEncryption
}

// newApp opens a ClientEncryption with only the named providers.
func newApp(t *testing.T, w *workspace, providers ...string) *app {
	t.Helper()
	ctx := context.Background()
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(env.MongoURI))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	kms := map[string]map[string]interface{}{}
	tlsCfg := map[string]*tls.Config{}
	for _, p := range providers {
		switch p {
		case "local":
			key, err := base64.StdEncoding.DecodeString(w.localKey)
			if err != nil {
				t.Fatal(err)
			}
			kms["local"] = map[string]interface{}{"key": key}
		case "aws":
			kms["aws"] = map[string]interface{}{"accessKeyId": env.AccessKeyID, "secretAccessKey": env.SecretAccessKey}
			tlsCfg["aws"] = env.TLSConfig()
		}
	}
	ce, err := mongo.NewClientEncryption(client, options.ClientEncryption().
		SetKeyVaultNamespace(w.namespace).SetKmsProviders(kms).SetTLSConfig(tlsCfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ce.Close(context.Background()) })
	return &app{t: t, ce: ce}
}

func keyBinary(t *testing.T, b64 string) primitive.Binary {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b) != 16 {
		t.Fatalf("key id %q is not 16 bytes of base64", b64)
	}
	return primitive.Binary{Subtype: 4, Data: b}
}

func (a *app) encrypt(keyID, value string) primitive.Binary {
	a.t.Helper()
	return a.encryptWith(keyID, value, "AEAD_AES_256_CBC_HMAC_SHA_512-Random")
}

func (a *app) encryptDet(keyID, value string) primitive.Binary {
	a.t.Helper()
	return a.encryptWith(keyID, value, "AEAD_AES_256_CBC_HMAC_SHA_512-Deterministic")
}

func (a *app) encryptWith(keyID, value, algorithm string) primitive.Binary {
	a.t.Helper()
	typ, data, err := bson.MarshalValue(value)
	if err != nil {
		a.t.Fatal(err)
	}
	ct, err := a.ce.Encrypt(context.Background(), bson.RawValue{Type: typ, Value: data},
		options.Encrypt().SetAlgorithm(algorithm).SetKeyID(keyBinary(a.t, keyID)))
	if err != nil {
		a.t.Fatalf("encrypt with key %s: %v", keyID, err)
	}
	return ct
}

func (a *app) decrypt(ct primitive.Binary) (string, error) {
	v, err := a.ce.Decrypt(context.Background(), ct)
	if err != nil {
		return "", err
	}
	return v.StringValue(), nil
}

// vaultDocs reads the key vault's documents: base64 id to alt names.
func vaultDocs(t *testing.T, namespace string) map[string][]string {
	t.Helper()
	return vaultDocsAt(t, env.MongoURI, namespace)
}

func vaultDocsAt(t *testing.T, uri, namespace string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	db, coll := splitNS(namespace)
	cur, err := client.Database(db).Collection(coll).Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []struct {
		ID  primitive.Binary `bson:"_id"`
		Alt []string         `bson:"keyAltNames"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, d := range docs {
		out[base64.StdEncoding.EncodeToString(d.ID.Data)] = d.Alt
	}
	return out
}

func splitNS(ns string) (string, string) {
	for i := 0; i < len(ns); i++ {
		if ns[i] == '.' {
			return ns[:i], ns[i+1:]
		}
	}
	return ns, ""
}
