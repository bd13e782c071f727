package config

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/csfle/csfle/model"
)

var querySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "type"}, {Name: "contention"},
	{Name: "min"}, {Name: "max"}, {Name: "sparsity"}, {Name: "precision"}, {Name: "trim_factor"},
}}

// rangeOptions are the options that only range queries take.
var rangeOptions = []string{"min", "max", "sparsity", "precision", "trim_factor"}

// decodeQuery decodes the query block of a queryable field whose bson_type
// is bsonType. typeAttr is the field's bson_type attribute (nil if absent)
// and typeOK false if it was unusable and reported already. It returns nil
// when the query type is unusable.
func (l *loader) decodeQuery(b *hcl.Block, bsonType string, typeAttr *hcl.Attribute, typeOK bool) *model.Query {
	attrs := l.content(b.Body, querySchema, "A query block", "type").Attributes
	typeOf := attrs["type"]
	if typeOf == nil {
		return nil
	}
	s, ok, diags := l.eval.plainString(typeOf.Expr, "type")
	l.report(diags...)
	if !ok {
		return nil
	}
	q := &model.Query{Type: s}
	switch s {
	case model.QueryEquality, model.QueryRange:
	case "rangePreview":
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unsupported query type",
			Detail: `"rangePreview" was the preview of range queries in MongoDB 7.0; MongoDB 8.0 replaced it with "range" and no longer creates ` +
				`rangePreview fields. Write type = "range".`,
			Subject: typeOf.Expr.Range().Ptr(),
		})
		return nil
	default:
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unknown query type",
			Detail:   fmt.Sprintf(`%q is not a query type: Queryable Encryption supports type = "equality" and type = "range".`, s),
			Subject:  typeOf.Expr.Range().Ptr(),
		})
		return nil
	}
	q.Contention = l.intOption(attrs["contention"], 0, math.MaxInt64,
		"contention is a whole number, 0 or more (MongoDB uses 8 when it is left out)")

	typeKnown := typeOK && bsonType != ""
	if typeAttr == nil || (typeOK && bsonType == "") {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing required argument",
			Detail:   "A field with a query needs bson_type, the BSON type its queries compare, as in bson_type = \"int\".",
			Subject:  b.DefRange.Ptr(),
		})
	}

	if q.Type == model.QueryEquality {
		for _, name := range rangeOptions {
			if a := attrs[name]; a != nil {
				l.report(&hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Option not allowed for equality queries",
					Detail: fmt.Sprintf("%s tunes range queries; an equality query takes only type and contention. "+
						"Remove %s, or write type = \"range\".", name, name),
					Subject: a.NameRange.Ptr(),
				})
			}
		}
		if typeKnown && !equalityTypes[bsonType] {
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "BSON type not supported by equality queries",
				Detail: fmt.Sprintf("Queryable Encryption indexes no double, decimal, object, array or javascriptWithScope values for equality, "+
					"and this field is %s. Remove the query block to encrypt the field without queries%s.", bsonType, rangeHint(bsonType)),
				Subject: typeAttr.Expr.Range().Ptr(),
			})
		}
		return q
	}

	if typeKnown && !rangeTypes[bsonType] {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "BSON type not supported by range queries",
			Detail: fmt.Sprintf("Queryable Encryption indexes ranges of int, long, double, decimal and date values, not %s. "+
				"Use type = \"equality\", or remove the query block.", bsonType),
			Subject: typeAttr.Expr.Range().Ptr(),
		})
		typeKnown = false
	}
	l.decodeRange(q, attrs, b, bsonType, typeKnown)
	return q
}

