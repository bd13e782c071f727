package config

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/csfle/csfle/model"
)

var collectionSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "mode"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "field", LabelNames: []string{"path"}}},
}

var fieldSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "data_key"}, {Name: "bson_type"}, {Name: "algorithm"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "query"}},
}

// modes are the enforcement modes, in the order they are listed to the user.
var modes = []string{model.ModeValidator, model.ModeSchemaMap, model.ModeQueryable}

// decodedField is a field with the ranges that checks across the fields of
// a collection point at.
type decodedField struct {
	*Field
	pathRange, keyRange hcl.Range
}

// declaredDataKeys are the names of all data_key blocks, including refused
// ones, so that references to those are not reported a second time.
func declaredDataKeys(blocks []*hclsyntax.Block) map[string]hcl.Range {
	declared := make(map[string]hcl.Range)
	for _, b := range blocks {
		if _, ok := declared[b.Labels[0]]; !ok {
			declared[b.Labels[0]] = b.DefRange()
		}
	}
	return declared
}

func (l *loader) decodeCollections(blocks []*hclsyntax.Block, keys map[string]hcl.Range, keyVault string) []*Collection {
	var out []*Collection
	seen := make(map[string]hcl.Range)
	for _, b := range blocks {
		db, name := b.Labels[0], b.Labels[1]
		l.checkCollectionLabels(b, keyVault)
		ns := db + "." + name
		if first, ok := seen[ns]; ok {
			l.report(duplicate("Duplicate collection block", fmt.Sprintf("A collection %q %q block", db, name), first, b.DefRange()))
			continue
		}
		seen[ns] = b.DefRange()
		out = append(out, l.decodeCollection(b, keys))
	}
	return out
}

// checkCollectionLabels reports database and collection names that MongoDB
// would refuse, and the key vault named as an encrypted collection.
func (l *loader) checkCollectionLabels(b *hclsyntax.Block, keyVault string) {
	db, name := b.Labels[0], b.Labels[1]
	dbProblem, nameProblem := databaseNameProblem(db), collectionNameProblem(name)
	if dbProblem != "" {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid database name",
			Detail:   fmt.Sprintf("The first label of a collection block is a database name, and %s. Rename it as MongoDB allows.", dbProblem),
			Subject:  b.LabelRanges[0].Ptr(),
		})
	}
	if nameProblem != "" {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid collection name",
			Detail:   fmt.Sprintf("The second label of a collection block is a collection name, and %s. Rename it as MongoDB allows.", nameProblem),
			Subject:  b.LabelRanges[1].Ptr(),
		})
	}
	if dbProblem != "" || nameProblem != "" {
		return
	}
	ns := db + "." + name
	switch {
	case len(ns) > 255:
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid collection name",
			Detail:   fmt.Sprintf("The namespace %s is %d bytes long; MongoDB allows at most 255. Use a shorter collection name.", ns, len(ns)),
			Subject:  b.LabelRanges[1].Ptr(),
		})
	case ns == keyVault:
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Collection is the key vault",
			Detail: fmt.Sprintf("%s is the key vault, which holds the data keys; its fields cannot be encrypted with those keys. "+
				"Name another collection, or move the key vault with namespace in the key_vault block.", ns),
			Subject: hcl.RangeBetween(b.LabelRanges[0], b.LabelRanges[1]).Ptr(),
		})
	}
}

func databaseNameProblem(db string) string {
	switch {
	case db == "":
		return "it is empty"
	case strings.ContainsAny(db, "/\\. \"$*<>:|?\x00"):
		return fmt.Sprintf("%q holds a character that MongoDB does not allow in database names (/\\. \"$*<>:|? or NUL)", db)
	case len(db) > 63:
		return fmt.Sprintf("%q is longer than MongoDB's limit of 63 bytes", db)
	}
	return ""
}

func collectionNameProblem(name string) string {
	switch {
	case name == "":
		return "it is empty"
	case strings.ContainsAny(name, "$\x00"):
		return fmt.Sprintf("%q holds a $ or a NUL, which MongoDB does not allow in collection names", name)
	case strings.HasPrefix(name, "system."):
		return fmt.Sprintf("%q is reserved by MongoDB (system.*)", name)
	}
	return ""
}

