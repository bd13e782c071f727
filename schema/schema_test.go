package schema_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/schema"
)

var (
	idA = mustID("12345678-1234-9876-1234-123456789012")
	idB = mustID("0f0e0d0c-0b0a-4908-8706-050403020100")
)

func mustID(s string) model.KeyID {
	id, err := model.ParseKeyID(s)
	if err != nil {
		panic(err)
	}
	return id
}

func ptr(n int64) *int64 { return &n }

func TestEqual(t *testing.T) {
	uuidA := `{"$binary":{"base64":"` + idA.Base64() + `","subType":"04"}}`
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"same", `{"a":1}`, `{"a":1}`, true},
		{"key order and whitespace", `{"bsonType":"object","properties":{"x":{"encrypt":{"keyId":[` + uuidA + `],"algorithm":"r"}}}}`,
			"{\n  \"properties\": {\"x\": {\"encrypt\": {\"algorithm\": \"r\", \"keyId\": [{\"$binary\": {\"subType\": \"04\", \"base64\": \"" + idA.Base64() + "\"}}]}}},\n  \"bsonType\": \"object\"\n}", true},
		{"different value", `{"a":"x"}`, `{"a":"y"}`, false},
		{"missing key", `{"a":1,"b":2}`, `{"a":1}`, false},
		{"extra key", `{"a":1}`, `{"a":1,"b":null}`, false},
		{"array order matters", `{"a":[1,2]}`, `{"a":[2,1]}`, false},
		{"int is not long", `{"n":{"$numberInt":"8"}}`, `{"n":{"$numberLong":"8"}}`, false},
		{"int is not double", `{"n":{"$numberInt":"8"}}`, `{"n":{"$numberDouble":"8.0"}}`, false},
		{"string is not number", `{"n":"8"}`, `{"n":{"$numberInt":"8"}}`, false},
		{"relaxed int is int", `{"n":8}`, `{"n":{"$numberInt":"8"}}`, true},
		{"relaxed big int is long", `{"n":10000000000}`, `{"n":{"$numberLong":"10000000000"}}`, true},
		{"relaxed fraction is double", `{"n":1.5}`, `{"n":{"$numberDouble":"1.5"}}`, true},
		{"double spellings", `{"n":{"$numberDouble":"1"}}`, `{"n":{"$numberDouble":"1.0"}}`, true},
		{"double values", `{"n":{"$numberDouble":"1.5"}}`, `{"n":{"$numberDouble":"1.25"}}`, false},
		{"decimal spellings", `{"n":{"$numberDecimal":"1e6"}}`, `{"n":{"$numberDecimal":"1.0E+6"}}`, false},
		{"decimal same exponent", `{"n":{"$numberDecimal":"1E+6"}}`, `{"n":{"$numberDecimal":"1e6"}}`, true},
		{"decimal keeps exponent", `{"n":{"$numberDecimal":"1.5"}}`, `{"n":{"$numberDecimal":"1.50"}}`, false},
		{"date forms", `{"d":{"$date":"2020-01-01T00:00:00Z"}}`, `{"d":{"$date":{"$numberLong":"1577836800000"}}}`, true},
		{"dates differ", `{"d":{"$date":{"$numberLong":"1"}}}`, `{"d":{"$date":{"$numberLong":"2"}}}`, false},
		{"uuid forms", `{"k":{"$uuid":"` + idA.String() + `"}}`, `{"k":` + uuidA + `}`, true},
		{"subtype spelling", `{"k":{"$binary":{"base64":"AQI=","subType":"4"}}}`, `{"k":{"$binary":{"base64":"AQI=","subType":"04"}}}`, true},
		{"subtype differs", `{"k":{"$binary":{"base64":"AQI=","subType":"00"}}}`, `{"k":{"$binary":{"base64":"AQI=","subType":"04"}}}`, false},
		{"different key ids", `{"k":` + uuidA + `}`, `{"k":{"$uuid":"` + idB.String() + `"}}`, false},
		{"not JSON", `{"a":`, `{"a":`, false},
		{"trailing data", `{"a":1}{}`, `{"a":1}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := schema.Equal(tt.a, tt.b); got != tt.want {
				t.Errorf("Equal(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			if got := schema.Equal(tt.b, tt.a); got != tt.want {
				t.Errorf("Equal is not symmetric for %s, %s", tt.a, tt.b)
			}
		})
	}
}

// A schema written by hand (or by MongoDB's guides) names keys through
// encryptMetadata and by alt name; Fields must see through both.
func TestFieldsEncryptMetadataAndPointers(t *testing.T) {
	doc := `{
	  "bsonType": "object",
	  "encryptMetadata": {"keyId": [{"$binary": {"base64": "` + idA.Base64() + `", "subType": "04"}}], "algorithm": "AEAD_AES_256_CBC_HMAC_SHA_512-Deterministic"},
	  "properties": {
	    "ssn": {"encrypt": {"bsonType": "string"}},
	    "owner": {"bsonType": "string"},
	    "notes": {"encrypt": {"keyId": "/owner", "bsonType": "string", "algorithm": "AEAD_AES_256_CBC_HMAC_SHA_512-Random"}},
	    "billing": {
	      "bsonType": "object",
	      "encryptMetadata": {"algorithm": "AEAD_AES_256_CBC_HMAC_SHA_512-Random"},
	      "properties": {
	        "card": {"encrypt": {"bsonType": ["string", "int"]}},
	        "iban": {"encrypt": {"keyId": [{"$uuid": "` + idB.String() + `"}], "bsonType": "string", "algorithm": "AEAD_AES_256_CBC_HMAC_SHA_512-Deterministic"}}
	      }
	    },
	    "legacy": {"encrypt": {"algorithm": "SOMETHING-ELSE"}}
	  }
	}`
	got, err := schema.Fields(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []schema.Field{
		{Path: "billing.card", BSONType: "string,int", Algorithm: model.AlgorithmRandom, KeyIDs: []model.KeyID{idA}},
		{Path: "billing.iban", BSONType: "string", Algorithm: model.AlgorithmDeterministic, KeyIDs: []model.KeyID{idB}},
		{Path: "legacy", Algorithm: "SOMETHING-ELSE", KeyIDs: []model.KeyID{idA}},
		{Path: "notes", BSONType: "string", Algorithm: model.AlgorithmRandom, KeyAltNamePointer: "/owner"},
		{Path: "ssn", BSONType: "string", Algorithm: model.AlgorithmDeterministic, KeyIDs: []model.KeyID{idA}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Fields (-want +got):\n%s", diff)
	}
}

func TestFieldsRefusesMalformedSchemas(t *testing.T) {
	for _, doc := range []string{
		`not json`,
		`[]`,
		`{"properties": []}`,
		`{"properties": {"a": 1}}`,
		`{"properties": {"a": {"encrypt": {"keyId": [{"$binary": {"base64": "AQI=", "subType": "04"}}]}}}}`,
		`{"properties": {"a": {"encrypt": {"keyId": [{"$binary": {"base64": "` + idA.Base64() + `", "subType": "00"}}]}}}}`,
		`{"properties": {"a": {"encrypt": {"keyId": "owner"}}}}`,
		`{"properties": {"a": {"encrypt": {"bsonType": 3}}}}`,
		`{"encrypt": {}}`,
	} {
		if fs, err := schema.Fields(doc); err == nil {
			t.Errorf("Fields(%s) = %+v, want an error", doc, fs)
		}
	}
}

func TestQEFieldsReadsQueryLists(t *testing.T) {
	doc := `{"escCollection": "enxcol_.c.esc", "fields": [
	  {"keyId": {"$uuid": "` + idB.String() + `"}, "path": "b", "bsonType": "date",
	   "queries": [{"queryType": "range", "contention": 4, "min": {"$date": "2024-01-31T00:00:00.5Z"}, "max": {"$date": {"$numberLong": "1893456000000"}}, "trimFactor": {"$numberInt": "6"}}]},
	  {"keyId": {"$binary": {"base64": "` + idA.Base64() + `", "subType": "04"}}, "path": "a", "queries": null}
	]}`
	got, err := schema.QEFields(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []schema.Field{
		{Path: "a", KeyIDs: []model.KeyID{idA}},
		{Path: "b", BSONType: "date", KeyIDs: []model.KeyID{idB}, Queries: []model.Query{{
			Type: model.QueryRange, Contention: ptr(4), Min: "2024-01-31T00:00:00.5Z", Max: "2030-01-01T00:00:00Z", TrimFactor: ptr(6),
		}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("QEFields (-want +got):\n%s", diff)
	}
	for _, bad := range []string{`{}`, `{"fields": {}}`, `{"fields": [{"path": "a"}]}`, `{"fields": [{"keyId": {"$uuid": "` + idA.String() + `"}}]}`,
		`{"fields": [{"keyId": {"$uuid": "` + idA.String() + `"}, "path": "a", "queries": {"queryType": "range", "min": "zero"}}]}`} {
		if _, err := schema.QEFields(bad); err == nil {
			t.Errorf("QEFields(%s): want an error", bad)
		}
	}
}

func csfle(fields ...model.EncryptedField) model.DesiredCollection {
	return model.DesiredCollection{Addr: model.CollectionAddr("db", "c"), Database: "db", Name: "c", Mode: model.ModeValidator, Fields: fields}
}

func qe(fields ...model.EncryptedField) model.DesiredCollection {
	c := csfle(fields...)
	c.Mode = model.ModeQueryable
	return c
}

func rangeField(bsonType string, q model.Query) model.EncryptedField {
	q.Type = model.QueryRange
	return model.EncryptedField{Path: "x", BSONType: bsonType, Key: model.DataKeyAddr("a"), Queries: []model.Query{q}}
}

func TestErrors(t *testing.T) {
	ids := map[model.Addr]model.KeyID{model.DataKeyAddr("a"): idA, model.DataKeyAddr("zero"): {}}
	det := func(path, key string) model.EncryptedField {
		return model.EncryptedField{Path: path, BSONType: "string", Algorithm: model.AlgorithmDeterministic, Key: model.DataKeyAddr(key)}
	}
	jsonSchema := func(c model.DesiredCollection) func() error {
		return func() error { _, err := schema.JSONSchema(c, ids); return err }
	}
	encryptedFields := func(c model.DesiredCollection) func() error {
		return func() error { _, err := schema.EncryptedFields(c, ids); return err }
	}
	tests := []struct {
		name string
		run  func() error
		want string // in the message
	}{
		{"missing id", jsonSchema(csfle(det("ssn", "new"))), "data_key.new has no key id yet"},
		{"zero id", jsonSchema(csfle(det("ssn", "zero"))), "data_key.zero has no key id yet"},
		{"missing id in schema map", func() error {
			_, err := schema.SchemaMap([]model.DesiredCollection{csfle(det("ssn", "new"))}, ids)
			return err
		}, "data_key.new"},
		{"missing id in QE", encryptedFields(qe(model.EncryptedField{Path: "a", Key: model.DataKeyAddr("new")})), "data_key.new has no key id yet"},
		{"unknown algorithm", jsonSchema(csfle(model.EncryptedField{Path: "a", Algorithm: "aes", Key: model.DataKeyAddr("a")})), `unknown algorithm "aes"`},
		{"path twice", jsonSchema(csfle(det("a", "a"), det("a", "a"))), "encrypted twice"},
		{"inside an encrypted field", jsonSchema(csfle(det("a", "a"), det("a.b", "a"))), "a is encrypted as a whole"},
		{"empty path part", jsonSchema(csfle(det("a..b", "a"))), "empty part"},
		{"queryable has no jsonSchema", jsonSchema(qe(det("a", "a"))), "Queryable Encryption"},
		{"validator has no encryptedFields", encryptedFields(csfle(det("a", "a"))), "CSFLE"},
		{"QE path twice", encryptedFields(qe(det("a", "a"), det("a", "a"))), "encrypted twice"},
		{"int bound not a number", encryptedFields(qe(rangeField("int", model.Query{Min: "zero"}))), `range min: "zero" is not an int`},
		{"int bound fractional", encryptedFields(qe(rangeField("int", model.Query{Max: "1.5"}))), `range max: "1.5" is not an int`},
		{"int bound too big", encryptedFields(qe(rangeField("int", model.Query{Max: "3000000000"}))), `"3000000000" is not an int`},
		{"long bound", encryptedFields(qe(rangeField("long", model.Query{Min: "1e3"}))), `"1e3" is not a long`},
		{"double bound", encryptedFields(qe(rangeField("double", model.Query{Min: "NaN"}))), `"NaN" is not a finite double`},
		{"decimal bound", encryptedFields(qe(rangeField("decimal", model.Query{Min: "1,5"}))), `"1,5" is not a decimal`},
		{"decimal too many digits", encryptedFields(qe(rangeField("decimal", model.Query{Min: "1" + strings.Repeat("0", 34)}))), "does not fit a decimal128"},
		{"date bound", encryptedFields(qe(rangeField("date", model.Query{Max: "31/01/2024"}))), `"31/01/2024" is not a date`},
		{"range on a string", encryptedFields(qe(rangeField("string", model.Query{}))), `not "string"`},
		{"precision on an int", encryptedFields(qe(rangeField("int", model.Query{Precision: ptr(2)}))), "precision applies only to double and decimal"},
		{"trim factor too big", encryptedFields(qe(rangeField("int", model.Query{TrimFactor: ptr(1 << 40)}))), "does not fit a 32-bit int"},
		{"bounds on equality", encryptedFields(qe(model.EncryptedField{Path: "a", BSONType: "int", Key: model.DataKeyAddr("a"),
			Queries: []model.Query{{Type: model.QueryEquality, Min: "1", Sparsity: ptr(1)}}})), "min, sparsity apply only to range queries"},
		{"unknown query type", encryptedFields(qe(model.EncryptedField{Path: "a", Key: model.DataKeyAddr("a"),
			Queries: []model.Query{{Type: "prefix"}}})), `unknown query type "prefix"`},
		{"namespace twice", func() error {
			_, err := schema.SchemaMap([]model.DesiredCollection{csfle(det("a", "a")), csfle(det("b", "a"))}, ids)
			return err
		}, "db.c is declared twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if err == nil {
				t.Fatalf("no error, want one saying %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "schema: ") {
				t.Errorf("error %q, want it prefixed schema: and saying %q", err, tt.want)
			}
		})
	}
}

// Range bounds take the type of the field, in the form the driver prints.
func TestRangeBoundTyping(t *testing.T) {
	tests := []struct {
		bsonType, in, want string
	}{
		{"int", "-5", `{"$numberInt":"-5"}`},
		{"long", "9223372036854775807", `{"$numberLong":"9223372036854775807"}`},
		{"double", "2", `{"$numberDouble":"2.0"}`},
		{"double", "0.1", `{"$numberDouble":"0.1"}`},
		{"double", "1e300", `{"$numberDouble":"1E+300"}`},
		{"decimal", "200.0", `{"$numberDecimal":"200.0"}`},
		{"decimal", "-0.000001", `{"$numberDecimal":"-0.000001"}`},
		{"decimal", "0.0000001", `{"$numberDecimal":"1E-7"}`},
		{"decimal", "1.50E+3", `{"$numberDecimal":"1.50E+3"}`},
		{"decimal", "123.45e-2", `{"$numberDecimal":"1.2345"}`},
		{"decimal", "0", `{"$numberDecimal":"0"}`},
		{"date", "1970-01-01T00:00:01.5+00:00", `{"$date":{"$numberLong":"1500"}}`},
		{"date", "-86400000", `{"$date":{"$numberLong":"-86400000"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.bsonType+" "+tt.in, func(t *testing.T) {
			doc, err := schema.EncryptedFields(qe(rangeField(tt.bsonType, model.Query{Min: tt.in})), map[model.Addr]model.KeyID{model.DataKeyAddr("a"): idA})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(doc, `"min":`+tt.want+`}`) {
				t.Errorf("got %s, want min %s", doc, tt.want)
			}
		})
	}
}

