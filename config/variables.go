package config

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// EnvVarPrefix prefixes the environment variables that set variables:
// CSFLE_VAR_cmk_arn sets var.cmk_arn.
const EnvVarPrefix = "CSFLE_VAR_"

// variable is a variable block.
type variable struct {
	name      string
	typ       cty.Type  // cty.DynamicPseudoType when no type is declared
	def       cty.Value // cty.NilVal when there is no default
	sensitive bool
	declRange hcl.Range
}

var variableSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"},
}}

func (l *loader) decodeVariables(blocks []*hclsyntax.Block) []*variable {
	var vars []*variable
	seen := make(map[string]*variable)
	for _, b := range blocks {
		v := l.decodeVariable(b)
		if first, ok := seen[v.name]; ok {
			l.report(duplicate("Duplicate variable declaration", fmt.Sprintf("A variable %q", v.name), first.declRange, v.declRange))
			continue
		}
		seen[v.name] = v
		vars = append(vars, v)
	}
	return vars
}

// decodeVariable decodes a variable block. Its attributes are constants:
// they are evaluated before any variable has a value.
func (l *loader) decodeVariable(b *hclsyntax.Block) *variable {
	v := &variable{name: b.Labels[0], typ: cty.DynamicPseudoType, def: cty.NilVal, declRange: b.DefRange()}
	content := l.content(b.Body, variableSchema, "A variable block")

	if attr, ok := content.Attributes["type"]; ok {
		switch kw := hcl.ExprAsKeyword(attr.Expr); kw {
		case "string":
			v.typ = cty.String
		case "number":
			v.typ = cty.Number
		case "bool":
			v.typ = cty.Bool
		default:
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid variable type",
				Detail:   "A variable's type is string, number or bool, written without quotes: type = string.",
				Subject:  attr.Expr.Range().Ptr(),
			})
		}
	}
	if attr, ok := content.Attributes["description"]; ok {
		l.constant(attr, cty.String) // documentation only, but it must be a string
	}
	if attr, ok := content.Attributes["sensitive"]; ok {
		if val, ok := l.constant(attr, cty.Bool); ok && !val.IsNull() {
			v.sensitive = val.True()
		}
	}
	if attr, ok := content.Attributes["default"]; ok {
		v.def = cty.DynamicVal // if in error: reported, and not reported again as "no value"
		if val, ok := l.constant(attr, v.typ); ok {
			if val, err := v.conform(val); err != nil {
				l.report(&hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid default value for variable",
					Detail:   fmt.Sprintf("The default of %q must be %s.", v.name, err),
					Subject:  attr.Expr.Range().Ptr(),
				})
			} else {
				v.def = val
			}
		}
	}
	return v
}

// conform converts a value to the variable's type. Variables hold a string,
// a number or a bool; the error says which, for "must be ...".
func (v *variable) conform(val cty.Value) (cty.Value, error) {
	if v.typ == cty.DynamicPseudoType {
		if val.IsNull() || val.Type().IsPrimitiveType() {
			return val, nil
		}
		return cty.NilVal, fmt.Errorf("a string, a number or a bool, not %s", val.Type().FriendlyName())
	}
	conv, err := convert.Convert(val, v.typ)
	if err != nil {
		return cty.NilVal, fmt.Errorf("%s: %w", typeName(v.typ), err)
	}
	return conv, nil
}

// constant evaluates an expression that may not refer to variables or call
// functions, and converts it to ty.
func (l *loader) constant(attr *hcl.Attribute, ty cty.Type) (cty.Value, bool) {
	val, diags := attr.Expr.Value(nil)
	l.report(diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	conv, err := convert.Convert(val, ty)
	if err != nil {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Incorrect attribute value type",
			Detail:   fmt.Sprintf("The value of %s must be %s: %s.", attr.Name, typeName(ty), err),
			Subject:  attr.Expr.Range().Ptr(),
		})
		return cty.NilVal, false
	}
	return conv, true
}

