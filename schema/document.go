package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Doc is a JSON object whose keys keep their order, so that the documents
// csfle writes are deterministic and read in a sensible order (bsonType
// before properties, keyId before algorithm).
//
// Values are string, bool, nil, json.Number, Doc or []any.
type Doc []Elem

// Elem is one key of a Doc.
type Elem struct {
	Key   string
	Value any
}

// Get returns the value of the first element named key.
func (d Doc) Get(key string) (any, bool) {
	for _, e := range d {
		if e.Key == key {
			return e.Value, true
		}
	}
	return nil, false
}

// String is the document as compact extended JSON.
func (d Doc) String() string {
	var b strings.Builder
	writeCompact(&b, d)
	return b.String()
}

// MarshalJSON writes the document compactly, keys in order.
func (d Doc) MarshalJSON() ([]byte, error) { return []byte(d.String()), nil }

// Parse reads one JSON object, keeping its key order and its numbers as
// written.
func Parse(s string) (Doc, error) {
	v, err := parseValue(s)
	if err != nil {
		return nil, err
	}
	d, ok := v.(Doc)
	if !ok {
		return nil, errors.New("schema: document is not a JSON object")
	}
	return d, nil
}

func parseValue(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := readValue(dec)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("schema: data after the end of the document")
	}
	return v, nil
}

func readValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			d := Doc{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key %v is not a string", kt)
				}
				v, err := readValue(dec)
				if err != nil {
					return nil, err
				}
				d = append(d, Elem{k, v})
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return d, nil
		case '[':
			a := []any{}
			for dec.More() {
				v, err := readValue(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return a, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil // string, bool, nil or json.Number
	}
}

func writeCompact(b *strings.Builder, v any) { writeFlat(b, v, ",", ":") }

// writeFlat writes v on one line with the given separators between
// elements and between a key and its value.
func writeFlat(b *strings.Builder, v any, comma, colon string) {
	switch t := v.(type) {
	case Doc:
		b.WriteByte('{')
		for i, e := range t {
			if i > 0 {
				b.WriteString(comma)
			}
			writeString(b, e.Key)
			b.WriteString(colon)
			writeFlat(b, e.Value, comma, colon)
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteString(comma)
			}
			writeFlat(b, e, comma, colon)
		}
		b.WriteByte(']')
	default:
		writeScalar(b, v)
	}
}

func writeScalar(b *strings.Builder, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		writeString(b, t)
	case json.Number:
		b.WriteString(t.String())
	default:
		// Only the types above are ever put in a Doc; anything else is a
		// bug in this package, shown rather than hidden.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(t); err != nil {
			writeString(b, fmt.Sprintf("%v", t))
			return
		}
		b.WriteString(strings.TrimSuffix(buf.String(), "\n"))
	}
}

// writeString quotes s as JSON does, without encoding/json's HTML escapes,
// which would make "<" unreadable in plans.
func writeString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c < 0x20 || c == 0x7f:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case r == '\u2028' || r == '\u2029':
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}