func TestSchemaMapLeavesOutQueryable(t *testing.T) {
	ids := map[model.Addr]model.KeyID{model.DataKeyAddr("a"): idA}
	q := qe(model.EncryptedField{Path: "a", BSONType: "int", Key: model.DataKeyAddr("a")})
	q.Name = "q"
	got, err := schema.SchemaMap([]model.DesiredCollection{q}, ids)
	if err != nil || got != "{}" {
		t.Errorf("SchemaMap of a queryable collection = %s, %v; want {}", got, err)
	}
	got, err = schema.EncryptedFieldsMap([]model.DesiredCollection{csfle()}, ids)
	if err != nil || got != "{}" {
		t.Errorf("EncryptedFieldsMap of a CSFLE collection = %s, %v; want {}", got, err)
	}
}

func TestPretty(t *testing.T) {
	in := `{"z":1,"a":{"$numberLong":"2"},"list":[{"$uuid":"` + idA.String() + `"}],"e":{},"l":[],"s":"<&>\u2028"}`
	want := "{\n" +
		`  "z": 1,` + "\n" +
		`  "a": {"$numberLong": "2"},` + "\n" +
		`  "list": [{"$uuid": "` + idA.String() + `"}],` + "\n" +
		`  "e": {},` + "\n" +
		`  "l": [],` + "\n" +
		`  "s": "<&>\u2028"` + "\n" +
		"}"
	if got := schema.Pretty(in); got != want {
		t.Errorf("Pretty:\n%s\nwant:\n%s", got, want)
	}
	if !schema.Equal(in, schema.Pretty(in)) {
		t.Error("Pretty changed the document")
	}
	if got := schema.Pretty("not json"); got != "not json" {
		t.Errorf("Pretty(not json) = %q", got)
	}
}