func (l *loader) decodeCollection(b *hclsyntax.Block, keys map[string]hcl.Range) *Collection {
	db, name := b.Labels[0], b.Labels[1]
	c := &Collection{
		Addr:      model.CollectionAddr(db, name),
		Database:  db,
		Name:      name,
		Mode:      model.ModeValidator,
		DeclRange: b.DefRange(),
	}
	content := l.content(b.Body, collectionSchema, "A collection block")

	// mode stays "" when it is unknown: the checks that depend on it are
	// skipped rather than reported against a mode the user did not mean.
	mode := c.Mode
	if attr, ok := content.Attributes["mode"]; ok {
		s, ok, diags := l.eval.plainString(attr.Expr, "mode")
		l.report(diags...)
		switch {
		case !ok:
			mode = ""
		case s == "":
			// null: the default
		case slices.Contains(modes, s):
			c.Mode, mode = s, s
		default:
			mode = ""
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown collection mode",
				Detail: fmt.Sprintf("%q is not a mode. Write mode = %q to enforce encryption with a server-side $jsonSchema validator (the default), "+
					"%q to only export a client schemaMap, or %q for Queryable Encryption.", s, model.ModeValidator, model.ModeSchemaMap, model.ModeQueryable),
				Subject: attr.Expr.Range().Ptr(),
			})
		}
	}

	var fields []decodedField
	byPath := make(map[string]decodedField)
	for _, fb := range content.Blocks {
		f, ok := l.decodeField(fb, mode, keys)
		if !ok {
			continue
		}
		if first, dup := byPath[f.Path]; dup {
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate field block",
				Detail: fmt.Sprintf("The path %q is already encrypted by the field block at %s; MongoDB encrypts a path once per collection. "+
					"Remove one of the two.", f.Path, shortRange(first.pathRange)),
				Subject: f.pathRange.Ptr(),
			})
			continue
		}
		byPath[f.Path] = f
		fields = append(fields, f)
	}
	l.checkOverlaps(fields)
	if mode == model.ModeQueryable {
		l.checkKeysUnique(fields)
	}
	for _, f := range fields {
		c.Fields = append(c.Fields, f.Field)
	}
	sort.Slice(c.Fields, func(i, j int) bool { return c.Fields[i].Path < c.Fields[j].Path })
	return c
}

// checkOverlaps reports a path inside another encrypted path ("a.b" and
// "a"), at the one declared second: the outer one is encrypted whole, so
// the inner one has nothing left to encrypt.
func (l *loader) checkOverlaps(fields []decodedField) {
	for j, later := range fields {
		for _, earlier := range fields[:j] {
			outer, inner := earlier.Path, later.Path
			if strings.HasPrefix(outer, inner+".") {
				outer, inner = inner, outer
			}
			if !strings.HasPrefix(inner, outer+".") {
				continue
			}
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Overlapping field paths",
				Detail: fmt.Sprintf("%q lies inside %q (fields at %s and %s), and a path cannot be encrypted both whole and in parts. "+
					"Encrypt %q whole, or only the fields inside it.", inner, outer, shortRange(earlier.pathRange), shortRange(later.pathRange), outer),
				Subject: later.pathRange.Ptr(),
			})
			break
		}
	}
}

// checkKeysUnique reports a data key used by two fields of a queryable
// collection: Queryable Encryption derives each field's tokens from its own
// key, and MongoDB refuses duplicate keyIds in encryptedFields.
func (l *loader) checkKeysUnique(fields []decodedField) {
	first := make(map[string]decodedField)
	for _, f := range fields {
		if f.DataKey == "" {
			continue
		}
		prev, ok := first[f.DataKey]
		if !ok {
			first[f.DataKey] = f
			continue
		}
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Data key shared by two fields",
			Detail: fmt.Sprintf("data_key.%s already encrypts %q (%s). In Queryable Encryption each field of a collection has a data key of its own; "+
				"declare another data_key block for %q.", f.DataKey, prev.Path, shortRange(prev.keyRange), f.Path),
			Subject: f.keyRange.Ptr(),
		})
	}
}

