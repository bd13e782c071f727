package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/csfle/csfle/model"
)

// masterKeyField is one field of a kind's master key, as MongoDB names it.
type masterKeyField struct {
	name     string
	required bool
	// endpoint, if set, marks a host[:port] field and is an example of one.
	endpoint string
	// boolean marks a field that is true or false, kept as "true" or "false".
	boolean bool
	// blockAttr is the attribute of the kms block whose value is the default,
	// if any; fromBlock reads it.
	blockAttr string
	fromBlock func(*Provider) string
}

// masterKeySpec is the master key of one kind.
type masterKeySpec struct {
	fields []masterKeyField // in the order they are listed to the user
	// example is a master_key with the required fields, for diagnostics.
	example string
}

var masterKeySpecs = map[string]masterKeySpec{
	model.KindLocal: {},
	model.KindAWS: {
		fields: []masterKeyField{
			{name: "key", required: true},
			{name: "region", required: true, blockAttr: "region", fromBlock: func(p *Provider) string { return p.Region }},
			{name: "endpoint", endpoint: "kms.us-east-1.amazonaws.com", blockAttr: "endpoint", fromBlock: func(p *Provider) string { return p.Endpoint }},
		},
		example: `{ key = "arn:aws:kms:us-east-1:111122223333:key/..." }`,
	},
	model.KindAzure: {
		fields: []masterKeyField{
			{name: "keyVaultEndpoint", required: true, endpoint: "my-vault.vault.azure.net"},
			{name: "keyName", required: true},
			{name: "keyVersion"},
		},
		example: `{ keyVaultEndpoint = "my-vault.vault.azure.net", keyName = "csfle-cmk" }`,
	},
	model.KindGCP: {
		fields: []masterKeyField{
			{name: "projectId", required: true},
			{name: "location", required: true},
			{name: "keyRing", required: true},
			{name: "keyName", required: true},
			{name: "keyVersion"},
			{name: "endpoint", endpoint: "cloudkms.googleapis.com"},
		},
		example: `{ projectId = "my-project", location = "global", keyRing = "csfle", keyName = "cmk" }`,
	},
	model.KindKMIP: {
		fields: []masterKeyField{
			{name: "keyId"},
			{name: "endpoint", endpoint: "kmip.example.com:5696", blockAttr: "endpoint", fromBlock: func(p *Provider) string { return p.Endpoint }},
			{name: "delegated", boolean: true},
		},
	},
}

func (s masterKeySpec) names() []string {
	names := make([]string, len(s.fields))
	for i, f := range s.fields {
		names[i] = f.name
	}
	return names
}

// describe says which fields there are and which are required:
// "keyVaultEndpoint and keyName are required, keyVersion is optional".
func (s masterKeySpec) describe() string {
	var required, optional []string
	for _, f := range s.fields {
		if f.required {
			required = append(required, f.name)
		} else {
			optional = append(optional, f.name)
		}
	}
	var parts []string
	if len(required) > 0 {
		parts = append(parts, andList(required)+isAre(required)+" required")
	}
	if len(optional) > 0 {
		parts = append(parts, andList(optional)+isAre(optional)+" optional")
	}
	return strings.Join(parts, ", ")
}

func andList(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func isAre(items []string) string {
	if len(items) == 1 {
		return " is"
	}
	return " are"
}

// mkField is one field of a master_key object.
type mkField struct {
	name      string
	nameRange hcl.Range
	value     located
}

// decodeMasterKey checks master_key against the provider's kind and fills
// in the defaults that the kms block gives. attr may be nil.
func (l *loader) decodeMasterKey(attr *hcl.Attribute, b *hclsyntax.Block, p *Provider) model.MasterKey {
	mk := model.MasterKey{Provider: p.Name}
	var fields []mkField
	where := b.DefRange()
	if attr != nil {
		var ok bool
		if fields, ok = l.masterKeyFields(attr.Expr); !ok {
			return mk
		}
		where = attr.Expr.Range()
	}

	spec := masterKeySpecs[p.Kind]
	allowed := spec.names()
	values := make(map[string]located)
	misspelled := make(map[string]bool) // reported once, as unsupported, not again as missing
	for _, f := range fields {
		if !slices.Contains(allowed, f.name) {
			d, meant := unsupportedField(p, f)
			l.report(d)
			misspelled[meant] = true
			continue
		}
		values[f.name] = f.value
	}
	if len(spec.fields) == 0 {
		return mk
	}

	mk.Fields = make(map[string]string)
	var missing []masterKeyField
	for _, f := range spec.fields {
		v := values[f.name]
		switch {
		case v.s != "":
			if f.endpoint != "" {
				l.checkEndpoint(v.s, "master_key."+f.name, f.endpoint, v.rng)
			}
			if f.boolean {
				if v.s != "true" && v.s != "false" {
					l.report(&hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Invalid master_key." + f.name,
						Detail: fmt.Sprintf("master_key.%s is true or false, without quotes; %q is neither. "+
							"With delegated = true the KMIP server itself encrypts and decrypts the data key, so the master key never leaves it.",
							f.name, v.s),
						Subject: v.rng.Ptr(),
					})
					continue
				}
			}
			mk.Fields[f.name] = v.s
		case f.fromBlock != nil && f.fromBlock(p) != "":
			mk.Fields[f.name] = f.fromBlock(p)
		case f.required && !misspelled[f.name]:
			missing = append(missing, f)
			if len(missing) == 1 && v.rng.Filename != "" {
				where = v.rng // written, but empty
			}
		}
	}
	if d := missingFields(p, spec, missing, where); d != nil {
		l.report(d)
	}
	return mk
}

