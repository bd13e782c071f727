package schema

import (
	"strings"
)

// Pretty re-indents a document for people, keeping its key order: two
// spaces a level, and each extended JSON value ({"$binary": …},
// {"$numberInt": "8"}) on one line, so that a plan's diff of two schemas
// shows the fields that changed, not the insides of a UUID. Text that is
// not JSON comes back as it is.
func Pretty(doc string) string {
	v, err := parseValue(doc)
	if err != nil {
		return doc
	}
	var b strings.Builder
	writePretty(&b, v, "")
	return b.String()
}

func writePretty(b *strings.Builder, v any, indent string) {
	if inline(v) {
		writeInline(b, v)
		return
	}
	inner := indent + "  "
	switch t := v.(type) {
	case Doc:
		b.WriteString("{\n")
		for i, e := range t {
			b.WriteString(inner)
			writeString(b, e.Key)
			b.WriteString(": ")
			writePretty(b, e.Value, inner)
			if i < len(t)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	case []any:
		b.WriteString("[\n")
		for i, e := range t {
			b.WriteString(inner)
			writePretty(b, e, inner)
			if i < len(t)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	}
}

// inline reports whether v reads best on one line: a scalar, an empty
// object or list, an extended JSON value, or a list of such values.
func inline(v any) bool {
	switch t := v.(type) {
	case Doc:
		return len(t) == 0 || strings.HasPrefix(t[0].Key, "$")
	case []any:
		for _, e := range t {
			if _, isList := e.([]any); isList || !inline(e) {
				return false
			}
		}
		return true
	}
	return true
}

// writeInline writes v on one line, with a space after each comma and
// colon, for the parts of a pretty document that stay on one line.
func writeInline(b *strings.Builder, v any) { writeFlat(b, v, ", ", ": ") }
