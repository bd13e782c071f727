package schema

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Equal reports whether two extended JSON documents are the same document.
// Object key order and whitespace do not matter; array order and number
// types do ({"$numberInt":"8"} is not {"$numberLong":"8"}). Values are
// compared as BSON holds them, so spellings of one value are equal: a
// double "1" and "1.0", a $uuid and its $binary, a relaxed $date and its
// canonical form, a plain 8 (an int in relaxed extended JSON) and
// {"$numberInt":"8"}. A decimal keeps its exponent: "1.5" is not "1.50".
// Anything that is not JSON is equal to nothing.
func Equal(a, b string) bool {
	va, err := parseValue(a)
	if err != nil {
		return false
	}
	vb, err := parseValue(b)
	if err != nil {
		return false
	}
	return canonical(va) == canonical(vb)
}

// canonical writes v with object keys sorted and each BSON value in one
// spelling, so that equal documents give equal strings.
func canonical(v any) string {
	var b strings.Builder
	writeCompact(&b, normalize(v))
	return b.String()
}

func normalize(v any) any {
	switch t := v.(type) {
	case json.Number:
		return relaxedNumber(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normalize(e)
		}
		return out
	case Doc:
		if len(t) == 1 && strings.HasPrefix(t[0].Key, "$") {
			if w, ok := normalizeWrapper(t[0].Key, t[0].Value); ok {
				return w
			}
		}
		out := make(Doc, len(t))
		for i, e := range t {
			out[i] = Elem{e.Key, normalize(e.Value)}
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].Key < out[j].Key })
		return out
	}
	return v
}

// relaxedNumber types a plain JSON number as relaxed extended JSON does.
func relaxedNumber(n json.Number) any {
	s := n.String()
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			if i >= math.MinInt32 && i <= math.MaxInt32 {
				return Int32(int32(i))
			}
			return Int64(i)
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return Double(f)
	}
	return n
}

func normalizeWrapper(key string, v any) (Doc, bool) {
	s, isString := v.(string)
	switch key {
	case "$numberInt":
		if n, err := strconv.ParseInt(s, 10, 32); isString && err == nil {
			return Int32(int32(n)), true
		}
	case "$numberLong":
		if n, err := strconv.ParseInt(s, 10, 64); isString && err == nil {
			return Int64(n), true
		}
	case "$numberDouble":
		if f, err := strconv.ParseFloat(s, 64); isString && err == nil {
			if math.IsNaN(f) {
				f = math.NaN() // one NaN, whatever its bits
			}
			return Double(f), true
		}
	case "$numberDecimal":
		if d, err := parseDecimal(s); isString && err == nil {
			return Doc{{"$numberDecimal", d.String()}}, true
		}
	case "$date":
		if ms, ok := dateValue(v); ok {
			return DateMillis(ms), true
		}
	case "$binary":
		if data, sub, ok := binaryValue(v); ok {
			return binary(data, sub), true
		}
	case "$uuid":
		if id, ok := keyIDValue(Doc{{key, v}}); ok {
			return UUID(id), true
		}
	}
	return nil, false
}

func binary(data []byte, subType int64) Doc {
	return Doc{{"$binary", Doc{{"base64", base64.StdEncoding.EncodeToString(data)}, {"subType", fmt.Sprintf("%02x", subType)}}}}
}

// EqualEncryptedFields reports whether two encryptedFields documents
// declare the same fields, as Equal does, but looks only at "fields": the
// server adds the names of its metadata collections (escCollection,
// ecocCollection, and eccCollection before 7.0) to what it was given, and
// csfle never sets them.
//
// Query options the server fills in with their defaults when they are left
// out (contention 8; for range, sparsity 2 and trimFactor 6) compare equal
// to those defaults written out.
func EqualEncryptedFields(a, b string) bool {
	fa, ok := fieldsOnly(a)
	if !ok {
		return false
	}
	fb, ok := fieldsOnly(b)
	return ok && canonical(withQueryDefaults(fa)) == canonical(withQueryDefaults(fb))
}

// queryDefaults are the values MongoDB gives query options left out.
var queryDefaults = []struct {
	key, onlyFor string
	value        Doc
}{
	{"contention", "", Doc{{"$numberLong", "8"}}},
	{"sparsity", "range", Doc{{"$numberLong", "2"}}},
	{"trimFactor", "range", Doc{{"$numberInt", "6"}}},
}

func withQueryDefaults(fields any) any {
	list, ok := fields.([]any)
	if !ok {
		return fields
	}
	out := make([]any, len(list))
	for i, f := range list {
		fd, ok := f.(Doc)
		if !ok {
			out[i] = f
			continue
		}
		nf := append(Doc(nil), fd...)
		for j, e := range nf {
			if e.Key != "queries" {
				continue
			}
			switch q := e.Value.(type) {
			case Doc:
				nf[j].Value = queryWithDefaults(q)
			case []any:
				qs := make([]any, len(q))
				for k, x := range q {
					if xd, ok := x.(Doc); ok {
						qs[k] = queryWithDefaults(xd)
					} else {
						qs[k] = x
					}
				}
				nf[j].Value = qs
			}
		}
		out[i] = nf
	}
	return out
}

func queryWithDefaults(q Doc) Doc {
	typ, _ := q.Get("queryType")
	out := append(Doc(nil), q...)
	for _, d := range queryDefaults {
		if d.onlyFor != "" && typ != d.onlyFor {
			continue
		}
		if _, ok := out.Get(d.key); !ok {
			out = append(out, Elem{d.key, d.value})
		}
	}
	return out
}

func fieldsOnly(doc string) (any, bool) {
	d, err := Parse(doc)
	if err != nil {
		return nil, false
	}
	f, ok := d.Get("fields")
	return f, ok
}

// OnlyEncryption reports whether a $jsonSchema holds nothing but what csfle
// writes: bsonType "object", and properties that are either encrypt
// keywords or nested objects of the same kind. A schema with other rules
// (required fields, patterns, encryptMetadata...) is someone else's, and
// csfle must not overwrite it.
func OnlyEncryption(jsonSchema string) bool {
	d, err := Parse(jsonSchema)
	return err == nil && onlyEncryptionObject(d)
}

func onlyEncryptionObject(d Doc) bool {
	for _, e := range d {
		switch e.Key {
		case "bsonType":
			if e.Value != "object" {
				return false
			}
		case "properties":
			props, ok := e.Value.(Doc)
			if !ok {
				return false
			}
			for _, p := range props {
				pd, ok := p.Value.(Doc)
				if !ok {
					return false
				}
				if len(pd) == 1 && pd[0].Key == "encrypt" {
					continue
				}
				if !onlyEncryptionObject(pd) {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}