// decodeField decodes a field block for a collection in mode ("" when the
// mode is unknown). ok is false when the path is unusable or refused, which
// leaves the field out of the checks across fields.
func (l *loader) decodeField(b *hcl.Block, mode string, keys map[string]hcl.Range) (decodedField, bool) {
	f := decodedField{
		Field:     &Field{Path: b.Labels[0], DeclRange: b.DefRange},
		pathRange: b.LabelRanges[0],
	}
	pathOK := true
	if problem := pathProblem(f.Path); problem != "" {
		pathOK = false
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid field path",
			Detail:   fmt.Sprintf("A field's label is the dotted path of the field to encrypt, such as \"ssn\" or \"billing.card.number\"; %s.", problem),
			Subject:  f.pathRange.Ptr(),
		})
	}
	content := l.content(b.Body, fieldSchema, "A field block", "data_key")

	if attr, ok := content.Attributes["data_key"]; ok {
		f.DataKey = l.dataKeyRef(attr.Expr, keys)
		f.keyRange = attr.Expr.Range()
	}

	// typeOK is false when bson_type is given but unusable, so that
	// nothing more is said about it.
	typeAttr, typeOK := content.Attributes["bson_type"], true
	if typeAttr != nil {
		s, ok, diags := l.eval.plainString(typeAttr.Expr, "bson_type")
		l.report(diags...)
		typeOK = ok
		if ok && s != "" {
			if d := checkBSONType(s, typeAttr.Expr.Range()); d != nil {
				l.report(d)
				typeOK = false
			} else {
				f.BSONType = s
			}
		}
	}

	algAttr, algOK := content.Attributes["algorithm"], true
	if algAttr != nil {
		s, ok, diags := l.eval.plainString(algAttr.Expr, "algorithm")
		l.report(diags...)
		algOK = ok
		switch {
		case !ok || s == "":
		case s == model.AlgorithmDeterministic || s == model.AlgorithmRandom:
			f.Algorithm = s
		default:
			algOK = false
			l.report(unknownAlgorithm(s, algAttr.Expr.Range()))
		}
	}

	var query *hcl.Block
	for _, qb := range content.Blocks {
		if query != nil {
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate query block",
				Detail: fmt.Sprintf("This field already has a query block at %s. MongoDB supports one query type per encrypted field: "+
					"keep the one you need and remove the other.", shortRange(query.DefRange)),
				Subject: qb.DefRange.Ptr(),
			})
			continue
		}
		query = qb
	}

	isID := f.Path == "_id" || strings.HasPrefix(f.Path, "_id.")
	switch mode {
	case model.ModeValidator, model.ModeSchemaMap:
		if algAttr == nil || (algOK && f.Algorithm == "") {
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing required argument",
				Detail: fmt.Sprintf("A field of a collection in %s mode needs algorithm: \"deterministic\", which allows equality queries on the field, "+
					"or \"random\", which hides more and allows none. As in algorithm = \"deterministic\".", mode),
				Subject: b.Body.MissingItemRange().Ptr(),
			})
		}
		if query != nil {
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Query needs queryable mode",
				Detail: fmt.Sprintf("A query block configures Queryable Encryption, and this collection is in %s mode, which uses CSFLE: "+
					"there, algorithm = \"deterministic\" is what makes a field queryable by equality. Remove the query block, "+
					"or set mode = \"queryable\" on the collection.", mode),
				Subject: query.DefRange.Ptr(),
			})
		}
		switch f.Algorithm {
		case model.AlgorithmDeterministic:
			l.checkDeterministic(f, b, typeAttr, typeOK)
		case model.AlgorithmRandom:
			if isID {
				l.report(&hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "_id cannot be encrypted",
					Detail: fmt.Sprintf("%q cannot be encrypted with the random algorithm: MongoDB must be able to find a document by its _id. "+
						"Use algorithm = \"deterministic\", or encrypt another field.", f.Path),
					Subject: f.pathRange.Ptr(),
				})
				pathOK = false
			}
		}
	case model.ModeQueryable:
		if algAttr != nil {
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Algorithm not used in queryable mode",
				Detail: "Queryable Encryption chooses its own algorithms; algorithm belongs to the CSFLE modes (validator and schema_map). " +
					"Remove algorithm, and add a query block to make the field queryable.",
				Subject: algAttr.NameRange.Ptr(),
			})
		}
		if isID {
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "_id cannot be encrypted",
				Detail:   fmt.Sprintf("Queryable Encryption cannot encrypt _id or a field inside it (%q). Encrypt another field.", f.Path),
				Subject:  f.pathRange.Ptr(),
			})
		}
		pathOK = pathOK && !isID
		if query != nil {
			f.Query = l.decodeQuery(query, f.BSONType, typeAttr, typeOK)
		}
	}
	return f, pathOK
}

