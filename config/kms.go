package config

import (
	"encoding/base64"
	"fmt"
	"net"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/secret"
)

// LocalKeySize is the size of a local master key, in bytes.
const LocalKeySize = 96

var kmsSchemas = map[string]*hcl.BodySchema{
	model.KindLocal: {Attributes: []hcl.AttributeSchema{
		{Name: "key"},
	}},
	model.KindAWS: {Attributes: []hcl.AttributeSchema{
		{Name: "region"}, {Name: "profile"}, {Name: "endpoint"}, {Name: "ca_file"},
		{Name: "role_arn"}, {Name: "external_id"}, {Name: "session_name"},
	}},
	model.KindAzure: {Attributes: []hcl.AttributeSchema{
		{Name: "tenant_id"}, {Name: "client_id"}, {Name: "client_secret"}, {Name: "access_token"},
		{Name: "identity_platform_endpoint"}, {Name: "ca_file"},
	}},
	model.KindGCP: {Attributes: []hcl.AttributeSchema{
		{Name: "email"}, {Name: "private_key"}, {Name: "access_token"}, {Name: "endpoint"}, {Name: "ca_file"},
	}},
	model.KindKMIP: {Attributes: []hcl.AttributeSchema{
		{Name: "endpoint"}, {Name: "client_cert_file"}, {Name: "client_key_file"}, {Name: "ca_file"},
	}},
}

// kmsRequired are the attributes each kind cannot do without. Credentials
// that come in alternative forms (azure, gcp) are checked apart.
var kmsRequired = map[string][]string{
	model.KindLocal: {"key"},
	model.KindAzure: {"tenant_id"},
	model.KindKMIP:  {"endpoint"},
}

// endpointExamples are shown in the diagnostic for an invalid endpoint of
// each kind's kms block.
var endpointExamples = map[string]string{
	model.KindAWS:  "kms.us-east-1.amazonaws.com or localhost:4566",
	model.KindGCP:  "oauth2.googleapis.com",
	model.KindKMIP: "kmip.example.com:5696",
}

// decodeProviders decodes the kms blocks. It returns the providers by name,
// and every name that a kms block declares, including blocks that were
// refused, so that keys referring to them are not reported a second time.
func (l *loader) decodeProviders(blocks []*hclsyntax.Block) (map[string]*Provider, map[string]hcl.Range) {
	providers := make(map[string]*Provider)
	declared := make(map[string]hcl.Range)
	for _, b := range blocks {
		kind := b.Labels[0]
		name := kind
		if len(b.Labels) == 2 {
			name = kind + ":" + b.Labels[1]
		}
		if first, ok := declared[name]; ok {
			l.report(duplicate("Duplicate kms block", "A "+blockRef(name)+" block", first, b.DefRange()))
			continue
		}
		declared[name] = b.DefRange()

		switch kind {
		case model.KindLocal, model.KindAWS, model.KindAzure, model.KindGCP, model.KindKMIP:
		default:
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown KMS provider kind",
				Detail:   fmt.Sprintf("%q is not a KMS provider. MongoDB knows local, aws, azure, gcp and kmip.", kind),
				Subject:  b.LabelRanges[0].Ptr(),
			})
			continue
		}
		if len(b.Labels) == 2 {
			if !namedProvidersSupported(l.opts.LibmongocryptVersion) {
				l.report(l.namedProviderRefused(b))
				continue
			}
			if !hclsyntax.ValidIdentifier(b.Labels[1]) {
				l.report(invalidName("kms", b.Labels[1], b.LabelRanges[1]))
			}
		}
		providers[name] = l.decodeProvider(b, name, kind)
	}
	return providers, declared
}

func (l *loader) namedProviderRefused(b *hclsyntax.Block) *hcl.Diagnostic {
	v := l.opts.LibmongocryptVersion
	why := "this csfle does not support them yet"
	switch {
	case v == "":
		why = "the version of the linked libmongocrypt is not known"
	case !versionAtLeast(v, 1, 9, 0):
		why = "this csfle is linked with libmongocrypt " + v
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Named KMS providers need libmongocrypt 1.9+",
		Detail: fmt.Sprintf("kms %q %q declares the named provider %s:%s, which needs libmongocrypt 1.9.0 or later, and %s. "+
			"Remove the label %q to configure the %s provider itself.", b.Labels[0], b.Labels[1], b.Labels[0], b.Labels[1], why, b.Labels[1], b.Labels[0]),
		Subject: b.LabelRanges[1].Ptr(),
	}
}