// variableValues gives every variable its value, from the highest-priority
// source that sets it: -var options, then -var-file files, then the
// environment (CSFLE_VAR_<name>), then the default. Values of sensitive
// variables are marked, and a variable whose value is in error is unknown,
// so that whatever uses it is skipped instead of reported again.
func (l *loader) variableValues(vars []*variable) cty.Value {
	byName := make(map[string]*variable, len(vars))
	values := make(map[string]cty.Value, len(vars))
	for _, v := range vars {
		byName[v.name] = v
		if v.def != cty.NilVal {
			values[v.name] = v.def
		}
		if s, ok := l.opts.lookupEnv(EnvVarPrefix + v.name); ok {
			values[v.name] = l.fromString(v, s, "the environment variable "+EnvVarPrefix+v.name)
		}
	}
	for _, path := range l.opts.VarFiles {
		l.readVarFile(path, byName, values)
	}
	for _, opt := range l.opts.Vars {
		name, s, ok := strings.Cut(opt, "=")
		if !ok || name == "" {
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid -var option",
				Detail:   fmt.Sprintf("The -var option takes NAME=VALUE, as in -var 'cmk_arn=arn:aws:kms:...'; %q has no name and value.", opt),
			})
			continue
		}
		v, ok := byName[name]
		if !ok {
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("A -var option sets %q, but there is no variable %q: %s Declare it, or remove the option.", name, name, declaredVariables(byName)),
			})
			continue
		}
		values[name] = l.fromString(v, s, "-var "+name)
	}

	obj := make(map[string]cty.Value, len(vars))
	for _, v := range vars {
		val, ok := values[v.name]
		if !ok {
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No value for variable",
				Detail: fmt.Sprintf("The variable %q has no value. Set it with -var '%s=...', in a -var-file, "+
					"or with the environment variable %s%s, or give it a default.", v.name, v.name, EnvVarPrefix, v.name),
				Subject: v.declRange.Ptr(),
			})
			val = cty.DynamicVal
		}
		if v.sensitive {
			val = val.Mark(sensitiveMark)
		}
		obj[v.name] = val
	}
	return cty.ObjectVal(obj)
}

// fromString converts a value given on the command line or in the
// environment to the variable's type. An untyped variable takes it as a string.
func (l *loader) fromString(v *variable, s, source string) cty.Value {
	if v.typ == cty.DynamicPseudoType || v.typ == cty.String {
		return cty.StringVal(s)
	}
	val, err := convert.Convert(cty.StringVal(s), v.typ)
	if err != nil {
		// The value itself is not repeated: it may be a secret.
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail:   fmt.Sprintf("The value given for the variable %q by %s is not %s.", v.name, source, typeName(v.typ)),
			Subject:  v.declRange.Ptr(),
		})
		return cty.DynamicVal
	}
	return val
}

// readVarFile reads a -var-file: NAME = VALUE lines of constants. Values
// for variables that are not declared are ignored with a warning, as one
// file often serves several configurations.
func (l *loader) readVarFile(path string, byName map[string]*variable, values map[string]cty.Value) {
	src, err := os.ReadFile(path)
	if err != nil {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot read variables file",
			Detail:   fmt.Sprintf("Reading the -var-file %s failed: %v.", path, err),
		})
		return
	}
	var f *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(path, ".json") {
		f, diags = l.parser.ParseJSON(src, path)
	} else {
		f, diags = l.parser.ParseHCL(src, path)
	}
	l.report(diags...)
	if diags.HasErrors() {
		return
	}
	attrs, diags := f.Body.JustAttributes()
	l.report(diags...)
	list := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Range.Start.Byte < list[j].Range.Start.Byte })
	for _, attr := range list {
		v, ok := byName[attr.Name]
		if !ok {
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("The variables file sets %q, but the configuration declares no variable %q, so the value is ignored.", attr.Name, attr.Name),
				Subject:  attr.NameRange.Ptr(),
			})
			continue
		}
		val, diags := attr.Expr.Value(nil)
		l.report(diags...)
		if diags.HasErrors() {
			values[v.name] = cty.DynamicVal
			continue
		}
		conv, err := v.conform(val)
		if err != nil {
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   fmt.Sprintf("The variable %q must be %s.", v.name, err),
				Subject:  attr.Expr.Range().Ptr(),
			})
			conv = cty.DynamicVal
		}
		values[v.name] = conv
	}
}

// declaredVariables lists the declared variables, for the detail of a
// diagnostic about one that is not.
func declaredVariables[V any](vars map[string]V) string {
	if len(vars) == 0 {
		return "the configuration declares no variables."
	}
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, "var."+n)
	}
	sort.Strings(names)
	return "the declared variables are " + strings.Join(names, ", ") + "."
}
