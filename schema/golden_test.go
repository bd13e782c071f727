package schema_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output")

// goldenInput is testdata/<case>/collection.json: collections as the
// configuration would give them, and the ids their data keys have.
type goldenInput struct {
	Collections []struct {
		Address  model.Addr             `json:"address"`
		Database string                 `json:"database"`
		Name     string                 `json:"name"`
		Mode     string                 `json:"mode"`
		Fields   []model.EncryptedField `json:"fields"`
	} `json:"collections"`
	IDs map[model.Addr]model.KeyID `json:"ids"`
}

type goldenCase struct {
	name        string
	collections []model.DesiredCollection
	ids         map[model.Addr]model.KeyID
}

func (c goldenCase) modes(queryable bool) []model.DesiredCollection {
	var out []model.DesiredCollection
	for _, dc := range c.collections {
		if (dc.Mode == model.ModeQueryable) == queryable {
			out = append(out, dc)
		}
	}
	return out
}

func readCases(t *testing.T) []goldenCase {
	t.Helper()
	ins, err := filepath.Glob(filepath.Join("testdata", "*", "collection.json"))
	if err != nil || len(ins) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	var cases []goldenCase
	for _, in := range ins {
		b, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		// Fixtures are hand-written: a misspelt key must fail, not vanish.
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		var gi goldenInput
		if err := dec.Decode(&gi); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		c := goldenCase{name: filepath.Base(filepath.Dir(in)), ids: gi.IDs}
		for _, col := range gi.Collections {
			c.collections = append(c.collections, model.DesiredCollection{
				Addr: col.Address, Database: col.Database, Name: col.Name, Mode: col.Mode, Fields: col.Fields,
			})
		}
		cases = append(cases, c)
	}
	return cases
}

// Each directory in testdata holds collection.json (the input) and the
// documents made from it, pretty-printed: jsonschema.json and
// encryptedfields.json when it has one collection of that kind,
// schemamap.json and encryptedfieldsmap.json when it has any.
func TestGolden(t *testing.T) {
	for _, c := range readCases(t) {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join("testdata", c.name)
			csfle, qe := c.modes(false), c.modes(true)
			outputs := map[string]func() (string, error){}
			if len(csfle) == 1 {
				outputs["jsonschema.json"] = func() (string, error) { return schema.JSONSchema(csfle[0], c.ids) }
			}
			if len(csfle) > 0 {
				outputs["schemamap.json"] = func() (string, error) { return schema.SchemaMap(c.collections, c.ids) }
			}
			if len(qe) == 1 {
				outputs["encryptedfields.json"] = func() (string, error) { return schema.EncryptedFields(qe[0], c.ids) }
			}
			if len(qe) > 0 {
				outputs["encryptedfieldsmap.json"] = func() (string, error) { return schema.EncryptedFieldsMap(c.collections, c.ids) }
			}
			for _, file := range []string{"jsonschema.json", "schemamap.json", "encryptedfields.json", "encryptedfieldsmap.json"} {
				path := filepath.Join(dir, file)
				make, ok := outputs[file]
				if !ok {
					if _, err := os.Stat(path); err == nil {
						if *update {
							os.Remove(path)
						} else {
							t.Errorf("%s: stale golden file: this case makes no such document", path)
						}
					}
					continue
				}
				got, err := make()
				if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				if !json.Valid([]byte(got)) {
					t.Fatalf("%s: not JSON: %s", file, got)
				}
				checkGolden(t, path, schema.Pretty(got)+"\n")
				if want, err := os.ReadFile(path); err == nil && !schema.Equal(got, string(want)) {
					t.Errorf("%s: Equal says the compact and pretty forms differ", file)
				}
			}
		})
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./schema -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; go test ./schema -update rewrites it):\n%s", path, diff)
	}
}

// What JSONSchema writes, Fields reads back: the same paths, types,
// algorithms and keys.
func TestFieldsRoundTrip(t *testing.T) {
	for _, c := range readCases(t) {
		for _, dc := range c.collections {
			if dc.Mode == model.ModeQueryable {
				continue
			}
			t.Run(c.name+"/"+dc.Namespace(), func(t *testing.T) {
				doc, err := schema.JSONSchema(dc, c.ids)
				if err != nil {
					t.Fatal(err)
				}
				got, err := schema.Fields(doc)
				if err != nil {
					t.Fatal(err)
				}
				var want []schema.Field
				for _, f := range dc.Fields {
					want = append(want, schema.Field{Path: f.Path, BSONType: f.BSONType, Algorithm: f.Algorithm, KeyIDs: []model.KeyID{c.ids[f.Key]}})
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Fields(JSONSchema(c)) (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// What EncryptedFields writes, QEFields reads back well enough to write
// the same document again.
func TestQEFieldsRoundTrip(t *testing.T) {
	for _, c := range readCases(t) {
		for _, dc := range c.collections {
			if dc.Mode != model.ModeQueryable {
				continue
			}
			t.Run(c.name+"/"+dc.Namespace(), func(t *testing.T) {
				doc, err := schema.EncryptedFields(dc, c.ids)
				if err != nil {
					t.Fatal(err)
				}
				read, err := schema.QEFields(doc)
				if err != nil {
					t.Fatal(err)
				}
				if len(read) != len(dc.Fields) {
					t.Fatalf("read %d fields, want %d", len(read), len(dc.Fields))
				}
				again := model.DesiredCollection{Database: dc.Database, Name: dc.Name, Mode: dc.Mode}
				ids := map[model.Addr]model.KeyID{}
				for i, f := range read {
					if f.Path != dc.Fields[i].Path || f.BSONType != dc.Fields[i].BSONType || f.KeyIDs[0] != c.ids[dc.Fields[i].Key] {
						t.Errorf("field %d: read %+v from %+v", i, f, dc.Fields[i])
					}
					addr := model.DataKeyAddr(f.Path)
					ids[addr] = f.KeyIDs[0]
					again.Fields = append(again.Fields, model.EncryptedField{Path: f.Path, BSONType: f.BSONType, Key: addr, Queries: f.Queries})
				}
				doc2, err := schema.EncryptedFields(again, ids)
				if err != nil {
					t.Fatal(err)
				}
				if doc2 != doc {
					t.Errorf("written again differs:\n%s\n%s", schema.Pretty(doc), schema.Pretty(doc2))
				}
			})
		}
	}
}
