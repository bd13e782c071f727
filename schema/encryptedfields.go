package schema

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/csfle/csfle/model"
)

// EncryptedFields is a Queryable Encryption collection's encryptedFields:
//
//	{"fields":[{"keyId":UUID,"path":"a.b","bsonType":"int","queries":{"queryType":"range","contention":{"$numberLong":"8"},"min":{"$numberInt":"0"},"max":{"$numberInt":"200"}}}]}
//
// queries is left out when the field has none, is one object for one query
// and a list for several. Range bounds are typed by the field's bsonType
// (int, long, double, decimal, date); contention and sparsity are longs,
// precision and trimFactor ints, as the server's own definition has them.
func EncryptedFields(c model.DesiredCollection, ids map[model.Addr]model.KeyID) (string, error) {
	d, err := EncryptedFieldsDoc(c, ids)
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// EncryptedFieldsDoc is EncryptedFields as a Doc.
func EncryptedFieldsDoc(c model.DesiredCollection, ids map[model.Addr]model.KeyID) (Doc, error) {
	if c.Mode == model.ModeValidator || c.Mode == model.ModeSchemaMap {
		return nil, fmt.Errorf("schema: %s uses CSFLE (mode %s): it has a $jsonSchema, not encryptedFields", collName(c), c.Mode)
	}
	fields := []any{}
	seen := map[string]bool{}
	for _, f := range sortedFields(c.Fields) {
		if seen[f.Path] {
			return nil, fmt.Errorf("schema: %s field %q: the path is encrypted twice", collName(c), f.Path)
		}
		seen[f.Path] = true
		d, err := encryptedField(f, ids)
		if err != nil {
			return nil, fmt.Errorf("schema: %s field %q: %w", collName(c), f.Path, err)
		}
		fields = append(fields, d)
	}
	return Doc{{"fields", fields}}, nil
}

// EncryptedFieldsMap is {"db.coll": <encryptedFields>, ...} for the
// queryable collections among cs, sorted by namespace: what
// AutoEncryptionOpts.EncryptedFieldsMap takes.
func EncryptedFieldsMap(cs []model.DesiredCollection, ids map[model.Addr]model.KeyID) (string, error) {
	d, err := EncryptedFieldsMapDoc(cs, ids)
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// EncryptedFieldsMapDoc is EncryptedFieldsMap as a Doc.
func EncryptedFieldsMapDoc(cs []model.DesiredCollection, ids map[model.Addr]model.KeyID) (Doc, error) {
	return namespaceMap(cs, func(c model.DesiredCollection) bool { return c.Mode == model.ModeQueryable }, func(c model.DesiredCollection) (Doc, error) {
		return EncryptedFieldsDoc(c, ids)
	})
}

func encryptedField(f model.EncryptedField, ids map[model.Addr]model.KeyID) (Doc, error) {
	for _, p := range f.PathParts() {
		if p == "" {
			return nil, errors.New("the path has an empty part")
		}
	}
	id, err := keyID(f, ids)
	if err != nil {
		return nil, err
	}
	d := Doc{{"keyId", UUID(id)}, {"path", f.Path}}
	if f.BSONType != "" {
		d = append(d, Elem{"bsonType", f.BSONType})
	}
	var queries []any
	for _, q := range f.Queries {
		qd, err := query(f.BSONType, q)
		if err != nil {
			return nil, err
		}
		queries = append(queries, qd)
	}
	switch len(queries) {
	case 0:
	case 1:
		d = append(d, Elem{"queries", queries[0]})
	default:
		d = append(d, Elem{"queries", queries})
	}
	return d, nil
}

func query(bsonType string, q model.Query) (Doc, error) {
	d := Doc{{"queryType", q.Type}}
	if q.Contention != nil {
		d = append(d, Elem{"contention", Int64(*q.Contention)})
	}
	switch q.Type {
	case model.QueryEquality:
		var extra []string
		for name, set := range map[string]bool{"min": q.Min != "", "max": q.Max != "", "sparsity": q.Sparsity != nil, "precision": q.Precision != nil, "trim_factor": q.TrimFactor != nil} {
			if set {
				extra = append(extra, name)
			}
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			return nil, fmt.Errorf("%s apply only to range queries, not equality", strings.Join(extra, ", "))
		}
		return d, nil
	case model.QueryRange:
	default:
		return nil, fmt.Errorf("unknown query type %q (want %q or %q)", q.Type, model.QueryEquality, model.QueryRange)
	}
	switch bsonType {
	case "int", "long", "double", "decimal", "date":
	default:
		return nil, fmt.Errorf("range queries need bson_type int, long, double, decimal or date, not %q", bsonType)
	}
	for _, b := range []struct{ name, text string }{{"min", q.Min}, {"max", q.Max}} {
		if b.text == "" {
			continue
		}
		v, err := typedValue(bsonType, b.text)
		if err != nil {
			return nil, fmt.Errorf("range %s: %w", b.name, err)
		}
		d = append(d, Elem{b.name, v})
	}
	if q.Sparsity != nil {
		d = append(d, Elem{"sparsity", Int64(*q.Sparsity)})
	}
	if q.Precision != nil {
		if bsonType != "double" && bsonType != "decimal" {
			return nil, fmt.Errorf("range precision applies only to double and decimal fields, not %s", bsonType)
		}
		n, err := int32Param("precision", *q.Precision)
		if err != nil {
			return nil, err
		}
		d = append(d, Elem{"precision", n})
	}
	if q.TrimFactor != nil {
		n, err := int32Param("trim_factor", *q.TrimFactor)
		if err != nil {
			return nil, err
		}
		d = append(d, Elem{"trimFactor", n})
	}
	return d, nil
}

func int32Param(name string, n int64) (Doc, error) {
	if n < math.MinInt32 || n > math.MaxInt32 {
		return nil, fmt.Errorf("range %s %d does not fit a 32-bit int", name, n)
	}
	return Int32(int32(n)), nil
}

// QEFields reads the fields out of an encryptedFields document in extended
// JSON, as the server returns it, sorted by path.
func QEFields(encryptedFields string) ([]Field, error) {
	d, err := Parse(encryptedFields)
	if err != nil {
		return nil, err
	}
	v, ok := d.Get("fields")
	if !ok {
		return nil, errors.New("schema: encryptedFields has no fields")
	}
	list, ok := v.([]any)
	if !ok {
		return nil, errors.New("schema: encryptedFields' fields is not a list")
	}
	out := []Field{}
	for i, e := range list {
		fd, ok := e.(Doc)
		if !ok {
			return nil, fmt.Errorf("schema: encryptedFields' field %d is not an object", i)
		}
		f, err := readQEField(fd)
		if err != nil {
			return nil, fmt.Errorf("schema: encryptedFields' field %d: %w", i, err)
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func readQEField(d Doc) (Field, error) {
	var f Field
	var ok bool
	if f.Path, ok = getString(d, "path"); !ok || f.Path == "" {
		return f, errors.New("no path")
	}
	v, ok := d.Get("keyId")
	if !ok {
		return f, fmt.Errorf("%q has no keyId", f.Path)
	}
	id, ok := keyIDValue(v)
	if !ok {
		return f, fmt.Errorf("%q: keyId %s is not a UUID", f.Path, compact(v))
	}
	f.KeyIDs = []model.KeyID{id}
	if v, ok := d.Get("bsonType"); ok {
		if f.BSONType, ok = v.(string); !ok {
			return f, fmt.Errorf("%q: bsonType %s is not a type name", f.Path, compact(v))
		}
	}
	v, ok = d.Get("queries")
	if !ok || v == nil {
		return f, nil
	}
	var qs []any
	switch t := v.(type) {
	case Doc:
		qs = []any{t}
	case []any:
		qs = t
	default:
		return f, fmt.Errorf("%q: queries %s is neither an object nor a list", f.Path, compact(v))
	}
	for _, e := range qs {
		qd, ok := e.(Doc)
		if !ok {
			return f, fmt.Errorf("%q: query %s is not an object", f.Path, compact(e))
		}
		q, err := readQuery(qd)
		if err != nil {
			return f, fmt.Errorf("%q: %w", f.Path, err)
		}
		f.Queries = append(f.Queries, q)
	}
	return f, nil
}

func readQuery(d Doc) (model.Query, error) {
	var q model.Query
	var ok bool
	if q.Type, ok = getString(d, "queryType"); !ok {
		return q, errors.New("a query has no queryType")
	}
	ints := []struct {
		key string
		dst **int64
	}{{"contention", &q.Contention}, {"sparsity", &q.Sparsity}, {"precision", &q.Precision}, {"trimFactor", &q.TrimFactor}}
	for _, p := range ints {
		v, ok := d.Get(p.key)
		if !ok {
			continue
		}
		n, ok := intValue(v)
		if !ok {
			return q, fmt.Errorf("%s %s is not an integer", p.key, compact(v))
		}
		*p.dst = &n
	}
	for _, b := range []struct {
		key string
		dst *string
	}{{"min", &q.Min}, {"max", &q.Max}} {
		v, ok := d.Get(b.key)
		if !ok {
			continue
		}
		s, ok := boundText(v)
		if !ok {
			return q, fmt.Errorf("%s %s is not a number or a date", b.key, compact(v))
		}
		*b.dst = s
	}
	return q, nil
}
