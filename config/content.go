package config

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// requiredHints show how to write each required attribute, for the
// diagnostic when it is missing. The schemas mark no attribute Required:
// content checks them, so that the diagnostic can say what to write.
var requiredHints = map[string]string{
	"uri":      `uri = env("MONGODB_URI")`,
	"key":      `key = file("master-key.txt")`,
	"kms":      `kms = kms.local`,
	"data_key": `data_key = data_key.ssn`,
	"type":     `type = "equality"`,
	// kms "azure" and kms "kmip"
	"tenant_id": `tenant_id = "00000000-0000-0000-0000-000000000000"`,
	"endpoint":  `endpoint = "kmip.example.com:5696"`,
}

// nestedExamples show how to write each nested block, for diagnostics
// about its labels.
var nestedExamples = map[string]string{
	"lifecycle": `lifecycle { prevent_destroy = true }`,
	"field":     `field "ssn" { ... }`,
	"query":     `query { type = "equality" }`,
}

// content decodes a block body against schema, and extends HCL's
// diagnostics about arguments and blocks the schema does not know with the
// ones it does. what names the block in details, as in `A key_vault block`.
func (l *loader) content(body hcl.Body, schema *hcl.BodySchema, what string, required ...string) *hcl.BodyContent {
	content, diags := body.Content(schema)
	for _, d := range diags {
		switch d.Summary {
		case "Unsupported argument":
			d.Detail += fmt.Sprintf(" %s takes %s.", what, attrList(schema))
		case "Unsupported block type":
			d.Detail += fmt.Sprintf(" %s holds %s.", what, blockList(schema))
		default:
			for _, b := range schema.Blocks {
				if strings.HasSuffix(d.Summary, " for "+b.Type) && nestedExamples[b.Type] != "" {
					d.Detail += fmt.Sprintf(" A %s block is written %s.", b.Type, nestedExamples[b.Type])
				}
			}
		}
	}
	l.report(diags...)
	for _, name := range required {
		if _, ok := content.Attributes[name]; ok {
			continue
		}
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing required argument",
			Detail:   fmt.Sprintf("%s needs %s, as in %s.", what, name, requiredHints[name]),
			Subject:  body.MissingItemRange().Ptr(),
		})
	}
	return content
}

func attrList(schema *hcl.BodySchema) string {
	if len(schema.Attributes) == 0 {
		return "no arguments"
	}
	names := make([]string, len(schema.Attributes))
	for i, a := range schema.Attributes {
		names[i] = a.Name
	}
	return "only " + strings.Join(names, ", ")
}

func blockList(schema *hcl.BodySchema) string {
	if len(schema.Blocks) == 0 {
		return "no blocks"
	}
	names := make([]string, len(schema.Blocks))
	for i, b := range schema.Blocks {
		names[i] = b.Type
	}
	return "only " + strings.Join(names, ", ") + " blocks"
}
