package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/csfle/csfle/model"
)

var dataKeySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "kms"},
		{Name: "master_key"},
		{Name: "alt_names"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "lifecycle"}},
}

var lifecycleSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "prevent_destroy"}}}

// altNameUse is one alt name of one key, kept for the check across keys.
type altNameUse struct {
	key string
	located
}

func (l *loader) decodeDataKeys(blocks []*hclsyntax.Block, providers map[string]*Provider, declared map[string]hcl.Range) []*DataKey {
	var keys []*DataKey
	seen := make(map[string]hcl.Range)
	var uses []altNameUse
	for _, b := range blocks {
		name := b.Labels[0]
		if first, ok := seen[name]; ok {
			l.report(duplicate("Duplicate data_key block", fmt.Sprintf("A data_key %q block", name), first, b.DefRange()))
			continue
		}
		seen[name] = b.DefRange()
		k, altNames := l.decodeDataKey(b, providers, declared)
		keys = append(keys, k)
		for _, a := range altNames {
			uses = append(uses, altNameUse{key: name, located: a})
		}
	}
	l.checkAltNamesUnique(uses)
	return keys
}

func (l *loader) decodeDataKey(b *hclsyntax.Block, providers map[string]*Provider, declared map[string]hcl.Range) (*DataKey, []located) {
	name := b.Labels[0]
	k := &DataKey{Name: name, Addr: model.DataKeyAddr(name), DeclRange: b.DefRange()}
	content := l.content(b.Body, dataKeySchema, "A data_key block", "kms")

	if attr, ok := content.Attributes["kms"]; ok {
		k.Provider = l.providerRef(attr.Expr, declared)
	}
	// A key whose provider is unknown or refused has no master key to check.
	if p := providers[k.Provider]; p != nil {
		k.MasterKey = l.decodeMasterKey(content.Attributes["master_key"], b, p)
	}

	altNames := []located{{s: name, rng: b.LabelRanges[0]}}
	if attr, ok := content.Attributes["alt_names"]; ok {
		altNames = l.decodeAltNames(attr, name)
	}
	k.AltNames = sortedUnique(altNames)

	var lifecycle *hcl.Block
	for _, lb := range content.Blocks {
		if lifecycle != nil {
			l.report(duplicate("Duplicate lifecycle block", "A lifecycle block", lifecycle.DefRange, lb.DefRange))
			continue
		}
		lifecycle = lb
		lc := l.content(lb.Body, lifecycleSchema, "A lifecycle block")
		if attr, ok := lc.Attributes["prevent_destroy"]; ok {
			pd, _, diags := l.eval.plainBool(attr.Expr, "prevent_destroy")
			l.report(diags...)
			k.PreventDestroy = pd
		}
	}
	return k, altNames
}

// providerRef resolves kms = kms.KIND (or kms.KIND.NAME for a named
// provider) to a provider name; "" if it cannot.
func (l *loader) providerRef(expr hcl.Expression, declared map[string]hcl.Range) string {
	tr, diags := hcl.AbsTraversalForExpr(expr)
	var parts []string
	if !diags.HasErrors() && tr.RootName() == "kms" && (len(tr) == 2 || len(tr) == 3) {
		for _, step := range tr[1:] {
			if attr, ok := step.(hcl.TraverseAttr); ok {
				parts = append(parts, attr.Name)
			}
		}
	}
	if len(parts) == 0 || len(parts) != len(tr)-1 {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid KMS provider reference",
			Detail:   "kms refers to a kms block, without quotes: kms = kms.local or kms = kms.aws.",
			Subject:  expr.Range().Ptr(),
		})
		return ""
	}
	name := strings.Join(parts, ":")
	if _, ok := declared[name]; !ok {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Reference to undeclared KMS provider",
			Detail: fmt.Sprintf("There is no %s block: %s Declare the provider with a %s block, or refer to a declared one.",
				blockRef(name), declaredProviders(declared), blockRef(name)),
			Subject: expr.Range().Ptr(),
		})
		return ""
	}
	return name
}

// decodeAltNames evaluates alt_names. A null list means the default, the
// block's label.
func (l *loader) decodeAltNames(attr *hcl.Attribute, label string) []located {
	names, ok, diags := l.eval.plainStringList(attr.Expr, "alt_names")
	l.report(diags...)
	switch {
	case !ok:
		return nil
	case names == nil:
		return []located{{s: label, rng: attr.Expr.Range()}}
	case len(names) == 0:
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Empty alt_names",
			Detail: fmt.Sprintf("A data key needs at least one alt name, by which csfle finds it again if it stops between creating the key "+
				"and recording it in state. List at least one name, or remove alt_names to use the block's name (%q).", label),
			Subject: attr.Expr.Range().Ptr(),
		})
		return nil
	}
	var out []located
	for _, n := range names {
		if n.s == "" {
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Empty alt name",
				Detail:   "An alt name cannot be the empty string. Remove it, or give it a name.",
				Subject:  n.rng.Ptr(),
			})
			continue
		}
		out = append(out, n)
	}
	return out
}

// checkAltNamesUnique reports an alt name used by two keys, at the second
// use: the key vault's unique index on keyAltNames would refuse it.
func (l *loader) checkAltNamesUnique(uses []altNameUse) {
	first := make(map[string]altNameUse)
	for _, u := range uses {
		f, ok := first[u.s]
		if !ok {
			first[u.s] = u
			continue
		}
		if f.key == u.key {
			continue // listed twice in one key: deduplicated
		}
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate alt name",
			Detail: fmt.Sprintf("The alt name %q is already used by data_key.%s (%s). An alt name names one key in the whole key vault; "+
				"choose another.", u.s, f.key, shortRange(f.rng)),
			Subject: u.rng.Ptr(),
		})
	}
}

func sortedUnique(names []located) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, n.s)
	}
	sort.Strings(out)
	j := 0
	for i, s := range out {
		if i == 0 || s != out[j-1] {
			out[j] = s
			j++
		}
	}
	return out[:j]
}