func (l *loader) decodeProvider(b *hclsyntax.Block, name, kind string) *Provider {
	p := &Provider{Name: name, Kind: kind, DeclRange: b.DefRange()}
	attrs := l.content(b.Body, kmsSchemas[kind], "A "+blockRef(name)+" block", kmsRequired[kind]...).Attributes
	missing := b.Body.MissingItemRange()

	switch kind {
	case model.KindLocal:
		l.decodeLocal(p, attrs)
	case model.KindAWS:
		l.decodeAWS(p, attrs)
	case model.KindAzure:
		l.decodeAzure(p, attrs, missing)
	case model.KindGCP:
		l.decodeGCP(p, attrs, missing)
	case model.KindKMIP:
		l.decodeKMIP(p, attrs)
	}
	if attr := attrs["endpoint"]; attr != nil {
		p.Endpoint = l.optionalString(attr, "endpoint")
		l.checkEndpoint(p.Endpoint, "endpoint", endpointExamples[kind], attr.Expr.Range())
	}
	p.CAFile = l.caFile(attrs["ca_file"])
	return p
}

func (l *loader) decodeLocal(p *Provider, attrs hcl.Attributes) {
	attr, ok := attrs["key"]
	if !ok {
		return
	}
	key, ok, diags := l.eval.secretString(attr.Expr, "key")
	l.report(diags...)
	if !ok {
		return
	}
	raw, d := decodeLocalKey(key, attr.Expr.Range())
	if d != nil {
		l.report(d)
		return
	}
	p.LocalKey = raw
}

func (l *loader) decodeAWS(p *Provider, attrs hcl.Attributes) {
	p.Region = l.optionalString(attrs["region"], "region")
	p.Profile = l.optionalString(attrs["profile"], "profile")
	l.decodeAssumeRole(p, attrs)
}

// optionalString evaluates an optional, non-secret string attribute; absent,
// null and in error are all "".
func (l *loader) optionalString(attr *hcl.Attribute, what string) string {
	if attr == nil {
		return ""
	}
	s, _, diags := l.eval.plainString(attr.Expr, what)
	l.report(diags...)
	return s
}

// resolve makes a path relative to the configuration directory.
func (l *loader) resolve(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(l.dir, path)
}

// decodeLocalKey decodes a local master key: base64 of 96 bytes. Whitespace
// anywhere is ignored, so the wrapped output of `openssl rand -base64 96`
// works as it is. Nothing about the key's content goes into the diagnostic.
func decodeLocalKey(key secret.Value, rng hcl.Range) (secret.Value, *hcl.Diagnostic) {
	compact := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, key.RevealString())
	raw, err := base64.StdEncoding.DecodeString(compact)
	if err != nil {
		return secret.Value{}, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Local master key is not valid base64",
			Detail: fmt.Sprintf("key must be the base64 encoding of %d random bytes, such as the output of "+
				"`openssl rand -base64 %d`; this value is not valid base64.", LocalKeySize, LocalKeySize),
			Subject: rng.Ptr(),
		}
	}
	if len(raw) != LocalKeySize {
		return secret.Value{}, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Local master key must be 96 bytes",
			Detail: fmt.Sprintf("key decodes to %d bytes; a local master key is exactly %d. Generate one with `openssl rand -base64 %d`.",
				len(raw), LocalKeySize, LocalKeySize),
			Subject: rng.Ptr(),
		}
	}
	return secret.New(raw), nil
}

// checkEndpoint reports an endpoint that is not host[:port]; example shows
// what one looks like.
func (l *loader) checkEndpoint(endpoint, what, example string, rng hcl.Range) {
	if endpoint == "" {
		return
	}
	if problem := endpointProblem(endpoint); problem != "" {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid KMS endpoint",
			Detail:   fmt.Sprintf("%s is a host name with an optional port, such as %s; %s.", what, example, problem),
			Subject:  rng.Ptr(),
		})
	}
}

func endpointProblem(endpoint string) string {
	if strings.Contains(endpoint, "://") {
		return "remove the scheme (" + endpoint[:strings.Index(endpoint, "://")+3] + ")"
	}
	if strings.ContainsAny(endpoint, "/?# ") {
		return fmt.Sprintf("%q holds more than a host and a port", endpoint)
	}
	host := endpoint
	if strings.Contains(endpoint, ":") {
		h, port, err := net.SplitHostPort(endpoint)
		if err != nil {
			return fmt.Sprintf("%q is not host:port", endpoint)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("the port %q is not a number from 1 to 65535", port)
		}
		host = h
	}
	if host == "" {
		return "the host is empty"
	}
	return ""
}

// blockRef is how a provider name is written as a block header:
// kms "aws" "prod" for aws:prod.
func blockRef(name string) string {
	parts := strings.Split(name, ":")
	for i, p := range parts {
		parts[i] = strconv.Quote(p)
	}
	return "kms " + strings.Join(parts, " ")
}

// exprRef is how a provider name is written in a reference: kms.aws.prod.
func exprRef(name string) string { return "kms." + strings.ReplaceAll(name, ":", ".") }

func declaredProviders(declared map[string]hcl.Range) string {
	if len(declared) == 0 {
		return "the configuration declares no kms blocks."
	}
	refs := make([]string, 0, len(declared))
	for name := range declared {
		refs = append(refs, exprRef(name))
	}
	sort.Strings(refs)
	return "the declared providers are " + strings.Join(refs, ", ") + "."
}
