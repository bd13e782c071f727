package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

const medicalKeys = localProvider + `
data_key "ssn" {
  kms = kms.local
}

data_key "spare" {
  kms = kms.local
}
`

const billingKey = `
data_key "billing" {
  kms = kms.local
}
`

// collectionsConfig declares two collections whose billing fields use key.
func collectionsConfig(db, mode, key string) string {
	return `
collection "` + db + `" "patients" {
  mode = "` + mode + `"
  field "ssn" {
    data_key  = data_key.ssn
    bson_type = "string"
    algorithm = "deterministic"
  }
  field "billing.card" {
    data_key  = data_key.` + key + `
    bson_type = "string"
    algorithm = "random"
  }
}

collection "` + db + `" "visits" {
  mode = "` + mode + `"
  field "diagnosis" {
    data_key  = data_key.` + key + `
    bson_type = "string"
    algorithm = "random"
  }
}
`
}

func dbName(w *workspace) string {
	return strings.TrimSuffix(strings.SplitN(w.namespace, ".", 2)[0], "_kv") + "_med"
}

func collection(t *testing.T, db, name string) *mongo.Collection {
	t.Helper()
	client, err := mongo.Connect(context.Background(), options.Client().ApplyURI(env.MongoURI))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database(db).Collection(name)
}