// checkDeterministic applies the rules of CSFLE's deterministic algorithm:
// exactly one BSON type, and one whose equal values have equal bytes.
func (l *loader) checkDeterministic(f decodedField, b *hcl.Block, typeAttr *hcl.Attribute, typeOK bool) {
	switch {
	case typeAttr == nil || (typeOK && f.BSONType == ""):
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing required argument",
			Detail: "Deterministic encryption needs exactly one BSON type, the type that equality queries on the field compare, " +
				"as in bson_type = \"string\".",
			Subject: b.Body.MissingItemRange().Ptr(),
		})
	case notDeterministic[f.BSONType]:
		hint := ""
		if f.BSONType == "object" {
			hint = ", or encrypt the fields inside the object deterministically, each with a field block of its own"
		}
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "BSON type not supported by deterministic encryption",
			Detail: fmt.Sprintf("MongoDB encrypts double, decimal, bool, object, array and javascriptWithScope values only with the random algorithm, "+
				"and this field is %s. Use algorithm = \"random\"%s.", f.BSONType, hint),
			Subject: typeAttr.Expr.Range().Ptr(),
		})
	}
}

func unknownAlgorithm(s string, rng hcl.Range) *hcl.Diagnostic {
	hint := ""
	switch lower := strings.ToLower(s); {
	case strings.Contains(lower, "deterministic"):
		hint = ` csfle names MongoDB's AEAD_AES_256_CBC_HMAC_SHA_512-Deterministic "deterministic".`
	case strings.Contains(lower, "random"):
		hint = ` csfle names MongoDB's AEAD_AES_256_CBC_HMAC_SHA_512-Random "random".`
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Unknown encryption algorithm",
		Detail:   fmt.Sprintf("%q is not an algorithm: write algorithm = \"deterministic\" or algorithm = \"random\".%s", s, hint),
		Subject:  rng.Ptr(),
	}
}

// pathProblem says what is wrong with an encrypted field's path.
func pathProblem(path string) string {
	switch {
	case path == "":
		return "this one is empty"
	case strings.HasPrefix(path, ".") || strings.HasSuffix(path, "."):
		return fmt.Sprintf("%q starts or ends with a dot", path)
	case strings.Contains(path, ".."):
		return fmt.Sprintf("%q has an empty segment between two dots", path)
	case strings.Contains(path, "$"):
		return fmt.Sprintf("%q holds a $, which MongoDB does not allow in an encrypted path", path)
	case strings.Contains(path, "\x00"):
		return fmt.Sprintf("%s holds a NUL character", strconv.Quote(path))
	}
	return ""
}

// dataKeyRef resolves data_key = data_key.NAME to a data key's name; ""
// if it cannot.
func (l *loader) dataKeyRef(expr hcl.Expression, keys map[string]hcl.Range) string {
	tr, diags := hcl.AbsTraversalForExpr(expr)
	name := ""
	if !diags.HasErrors() && tr.RootName() == "data_key" && len(tr) == 2 {
		if attr, ok := tr[1].(hcl.TraverseAttr); ok {
			name = attr.Name
		}
	}
	if name == "" {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid data key reference",
			Detail:   "data_key refers to a data_key block by its name, without quotes: data_key = data_key.ssn.",
			Subject:  expr.Range().Ptr(),
		})
		return ""
	}
	if _, ok := keys[name]; !ok {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Reference to undeclared data key",
			Detail: fmt.Sprintf("There is no data_key %q block: %s Declare the key with a data_key %q block, or refer to a declared one.",
				name, declaredKeyList(keys), name),
			Subject: expr.Range().Ptr(),
		})
		return ""
	}
	return name
}

func declaredKeyList(keys map[string]hcl.Range) string {
	if len(keys) == 0 {
		return "the configuration declares no data_key blocks."
	}
	refs := make([]string, 0, len(keys))
	for name := range keys {
		refs = append(refs, "data_key."+name)
	}
	sort.Strings(refs)
	return "the declared data keys are " + strings.Join(refs, ", ") + "."
}