// missingFields reports the required fields of a master key that are
// missing, in one diagnostic.
func missingFields(p *Provider, spec masterKeySpec, missing []masterKeyField, where hcl.Range) *hcl.Diagnostic {
	if len(missing) == 0 {
		return nil
	}
	names := make([]string, len(missing))
	var defaults []string
	for i, f := range missing {
		names[i] = "master_key." + f.name
		if f.blockAttr != "" {
			defaults = append(defaults, fmt.Sprintf(" Set %s in the %s block to use one %s for every key.", f.blockAttr, blockRef(p.Name), f.blockAttr))
		}
	}
	summary := "Missing " + names[0]
	if len(missing) > 1 {
		summary = "Missing master_key fields"
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail: fmt.Sprintf("A data key wrapped by the %s provider needs %s, as in master_key = %s. Of its fields, %s.%s",
			p.Name, andList(names), spec.example, spec.describe(), strings.Join(defaults, "")),
		Subject: where.Ptr(),
	}
}

// unsupportedField reports a field the kind's master key does not have,
// and returns the field that was probably meant, if any: "keyName" for
// "key_name".
func unsupportedField(p *Provider, f mkField) (*hcl.Diagnostic, string) {
	detail := fmt.Sprintf("A data key wrapped by the %s provider takes no master_key fields: its master key is the key of the %s block. "+
		"Remove master_key, or leave it empty.", p.Name, blockRef(p.Name))
	meant := ""
	if spec := masterKeySpecs[p.Kind]; len(spec.fields) > 0 {
		detail = fmt.Sprintf("%q is not a master_key field of the %s provider. Of its fields, %s.", f.name, p.Kind, spec.describe())
		for _, name := range spec.names() {
			if strings.EqualFold(strings.ReplaceAll(f.name, "_", ""), name) {
				meant = name
				detail += fmt.Sprintf(" Did you mean %s? master_key fields have MongoDB's names.", name)
			}
		}
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Unsupported master_key field",
		Detail:   detail,
		Subject:  f.nameRange.Ptr(),
	}, meant
}

// masterKeyFields evaluates a master_key object. Written as an object
// literal, each field keeps its own ranges; otherwise they all point at the
// expression. ok is false if it could not be evaluated.
func (l *loader) masterKeyFields(expr hcl.Expression) ([]mkField, bool) {
	pairs, mapDiags := hcl.ExprMap(expr)
	if mapDiags.HasErrors() {
		v, ok, diags := l.eval.plain(expr, cty.Map(cty.String), "master_key")
		l.report(diags...)
		if !ok || v.IsNull() {
			return nil, ok
		}
		var fields []mkField
		for it := v.ElementIterator(); it.Next(); {
			k, el := it.Element()
			s := ""
			if !el.IsNull() {
				s = el.AsString()
			}
			fields = append(fields, mkField{name: k.AsString(), nameRange: expr.Range(), value: located{s: s, rng: expr.Range()}})
		}
		return fields, true
	}

	var fields []mkField
	seen := make(map[string]hcl.Range)
	allOK := true
	for _, pair := range pairs {
		name := hcl.ExprAsKeyword(pair.Key)
		if name == "" {
			s, ok, diags := l.eval.plainString(pair.Key, "a master_key field name")
			l.report(diags...)
			if !ok {
				allOK = false
				continue
			}
			name = s
		}
		if first, ok := seen[name]; ok {
			l.report(duplicate("Duplicate master_key field", fmt.Sprintf("The field %q", name), first, pair.Key.Range()))
			continue
		}
		seen[name] = pair.Key.Range()
		s, ok, diags := l.eval.plainString(pair.Value, "master_key."+name)
		l.report(diags...)
		if !ok {
			allOK = false
			continue
		}
		fields = append(fields, mkField{name: name, nameRange: pair.Key.Range(), value: located{s: s, rng: pair.Value.Range()}})
	}
	return fields, allOK
}