// Acceptance: collections applied, documents written by an application are
// counted per key, a delete of a key in use is refused with the counts,
// and once the data is re-encrypted under another key the delete goes.
func TestKeyInUseIsNotDeleted(t *testing.T) {
	w := newWorkspace(t)
	db := dbName(w)
	w.config(medicalKeys + billingKey + collectionsConfig(db, "schema_map", "billing"))
	r := w.ok("apply", "-auto-approve")
	if !strings.Contains(r.stdout, "collection."+db+".patients") {
		t.Fatalf("apply does not mention the collections:\n%s", r)
	}
	ids := w.keyIDs()

	// schema export names the keys by id.
	exp := w.ok("schema", "export")
	var doc struct {
		SchemaMap          map[string]json.RawMessage `json:"schemaMap"`
		EncryptedFieldsMap map[string]json.RawMessage `json:"encryptedFieldsMap"`
	}
	if err := json.Unmarshal([]byte(exp.stdout), &doc); err != nil {
		t.Fatalf("schema export: %v\n%s", err, exp.stdout)
	}
	if len(doc.SchemaMap) != 2 || !strings.Contains(string(doc.SchemaMap[db+".patients"]), ids["ssn"]) || !strings.Contains(string(doc.SchemaMap[db+".visits"]), ids["billing"]) {
		t.Errorf("schemaMap does not hold the key ids %v:\n%s", ids, exp.stdout)
	}
	out := w.ok("output")
	if !strings.Contains(out.stdout, "collection."+db+".patients") || !strings.Contains(out.stdout, "billing.card") {
		t.Errorf("output does not list the collections' fields:\n%s", out.stdout)
	}

	// An application writes documents encrypted with the keys.
	a := newApp(t, w, "local")
	patients, visits := collection(t, db, "patients"), collection(t, db, "visits")
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		d := bson.D{{Key: "ssn", Value: a.encryptDet(ids["ssn"], "123-45-000"+string(rune('0'+i)))}}
		if i < 2 {
			d = append(d, bson.E{Key: "billing", Value: bson.D{{Key: "card", Value: a.encrypt(ids["billing"], "4111")}}})
		}
		if _, err := patients.InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := visits.InsertOne(ctx, bson.D{{Key: "diagnosis", Value: a.encrypt(ids["billing"], "flu")}}); err != nil {
		t.Fatal(err)
	}

	// The billing key leaves the configuration; the collections move to spare.
	w.config(medicalKeys + collectionsConfig(db, "schema_map", "spare"))
	r = w.run("plan")
	if r.code != 1 || !strings.Contains(r.stderr, "Key is still in use") {
		t.Fatalf("plan deleting a key in use: %s", r)
	}
	for _, want := range []string{"3 documents", db + ".patients: 2", db + ".visits: 1"} {
		if !strings.Contains(strings.Join(strings.Fields(r.stderr), " "), want) {
			t.Errorf("refusal lacks %q:\n%s", want, r.stderr)
		}
	}
	if docs := vaultDocs(t, w.namespace); len(docs) != 3 {
		t.Errorf("the refused plan changed the key vault: %d keys", len(docs))
	}

	// The application re-encrypts its data under the spare key.
	reencrypt := func(coll *mongo.Collection, path string) {
		cur, err := coll.Find(ctx, bson.D{{Key: path, Value: bson.D{{Key: "$exists", Value: true}}}})
		if err != nil {
			t.Fatal(err)
		}
		var docs []bson.M
		if err := cur.All(ctx, &docs); err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			v := d[strings.Split(path, ".")[0]]
			if m, ok := v.(bson.M); ok {
				v = m["card"]
			}
			plain, err := a.decrypt(v.(primitive.Binary))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := coll.UpdateByID(ctx, d["_id"], bson.D{{Key: "$set", Value: bson.D{{Key: path, Value: a.encrypt(ids["spare"], plain)}}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	reencrypt(patients, "billing.card")
	reencrypt(visits, "diagnosis")

	r = w.ok("apply", "-auto-approve")
	if !strings.Contains(r.stdout, "data_key.billing: Destruction complete") && !strings.Contains(r.stdout, "1 deleted") {
		t.Errorf("the delete did not go through:\n%s", r)
	}
	if _, ok := vaultDocs(t, w.namespace)[ids["billing"]]; ok {
		t.Error("the billing key is still in the key vault")
	}
	if r := w.run("plan", "-detailed-exitcode"); r.code != 0 {
		t.Errorf("plan after the delete: %s", r)
	}
	w.assertNoSecrets()
}

// FerretDB has no validators: the apply says which command the server
// refused, and the state records nothing for the collection.
func TestValidatorOnAServerWithoutValidators(t *testing.T) {
	w := newWorkspace(t)
	db := dbName(w)
	w.config(medicalKeys + billingKey + collectionsConfig(db, "validator", "billing"))
	r := w.run("apply", "-auto-approve")
	if r.code != 1 {
		t.Fatalf("apply of a validator on FerretDB: %s", r)
	}
	msg := strings.Join(strings.Fields(r.stderr), " ")
	if !strings.Contains(msg, "create "+db+".") || !strings.Contains(msg, "the server does not support it") {
		t.Errorf("the error does not name the unsupported command:\n%s", r.stderr)
	}
	var st struct {
		Keys        []json.RawMessage `json:"data_keys"`
		Collections []json.RawMessage `json:"collections"`
	}
	if err := json.Unmarshal([]byte(w.ok("show", "-json").stdout), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Collections) != 0 || len(st.Keys) != 3 {
		t.Errorf("state after the failed apply: %d keys, %d collections; want the 3 keys and no collection", len(st.Keys), len(st.Collections))
	}
}

// A collection block removed (or a field moved) in one apply, and its key
// removed in the next: the documents written before still hold ciphertext
// at the old paths, so the check before the delete must still scan them.
func TestKeyInUseAtAPathNoLongerManaged(t *testing.T) {
	for _, step := range []struct {
		name, first string
	}{
		{"collection removed", ""},
		{"field moved", `
collection "DB" "patients" {
  mode = "schema_map"
  field "payment.card" {
    data_key  = data_key.spare
    bson_type = "string"
    algorithm = "random"
  }
}
`},
	} {
		t.Run(step.name, func(t *testing.T) {
			w := newWorkspace(t)
			db := dbName(w)
			w.config(medicalKeys + billingKey + `
collection "` + db + `" "patients" {
  mode = "schema_map"
  field "card" {
    data_key  = data_key.billing
    bson_type = "string"
    algorithm = "random"
  }
}
`)
			w.ok("apply", "-auto-approve")
			ids := w.keyIDs()
			a := newApp(t, w, "local")
			if _, err := collection(t, db, "patients").InsertOne(context.Background(), bson.D{{Key: "card", Value: a.encrypt(ids["billing"], "4111")}}); err != nil {
				t.Fatal(err)
			}
			// First apply: the collection or the field leaves csfle; the key stays.
			w.config(medicalKeys + billingKey + strings.ReplaceAll(step.first, "DB", db))
			w.ok("apply", "-auto-approve")
			// Second: the key goes. Its ciphertext is still at patients.card.
			w.config(medicalKeys + strings.ReplaceAll(step.first, "DB", db))
			r := w.run("plan")
			if r.code != 1 || !strings.Contains(r.stderr, "Key is still in use") || !strings.Contains(r.stderr, db+".patients: 1") {
				t.Fatalf("deleting a key whose ciphertext is at a path csfle no longer manages: %s", r)
			}
		})
	}
}