func TestEqualEncryptedFields(t *testing.T) {
	mine := `{"fields":[{"keyId":{"$uuid":"` + idA.String() + `"},"path":"a","bsonType":"int"}]}`
	server := `{"escCollection":"enxcol_.c.esc","ecocCollection":"enxcol_.c.ecoc","fields":[{"path":"a","bsonType":"int","keyId":{"$binary":{"base64":"` + idA.Base64() + `","subType":"04"}}}]}`
	if !schema.EqualEncryptedFields(mine, server) {
		t.Error("the server's metadata collection names made a difference")
	}
	if schema.Equal(mine, server) {
		t.Error("Equal should see the extra keys")
	}
	other := `{"fields":[{"keyId":{"$uuid":"` + idA.String() + `"},"path":"a","bsonType":"long"}]}`
	if schema.EqualEncryptedFields(mine, other) || schema.EqualEncryptedFields(mine, `{}`) || schema.EqualEncryptedFields("x", "x") {
		t.Error("EqualEncryptedFields ignored a real difference")
	}
}

func TestEqualEncryptedFieldsFillsServerDefaults(t *testing.T) {
	written := `{"fields":[{"keyId":{"$binary":{"base64":"AAAAAAAAAAAAAAAAAAAAAQ==","subType":"04"}},"path":"age","bsonType":"int","queries":{"queryType":"range","min":{"$numberInt":"0"},"max":{"$numberInt":"150"}}},
	  {"keyId":{"$binary":{"base64":"AAAAAAAAAAAAAAAAAAAAAg==","subType":"04"}},"path":"ssn","bsonType":"string","queries":{"queryType":"equality"}}]}`
	stored := `{"escCollection":"enxcol_.p.esc","ecocCollection":"enxcol_.p.ecoc","fields":[{"keyId":{"$binary":{"base64":"AAAAAAAAAAAAAAAAAAAAAQ==","subType":"04"}},"path":"age","bsonType":"int","queries":{"queryType":"range","min":{"$numberInt":"0"},"max":{"$numberInt":"150"},"contention":{"$numberLong":"8"},"sparsity":{"$numberLong":"2"},"trimFactor":{"$numberInt":"6"}}},
	  {"keyId":{"$binary":{"base64":"AAAAAAAAAAAAAAAAAAAAAg==","subType":"04"}},"path":"ssn","bsonType":"string","queries":{"queryType":"equality","contention":{"$numberLong":"8"}}}]}`
	if !schema.EqualEncryptedFields(written, stored) {
		t.Error("server defaults make the stored encryptedFields differ from what was written")
	}
	changed := strings.Replace(stored, `"contention":{"$numberLong":"8"}}}]}`, `"contention":{"$numberLong":"4"}}}]}`, 1)
	if schema.EqualEncryptedFields(written, changed) {
		t.Error("a contention other than the default compares equal")
	}
}

func TestOnlyEncryption(t *testing.T) {
	for doc, want := range map[string]bool{
		`{"bsonType":"object","properties":{"ssn":{"encrypt":{"keyId":[],"algorithm":"x"}}}}`:              true,
		`{"bsonType":"object","properties":{"a":{"bsonType":"object","properties":{"b":{"encrypt":{}}}}}}`: true,
		`{"bsonType":"object","required":["ssn"],"properties":{"ssn":{"encrypt":{}}}}`:                     false,
		`{"bsonType":"object","properties":{"ssn":{"encrypt":{}},"age":{"bsonType":"int","minimum":0}}}`:   false,
		`{"bsonType":"object","encryptMetadata":{"keyId":[]},"properties":{"ssn":{"encrypt":{}}}}`:         false,
		`not json`: false,
	} {
		if got := schema.OnlyEncryption(doc); got != want {
			t.Errorf("OnlyEncryption(%s) = %v, want %v", doc, got, want)
		}
	}
}
