package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/csfle/csfle/secret"
)

// sensitiveMark marks every cty value derived from a sensitive variable.
// cty carries marks through functions, templates and conversions, so a
// value keeps it however it was computed.
const sensitiveMark = "sensitive"

// evaluator evaluates attribute expressions of the configuration into Go
// values. It reports references to undeclared variables itself (HCL's own
// message would be about a missing object attribute) and refuses sensitive
// values in attributes that end up in plans and state.
type evaluator struct {
	ctx  *hcl.EvalContext
	vars map[string]bool // declared variable names
}

// located is a string value and where it was written.
type located struct {
	s   string
	rng hcl.Range
}

// value evaluates expr and converts it to ty. The result is unmarked;
// sensitive says whether it was derived from a sensitive variable. ok is
// false when the value cannot be used: an error has been reported, or it
// depends on a variable whose value failed (and was reported already).
func (e *evaluator) value(expr hcl.Expression, ty cty.Type, what string) (v cty.Value, sensitive, ok bool, diags hcl.Diagnostics) {
	if diags = e.checkRefs(expr); diags.HasErrors() {
		return cty.NilVal, false, false, diags
	}
	raw, moreDiags := expr.Value(e.ctx)
	diags = append(diags, moreDiags...)
	if moreDiags.HasErrors() || !raw.IsWhollyKnown() {
		return cty.NilVal, false, false, diags
	}
	raw, marks := raw.UnmarkDeep()
	_, sensitive = marks[sensitiveMark]
	v, err := convert.Convert(raw, ty)
	if err != nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Incorrect attribute value type",
			Detail:   fmt.Sprintf("The value of %s must be %s: %s.", what, typeName(ty), err),
			Subject:  expr.Range().Ptr(),
		})
		return cty.NilVal, false, false, diags
	}
	return v, sensitive, true, diags
}

// plain evaluates a non-secret attribute, refusing values derived from a
// sensitive variable: they would be printed in plans and stored in state.
func (e *evaluator) plain(expr hcl.Expression, ty cty.Type, what string) (cty.Value, bool, hcl.Diagnostics) {
	v, sensitive, ok, diags := e.value(expr, ty, what)
	if ok && sensitive {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Sensitive value not allowed here",
			Detail: fmt.Sprintf("%s is shown in plans and stored in state in clear text, so it cannot take a value derived from a sensitive variable. "+
				"Use a variable that is not sensitive here.", what),
			Subject: expr.Range().Ptr(),
		})
		return cty.NilVal, false, diags
	}
	return v, ok, diags
}

// plainString evaluates a non-secret string; null is "".
func (e *evaluator) plainString(expr hcl.Expression, what string) (string, bool, hcl.Diagnostics) {
	v, ok, diags := e.plain(expr, cty.String, what)
	if !ok || v.IsNull() {
		return "", ok, diags
	}
	return v.AsString(), true, diags
}

// plainBool evaluates a non-secret bool; null is false.
func (e *evaluator) plainBool(expr hcl.Expression, what string) (bool, bool, hcl.Diagnostics) {
	v, ok, diags := e.plain(expr, cty.Bool, what)
	if !ok || v.IsNull() {
		return false, ok, diags
	}
	return v.True(), true, diags
}

// secretString evaluates a secret string; null is the zero Value. HCL's
// diagnostics may carry the expression and its context, which a diagnostic
// printer uses to show the values of the variables involved; those are
// dropped so that the value can never be printed along with an error.
func (e *evaluator) secretString(expr hcl.Expression, what string) (secret.Value, bool, hcl.Diagnostics) {
	v, _, ok, diags := e.value(expr, cty.String, what)
	for _, d := range diags {
		d.Expression, d.EvalContext = nil, nil
	}
	if !ok || v.IsNull() {
		return secret.Value{}, ok, diags
	}
	return secret.FromString(v.AsString()), true, diags
}

// plainStringList evaluates a non-secret list of strings, keeping the range
// of each element when it is written as a list literal. A null list is
// returned as nil, an empty one as an empty non-nil slice. A null element is "".
func (e *evaluator) plainStringList(expr hcl.Expression, what string) ([]located, bool, hcl.Diagnostics) {
	if elems, listDiags := hcl.ExprList(expr); !listDiags.HasErrors() {
		out := make([]located, 0, len(elems))
		var diags hcl.Diagnostics
		allOK := true
		for _, el := range elems {
			s, ok, d := e.plainString(el, what)
			diags = append(diags, d...)
			allOK = allOK && ok
			out = append(out, located{s: s, rng: el.Range()})
		}
		return out, allOK, diags
	}
	v, ok, diags := e.plain(expr, cty.List(cty.String), what)
	if !ok || v.IsNull() {
		return nil, ok, diags
	}
	out := make([]located, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, el := it.Element()
		s := ""
		if !el.IsNull() {
			s = el.AsString()
		}
		out = append(out, located{s: s, rng: expr.Range()})
	}
	return out, true, diags
}

// checkRefs reports references to undeclared variables.
func (e *evaluator) checkRefs(expr hcl.Expression) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		if tr.RootName() != "var" || len(tr) < 2 {
			continue
		}
		attr, ok := tr[1].(hcl.TraverseAttr)
		if !ok || e.vars[attr.Name] {
			continue
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Reference to undeclared variable",
			Detail: fmt.Sprintf("There is no variable %q: %s Declare it with a variable %q block.",
				attr.Name, declaredVariables(e.vars), attr.Name),
			Subject: tr.SourceRange().Ptr(),
		})
	}
	return diags
}

func typeName(ty cty.Type) string {
	switch {
	case ty == cty.String:
		return "a string"
	case ty == cty.Number:
		return "a number"
	case ty == cty.Bool:
		return "true or false"
	case ty.IsListType() && ty.ElementType() == cty.String:
		return "a list of strings"
	case ty.IsMapType() && ty.ElementType() == cty.String:
		return "an object of strings"
	}
	return ty.FriendlyName()
}
