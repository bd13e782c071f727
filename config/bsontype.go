package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// bsonTypes are the BSON type aliases of MongoDB's $type and $jsonSchema
// bsonType, and whether a value of the type can be encrypted. Undefined,
// null, minKey and maxKey have a single value each, which a ciphertext would
// give away by its type, so MongoDB refuses to encrypt them.
var bsonTypes = map[string]bool{
	"double":              true,
	"string":              true,
	"object":              true,
	"array":               true,
	"binData":             true,
	"undefined":           false,
	"objectId":            true,
	"bool":                true,
	"date":                true,
	"null":                false,
	"regex":               true,
	"dbPointer":           true,
	"javascript":          true,
	"symbol":              true,
	"javascriptWithScope": true,
	"int":                 true,
	"timestamp":           true,
	"long":                true,
	"decimal":             true,
	"minKey":              false,
	"maxKey":              false,
}

// notDeterministic are the types that CSFLE's deterministic algorithm
// refuses: equal values of them need not have equal bytes, so equal
// plaintexts would not give equal ciphertexts.
var notDeterministic = map[string]bool{
	"double": true, "decimal": true, "bool": true, "object": true, "array": true, "javascriptWithScope": true,
}

// equalityTypes are the types Queryable Encryption indexes for equality.
var equalityTypes = map[string]bool{
	"binData": true, "javascript": true, "regex": true, "string": true, "int": true, "long": true,
	"bool": true, "timestamp": true, "date": true, "objectId": true, "symbol": true, "dbPointer": true,
}

// rangeTypes are the types Queryable Encryption indexes for ranges.
var rangeTypes = map[string]bool{"int": true, "long": true, "double": true, "decimal": true, "date": true}

// bsonTypeHints correct names that are not BSON type aliases but are often
// taken for one.
var bsonTypeHints = map[string]string{
	"uuid":       `A UUID is stored as binData (subtype 4): write bson_type = "binData".`,
	"number":     `"number" stands for any numeric type; an encrypted field names one: "int", "long", "double" or "decimal".`,
	"boolean":    `Write bson_type = "bool".`,
	"integer":    `Write bson_type = "int" for a 32-bit integer, or "long" for a 64-bit one.`,
	"int32":      `Write bson_type = "int".`,
	"int64":      `Write bson_type = "long".`,
	"decimal128": `Write bson_type = "decimal".`,
	"datetime":   `Write bson_type = "date".`,
	"binary":     `Write bson_type = "binData".`,
	"oid":        `Write bson_type = "objectId".`,
	"float":      `Write bson_type = "double".`,
	"code":       `Write bson_type = "javascript".`,
}

// checkBSONType reports a bson_type that is not a BSON type alias, or names
// a type that cannot be encrypted.
func checkBSONType(s string, rng hcl.Range) *hcl.Diagnostic {
	encryptable, known := bsonTypes[s]
	switch {
	case !known:
		hint := bsonTypeHints[strings.ToLower(s)]
		if hint == "" {
			for alias := range bsonTypes {
				if strings.EqualFold(alias, s) {
					hint = fmt.Sprintf("Aliases are case-sensitive: write bson_type = %q.", alias)
				}
			}
		}
		if hint == "" {
			hint = "The aliases are " + encryptableTypes() + "."
		}
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unknown BSON type",
			Detail:   fmt.Sprintf("%q is not a BSON type alias of MongoDB's $jsonSchema. %s", s, hint),
			Subject:  rng.Ptr(),
		}
	case !encryptable:
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "BSON type cannot be encrypted",
			Detail: fmt.Sprintf("A %s value has only one possible value, which its ciphertext would give away, so MongoDB does not encrypt it. "+
				"Encrypt a field of another type: %s.", s, encryptableTypes()),
			Subject: rng.Ptr(),
		}
	}
	return nil
}

func encryptableTypes() string {
	var names []string
	for name, ok := range bsonTypes {
		if ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