// decodeRange decodes the options of a range query. typeKnown says whether
// bsonType is a type that range queries take; otherwise the bounds are kept
// but not checked against it.
func (l *loader) decodeRange(q *model.Query, attrs hcl.Attributes, b *hcl.Block, bsonType string, typeKnown bool) {
	q.Sparsity = l.intOption(attrs["sparsity"], 1, 4,
		"sparsity is a whole number from 1 to 4 (MongoDB uses 2 when it is left out)")
	q.Precision = l.intOption(attrs["precision"], 0, math.MaxInt32,
		"precision is the number of decimal digits the index keeps, a whole number, 0 or more")
	q.TrimFactor = l.intOption(attrs["trim_factor"], 0, math.MaxInt32,
		"trim_factor is a whole number, 0 or more")

	minAttr, maxAttr := attrs["min"], attrs["max"]
	if minAttr == nil || maxAttr == nil {
		missing := "min and max"
		switch {
		case minAttr != nil:
			missing = "max"
		case maxAttr != nil:
			missing = "min"
		}
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing range bounds",
			Detail: fmt.Sprintf("A range query needs min and max, the smallest and largest values the field will hold: the encrypted index "+
				"is sized by them. Add %s, as in min = 0 and max = 1000000 (a date takes RFC 3339 strings).", missing),
			Subject: b.DefRange.Ptr(),
		})
	}
	lo, loOK := l.bound(minAttr, "min")
	hi, hiOK := l.bound(maxAttr, "max")
	q.Min, q.Max = lo.s, hi.s
	if !typeKnown {
		return
	}

	floating := bsonType == "double" || bsonType == "decimal"
	if p := attrs["precision"]; p != nil && !floating {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Precision needs a double or decimal field",
			Detail: fmt.Sprintf("precision says how many decimal digits of a double or decimal value the index keeps; %s values have none. "+
				"Remove precision.", bsonType),
			Subject: p.NameRange.Ptr(),
		})
	}
	if floating && attrs["precision"] == nil && (minAttr != nil || maxAttr != nil) {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing precision",
			Detail: fmt.Sprintf("MongoDB takes precision, min and max together for a range query on a %s field. "+
				"Add precision, the number of decimal digits the index keeps, as in precision = 2.", bsonType),
			Subject: b.DefRange.Ptr(),
		})
	}

	var loV, hiV *big.Rat
	if loOK {
		loV, q.Min = l.parseBound(lo, bsonType, q.Precision)
	}
	if hiOK {
		hiV, q.Max = l.parseBound(hi, bsonType, q.Precision)
	}
	if loV == nil || hiV == nil {
		return
	}
	if loV.Cmp(hiV) >= 0 {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid range bounds",
			Detail:   fmt.Sprintf("min must be less than max, and here min is %s and max is %s. Swap them, or widen the range.", lo.s, hi.s),
			Subject:  hi.rng.Ptr(),
		})
		return
	}
	if q.TrimFactor != nil {
		l.checkTrimFactor(*q.TrimFactor, attrs["trim_factor"], bsonType, loV, hiV)
	}
}

// checkTrimFactor reports a trim factor that is not less than the number
// of bits of the domain, as MongoDB does (0 always passes). The domain of
// a double or decimal depends on how libmongocrypt encodes it, so only the
// size of the type bounds it here.
func (l *loader) checkTrimFactor(tf int64, attr *hcl.Attribute, bsonType string, lo, hi *big.Rat) {
	var bits int
	switch bsonType {
	case "double":
		bits = 64
	case "decimal":
		bits = 128
	default:
		bits = new(big.Int).Sub(hi.Num(), lo.Num()).BitLen()
	}
	if tf == 0 || tf < int64(bits) {
		return
	}
	l.report(&hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid query option",
		Detail: fmt.Sprintf("trim_factor must be less than the number of bits needed for the values from min to max, %d here. "+
			"Lower it, or leave it out for MongoDB's default.", bits),
		Subject: attr.Expr.Range().Ptr(),
	})
}

// intOption evaluates a whole-number query option from lo to hi; nil when
// it is absent, null or in error. detail says what the option takes.
func (l *loader) intOption(attr *hcl.Attribute, lo, hi int64, detail string) *int64 {
	if attr == nil {
		return nil
	}
	v, ok, diags := l.eval.plain(attr.Expr, cty.Number, attr.Name)
	l.report(diags...)
	if !ok || v.IsNull() {
		return nil
	}
	f := v.AsBigFloat()
	if f.IsInt() {
		if n, acc := f.Int64(); acc == big.Exact && n >= lo && n <= hi {
			return &n
		}
	}
	l.report(&hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid query option",
		Detail:   fmt.Sprintf("%s; %s is not.", detail, f.Text('g', 10)),
		Subject:  attr.Expr.Range().Ptr(),
	})
	return nil
}

// maxBoundExp bounds the binary exponent of a numeric range bound; beyond
// it no BSON type can hold the value, and writing it out would take
// thousands of digits.
const maxBoundExp = 20500

// bound evaluates min or max: a number, kept as its decimal text, or a
// string, kept as written. ok is false when it is absent or in error.
func (l *loader) bound(attr *hcl.Attribute, what string) (located, bool) {
	if attr == nil {
		return located{}, false
	}
	v, ok, diags := l.eval.plain(attr.Expr, cty.DynamicPseudoType, what)
	l.report(diags...)
	if !ok || v.IsNull() {
		return located{}, false
	}
	rng := attr.Expr.Range()
	switch v.Type() {
	case cty.String:
		return located{s: v.AsString(), rng: rng}, true
	case cty.Number:
		f := v.AsBigFloat()
		if f.IsInf() || f.MantExp(nil) > maxBoundExp || f.MantExp(nil) < -maxBoundExp {
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid range bound",
				Detail:   fmt.Sprintf("%s is %s, beyond what any BSON number can hold. Bound the range by the values the field will hold.", what, f.Text('g', 10)),
				Subject:  rng.Ptr(),
			})
			return located{}, false
		}
		return located{s: numberText(f), rng: rng}, true
	}
	l.report(&hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Incorrect attribute value type",
		Detail:   fmt.Sprintf("The value of %s must be a number, or a string such as an RFC 3339 date; this is %s.", what, v.Type().FriendlyName()),
		Subject:  rng.Ptr(),
	})
	return located{}, false
}

