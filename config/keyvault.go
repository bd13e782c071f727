package config

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/csfle/csfle/model"
)

var keyVaultSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "uri"},
	{Name: "namespace"},
}}

// decodeKeyVault decodes the one key_vault block; missing is where to point
// if there is none.
func (l *loader) decodeKeyVault(blocks []*hclsyntax.Block, missing hcl.Range) KeyVault {
	if len(blocks) == 0 {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing key_vault block",
			Detail:   `A configuration needs one key_vault block that says where the data keys live, as in key_vault { uri = env("MONGODB_URI") }.`,
			Subject:  missing.Ptr(),
		})
		return KeyVault{}
	}
	for _, b := range blocks[1:] {
		l.report(duplicate("Duplicate key_vault block", "A key_vault block", blocks[0].DefRange(), b.DefRange()))
	}
	b := blocks[0]
	kv := KeyVault{Namespace: model.DefaultKeyVaultNamespace, DeclRange: b.DefRange()}
	content := l.content(b.Body, keyVaultSchema, "A key_vault block", "uri")

	if attr, ok := content.Attributes["uri"]; ok {
		uri, ok, diags := l.eval.secretString(attr.Expr, "uri")
		l.report(diags...)
		if ok {
			if problem := checkURI(uri.RevealString()); problem != "" {
				l.report(&hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid key vault URI",
					Detail:   "uri must be a MongoDB connection string that starts with mongodb:// or mongodb+srv://; " + problem,
					Subject:  attr.Expr.Range().Ptr(),
				})
			}
			kv.URI = uri
		}
	}
	if attr, ok := content.Attributes["namespace"]; ok {
		ns, ok, diags := l.eval.plainString(attr.Expr, "namespace")
		l.report(diags...)
		if ok {
			if problem := checkNamespace(ns); problem != "" {
				l.report(&hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid key vault namespace",
					Detail:   fmt.Sprintf("namespace must be \"database.collection\", such as %q; %s.", model.DefaultKeyVaultNamespace, problem),
					Subject:  attr.Expr.Range().Ptr(),
				})
			}
			kv.Namespace = ns
		}
	}
	return kv
}

// checkURI says what is wrong with a connection string, without repeating
// any of it: it may hold a password.
func checkURI(uri string) string {
	switch {
	case uri == "":
		return "it is empty (if it comes from env(), is the environment variable set?)."
	case !strings.HasPrefix(uri, "mongodb://") && !strings.HasPrefix(uri, "mongodb+srv://"):
		return "this one starts differently."
	}
	return ""
}

// checkNamespace says what is wrong with a key vault namespace, following
// MongoDB's naming restrictions.
func checkNamespace(ns string) string {
	db, coll, ok := strings.Cut(ns, ".")
	switch {
	case !ok || db == "" || coll == "":
		return fmt.Sprintf("%q is not a database and a collection name joined by a dot", ns)
	case strings.ContainsAny(db, "/\\. \"$*<>:|?\x00"):
		return fmt.Sprintf("the database name %q holds a character that MongoDB does not allow in database names (/\\. \"$*<>:|?)", db)
	case len(db) > 63:
		return fmt.Sprintf("the database name %q is longer than MongoDB's limit of 63 bytes", db)
	case strings.ContainsAny(coll, "$\x00"):
		return fmt.Sprintf("the collection name %q holds a $, which MongoDB does not allow", coll)
	case strings.HasPrefix(coll, "system."):
		return fmt.Sprintf("the collection name %q is reserved by MongoDB (system.*)", coll)
	}
	return ""
}
