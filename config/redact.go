package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// secretAttributes are the attributes, per block type, whose values are
// secrets or may hold one: a local master key, an Azure client secret, a GCP
// service account's private key, an access token, the key vault URI.
var secretAttributes = map[string]map[string]bool{
	"kms":       {"key": true, "client_secret": true, "access_token": true, "private_key": true},
	"key_vault": {"uri": true},
}

// RedactSources returns copies of the source files in which every secret
// written in the configuration is overwritten with asterisks: the values of
// secret attributes (see secretAttributes), the defaults of
// sensitive variables, and the values given to sensitive variables in
// variable files. Diagnostics print source lines, and a key written inline
// must not be printed with them. Byte offsets stay the same, so diagnostic
// ranges still point at the right place.
func RedactSources(files map[string]*hcl.File) map[string]*hcl.File {
	bodies := map[string]*hclsyntax.Body{}
	sensitive := map[string]bool{}
	for name, f := range files {
		parsed, diags := hclsyntax.ParseConfig(f.Bytes, name, hcl.InitialPos)
		if diags.HasErrors() {
			continue
		}
		body := parsed.Body.(*hclsyntax.Body)
		bodies[name] = body
		for _, b := range body.Blocks {
			if b.Type == "variable" && len(b.Labels) == 1 && isTrue(b.Body.Attributes["sensitive"]) {
				sensitive[b.Labels[0]] = true
			}
		}
	}
	out := make(map[string]*hcl.File, len(files))
	for name, f := range files {
		src := append([]byte(nil), f.Bytes...)
		if body, ok := bodies[name]; ok {
			for _, r := range secretRanges(body, sensitive) {
				mask(src, r)
			}
		} else {
			// A file that does not parse cannot be searched for secrets;
			// print none of it rather than risk one.
			src = nil
		}
		out[name] = &hcl.File{Bytes: src, Body: f.Body}
	}
	return out
}

func secretRanges(body *hclsyntax.Body, sensitive map[string]bool) []hcl.Range {
	var rs []hcl.Range
	for name, attr := range body.Attributes {
		if sensitive[name] { // a variable file
			rs = append(rs, attr.Expr.Range())
		}
	}
	for _, b := range body.Blocks {
		for name, attr := range b.Body.Attributes {
			if secretAttributes[b.Type][name] || (b.Type == "variable" && name == "default" && len(b.Labels) == 1 && sensitive[b.Labels[0]]) {
				rs = append(rs, attr.Expr.Range())
			}
		}
	}
	return rs
}

func isTrue(attr *hclsyntax.Attribute) bool {
	if attr == nil {
		return false
	}
	v, diags := attr.Expr.Value(nil)
	return !diags.HasErrors() && v.IsKnown() && !v.IsNull() && v.True()
}

// mask overwrites a range's bytes with asterisks, keeping line breaks.
func mask(src []byte, r hcl.Range) {
	if r.Start.Byte < 0 || r.End.Byte > len(src) || r.Start.Byte >= r.End.Byte {
		return
	}
	for i := r.Start.Byte; i < r.End.Byte; i++ {
		if src[i] != '\n' && src[i] != '\r' {
			src[i] = '*'
		}
	}
}