// numberText writes a number in decimal, with an exponent only when it
// would otherwise take many digits (1e+40, not 1 and 40 zeros).
func numberText(f *big.Float) string {
	if s := f.Text('f', -1); len(s) <= 24 {
		return s
	}
	return f.Text('g', -1)
}

// decimalRE is a decimal number as MongoDB's extended JSON writes one:
// no fractions, no hexadecimal, no "Inf" or "NaN".
var decimalRE = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE]([+-]?\d+))?$`)

// parseBound checks a range bound against the field's BSON type. It
// returns the bound's value (a date as milliseconds since the epoch), nil if
// it was reported, and its text: an int or long as a plain whole number
// ("1e3" is "1000"), anything else as written. precision is the query's,
// nil if unset.
func (l *loader) parseBound(b located, bsonType string, precision *int64) (*big.Rat, string) {
	text := strings.TrimSpace(b.s)
	problem := ""
	defer func() {
		if problem != "" {
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid range bound",
				Detail:   problem,
				Subject:  b.rng.Ptr(),
			})
		}
	}()
	if bsonType == "date" {
		if ms, err := strconv.ParseInt(text, 10, 64); err == nil {
			return new(big.Rat).SetInt64(ms), text
		}
		t, err := time.Parse(time.RFC3339Nano, text)
		if err != nil {
			problem = fmt.Sprintf("A bound of a date field is an RFC 3339 timestamp, such as \"2024-01-01T00:00:00Z\", "+
				"or a whole number of milliseconds since 1970; %q is neither.", b.s)
			return nil, b.s
		}
		return new(big.Rat).SetInt64(t.UnixMilli()), text
	}
	m := decimalRE.FindStringSubmatch(text)
	if m == nil {
		problem = fmt.Sprintf("A bound of a%s %s field is a number, such as 0 or 1.5; %q is not one.", article(bsonType), bsonType, b.s)
		return nil, b.s
	}
	if m[3] != "" {
		if e, err := strconv.Atoi(m[3]); err != nil || e > 6200 || e < -6200 {
			problem = fmt.Sprintf("%s is beyond what a%s %s can hold.", b.s, article(bsonType), bsonType)
			return nil, b.s
		}
	}
	r, ok := new(big.Rat).SetString(text)
	if !ok {
		problem = fmt.Sprintf("A bound of a%s %s field is a number, such as 0 or 1.5; %q is not one.", article(bsonType), bsonType, b.s)
		return nil, b.s
	}
	switch bsonType {
	case "int", "long":
		limit := int64(math.MaxInt32)
		if bsonType == "long" {
			limit = math.MaxInt64
		}
		if !r.IsInt() || r.Num().Cmp(big.NewInt(limit)) > 0 || r.Num().Cmp(big.NewInt(-limit-1)) < 0 {
			problem = fmt.Sprintf("A bound of a%s %s field is a whole number from %d to %d; %s is not.", article(bsonType), bsonType, -limit-1, limit, b.s)
			return nil, b.s
		}
		text = r.Num().String()
	case "double":
		if f, _ := r.Float64(); math.IsInf(f, 0) {
			problem = fmt.Sprintf("%s is beyond what a double can hold.", b.s)
			return nil, b.s
		}
	case "decimal":
		if digits, exp := decimalParts(m); digits > 34 || exp < -6176 || exp > 6111 {
			problem = fmt.Sprintf("%s does not fit a decimal128 exactly, which holds at most 34 digits with an exponent from -6176 to 6111.", b.s)
			return nil, b.s
		}
	}
	if precision != nil && fractionDigits(m) > *precision {
		problem = fmt.Sprintf("%s has more decimal digits than precision = %d keeps, which MongoDB refuses. Round it, or raise precision.", b.s, *precision)
		return nil, b.s
	}
	return r, text
}

// decimalParts are the coefficient's digits and the exponent of a number
// matched by decimalRE, as decimal128 holds it: "12.50" is 1250 and -2.
func decimalParts(m []string) (digits, exp int) {
	whole, frac, _ := strings.Cut(m[1], ".")
	exp, _ = strconv.Atoi(m[3]) // checked by the caller
	coef := strings.TrimLeft(whole+frac, "0")
	return max(len(coef), 1), exp - len(frac)
}

// fractionDigits counts the decimal digits after the point of a number
// matched by decimalRE, once written without an exponent: 1.50 has 1, 25e-3
// has 3, 2500e-3 has 1, 1.5e3 has none.
func fractionDigits(m []string) int64 {
	whole, frac, _ := strings.Cut(m[1], ".")
	e, _ := strconv.Atoi(m[3]) // checked by the caller
	digits := strings.TrimRight(whole+frac, "0")
	scale := int64(len(frac)) - int64(e) - int64(len(whole+frac)-len(digits))
	return max(scale, 0)
}

func rangeHint(bsonType string) string {
	if rangeTypes[bsonType] {
		return `, or write type = "range"`
	}
	return ""
}

func article(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "n"
	}
	return ""
}
