package schema

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/csfle/csfle/model"
)

// Canonical extended JSON v2 wrappers for the BSON values these documents
// hold.

// UUID is a key id: BSON binary subtype 4.
func UUID(id model.KeyID) Doc {
	return Doc{{"$binary", Doc{{"base64", id.Base64()}, {"subType", "04"}}}}
}

// Int32 is a BSON int.
func Int32(n int32) Doc { return Doc{{"$numberInt", strconv.FormatInt(int64(n), 10)}} }

// Int64 is a BSON long.
func Int64(n int64) Doc { return Doc{{"$numberLong", strconv.FormatInt(n, 10)}} }

// Double is a BSON double, printed as the Go driver prints it ("1.0", "1.5",
// "1E+300"), so a value read back from the server looks the same.
func Double(f float64) Doc { return Doc{{"$numberDouble", formatDouble(f)}} }

// DateMillis is a BSON date: milliseconds since the Unix epoch.
func DateMillis(ms int64) Doc { return Doc{{"$date", Int64(ms)}} }

func formatDouble(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	}
	s := strconv.FormatFloat(f, 'G', -1, 64)
	if !strings.ContainsAny(s, ".E") {
		s += ".0"
	}
	return s
}

// typedValue turns a bound the configuration wrote as text into the BSON
// value of the field's type, as encryptedFields wants min and max.
func typedValue(bsonType, s string) (Doc, error) {
	s = strings.TrimSpace(s)
	switch bsonType {
	case "int":
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%q is not an int (a whole number from -2147483648 to 2147483647)", s)
		}
		return Int32(int32(n)), nil
	case "long":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a long (a 64-bit whole number)", s)
		}
		return Int64(n), nil
	case "double":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("%q is not a finite double", s)
		}
		return Double(f), nil
	case "decimal":
		d, err := parseDecimal(s)
		if err != nil {
			return nil, err
		}
		return Doc{{"$numberDecimal", d.String()}}, nil
	case "date":
		ms, err := parseDate(s)
		if err != nil {
			return nil, err
		}
		return DateMillis(ms), nil
	}
	return nil, fmt.Errorf("a range bound needs a field of bson_type int, long, double, decimal or date, not %q", bsonType)
}

// parseDate accepts an RFC 3339 time or a number of milliseconds since the
// Unix epoch.
func parseDate(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a date (want RFC 3339, such as 2024-01-31T00:00:00Z, or milliseconds since 1970)", s)
	}
	return t.UnixMilli(), nil
}

// decimal is a decimal128 value as BSON keeps it: sign, coefficient and
// exponent. Two strings are the same decimal128 exactly when these match
// ("1.50" is not "1.5": the exponent differs).
type decimal struct {
	neg  bool
	coef string // digits without leading zeros; "0" for zero
	exp  int
}

// String is IEEE 754's to-scientific-string, the form drivers print
// decimal128 in, which keeps the exponent ("1.50", "1.5E+7", "0E-3").
func (d decimal) String() string {
	var b strings.Builder
	if d.neg {
		b.WriteByte('-')
	}
	adjusted := d.exp + len(d.coef) - 1
	switch {
	case d.exp == 0:
		b.WriteString(d.coef)
	case d.exp < 0 && adjusted >= -6:
		if point := len(d.coef) + d.exp; point > 0 {
			b.WriteString(d.coef[:point] + "." + d.coef[point:])
		} else {
			b.WriteString("0." + strings.Repeat("0", -point) + d.coef)
		}
	default:
		b.WriteString(d.coef[:1])
		if len(d.coef) > 1 {
			b.WriteString("." + d.coef[1:])
		}
		b.WriteString("E")
		if adjusted >= 0 {
			b.WriteString("+")
		}
		b.WriteString(strconv.Itoa(adjusted))
	}
	return b.String()
}

// parseDecimal reads a finite decimal string the way decimal128 does,
// refusing what decimal128 cannot hold exactly.
func parseDecimal(s string) (decimal, error) {
	bad := fmt.Errorf("%q is not a decimal (want digits with an optional point and exponent, such as 12.50 or 1E-3)", s)
	var d decimal
	r := s
	if r != "" && (r[0] == '+' || r[0] == '-') {
		d.neg = r[0] == '-'
		r = r[1:]
	}
	mant, expPart, hasExp := strings.Cut(strings.ToUpper(r), "E")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return decimal{}, bad
	}
	if hasExp {
		e, err := strconv.Atoi(expPart)
		if err != nil {
			return decimal{}, bad
		}
		d.exp = e
	}
	d.exp -= len(frac)
	d.coef = strings.TrimLeft(digits, "0")
	if d.coef == "" {
		d.coef = "0"
	}
	if len(d.coef) > 34 || d.exp < -6176 || d.exp > 6111 {
		return decimal{}, fmt.Errorf("%q does not fit a decimal128 exactly (at most 34 digits, exponent from -6176 to 6111)", s)
	}
	return d, nil
}

// intValue reads an integer written as any of $numberInt, $numberLong or a
// plain JSON number.
func intValue(v any) (int64, bool) {
	switch t := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(t.String(), 10, 64)
		return n, err == nil
	case Doc:
		if len(t) != 1 {
			return 0, false
		}
		s, ok := t[0].Value.(string)
		if !ok || (t[0].Key != "$numberInt" && t[0].Key != "$numberLong") {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// keyIDValue reads a key id: binary subtype 4 in either of its extended
// JSON forms.
func keyIDValue(v any) (model.KeyID, bool) {
	d, ok := v.(Doc)
	if !ok || len(d) != 1 {
		return model.KeyID{}, false
	}
	switch d[0].Key {
	case "$uuid":
		s, ok := d[0].Value.(string)
		if !ok || strings.Count(s, "-") != 4 {
			return model.KeyID{}, false
		}
		id, err := model.ParseKeyID(s)
		return id, err == nil
	case "$binary":
		data, sub, ok := binaryValue(d[0].Value)
		if !ok || sub != 4 || len(data) != 16 {
			return model.KeyID{}, false
		}
		var id model.KeyID
		copy(id[:], data)
		return id, true
	}
	return model.KeyID{}, false
}

func binaryValue(v any) ([]byte, int64, bool) {
	d, ok := v.(Doc)
	if !ok {
		return nil, 0, false
	}
	b64, ok1 := getString(d, "base64")
	sub, ok2 := getString(d, "subType")
	if !ok1 || !ok2 || len(d) != 2 {
		return nil, 0, false
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, 0, false
	}
	n, err := strconv.ParseInt(sub, 16, 64)
	if err != nil || n < 0 || n > 0xff {
		return nil, 0, false
	}
	return data, n, true
}

// dateValue reads a $date in canonical ({"$numberLong"}) or relaxed
// (RFC 3339, or a plain number) form.
func dateValue(v any) (int64, bool) {
	switch t := v.(type) {
	case Doc:
		if len(t) != 1 || t[0].Key != "$numberLong" {
			return 0, false
		}
		return intValue(t)
	case json.Number:
		n, err := strconv.ParseInt(t.String(), 10, 64)
		return n, err == nil
	case string:
		tm, err := time.Parse(time.RFC3339Nano, t)
		if err != nil {
			return 0, false
		}
		return tm.UnixMilli(), true
	}
	return 0, false
}

// boundText writes a typed range bound back as the configuration writes
// it: the number, or a date in RFC 3339 (UTC).
func boundText(v any) (string, bool) {
	switch t := v.(type) {
	case json.Number:
		return t.String(), true
	case Doc:
		if len(t) != 1 {
			return "", false
		}
		switch t[0].Key {
		case "$numberInt", "$numberLong", "$numberDouble", "$numberDecimal":
			s, ok := t[0].Value.(string)
			return s, ok
		case "$date":
			ms, ok := dateValue(t[0].Value)
			if !ok {
				return "", false
			}
			return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano), true
		}
	}
	return "", false
}

func getString(d Doc, key string) (string, bool) {
	v, ok := d.Get(key)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}
