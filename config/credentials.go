package config

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/csfle/csfle/secret"
)

// Credentials of the cloud providers. Each secret may be written inline
// (with a warning), read with file() or env(), or given to a sensitive
// variable; nothing about its value ever goes into a diagnostic.

func (l *loader) decodeAzure(p *Provider, attrs hcl.Attributes, missing hcl.Range) {
	var c credentials
	p.TenantID = l.optionalString(attrs["tenant_id"], "tenant_id")
	p.ClientID = c.plain(l, attrs["client_id"], "client_id")
	p.ClientSecret = c.secret(l, attrs["client_secret"], "client_secret", `file("azure-client-secret.txt")`, "AZURE_CLIENT_SECRET")
	p.AccessToken = c.secret(l, attrs["access_token"], "access_token", `file("azure-token.txt")`, "AZURE_ACCESS_TOKEN")
	c.checkForms(l, p, attrs, missing, credentialForms{
		provider: "Azure",
		pair:     [2]string{"client_id", "client_secret"},
		pairWhat: "the client ID and client secret of an app registration",
		examples: map[string]string{
			"client_id":     `client_id = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"`,
			"client_secret": `client_secret = file("azure-client-secret.txt")`,
			"access_token":  `access_token = env("AZURE_ACCESS_TOKEN")`,
		},
	})
	if attr := attrs["identity_platform_endpoint"]; attr != nil {
		p.IdentityPlatformEndpoint = l.optionalString(attr, "identity_platform_endpoint")
		l.checkEndpoint(p.IdentityPlatformEndpoint, "identity_platform_endpoint", "login.microsoftonline.com", attr.Expr.Range())
	}
}

func (l *loader) decodeGCP(p *Provider, attrs hcl.Attributes, missing hcl.Range) {
	var c credentials
	p.Email = c.plain(l, attrs["email"], "email")
	if attr := attrs["email"]; attr != nil && p.Email != "" && !strings.Contains(p.Email, "@") {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid service account email",
			Detail: fmt.Sprintf("email is the email address of a GCP service account, such as csfle@my-project.iam.gserviceaccount.com; %q has no @.",
				p.Email),
			Subject: attr.Expr.Range().Ptr(),
		})
	}
	key := c.secret(l, attrs["private_key"], "private_key", `file("gcp-private-key.pem")`, "GCP_PRIVATE_KEY")
	if !key.IsZero() {
		der, d := decodeGCPPrivateKey(key, attrs["private_key"].Expr.Range())
		if d != nil {
			l.report(d)
		}
		p.PrivateKey = der
	}
	p.AccessToken = c.secret(l, attrs["access_token"], "access_token", `file("gcp-token.txt")`, "GCP_ACCESS_TOKEN")
	c.checkForms(l, p, attrs, missing, credentialForms{
		provider: "GCP",
		pair:     [2]string{"email", "private_key"},
		pairWhat: "the email and private key of a service account",
		examples: map[string]string{
			"email":        `email = "csfle@my-project.iam.gserviceaccount.com"`,
			"private_key":  `private_key = file("gcp-private-key.pem")`,
			"access_token": `access_token = env("GCP_ACCESS_TOKEN")`,
		},
	})
}

func (l *loader) decodeKMIP(p *Provider, attrs hcl.Attributes) {
	p.ClientCertFile, p.ClientKeyFile = l.clientCertificate(attrs["client_cert_file"], attrs["client_key_file"])
}

// credentials tracks which credential attributes of a kms block are set (to
// a non-empty value) and whether any failed to evaluate, in which case the
// checks across attributes are skipped: the failure was reported already.
type credentials struct {
	set    map[string]bool
	failed bool
}

func (c *credentials) record(name string, ok, nonEmpty bool) {
	if c.set == nil {
		c.set = make(map[string]bool)
	}
	c.failed = c.failed || !ok
	c.set[name] = ok && nonEmpty
}

func (c *credentials) plain(l *loader, attr *hcl.Attribute, name string) string {
	if attr == nil {
		return ""
	}
	s, ok, diags := l.eval.plainString(attr.Expr, name)
	l.report(diags...)
	c.record(name, ok, s != "")
	return s
}

// secret evaluates a secret attribute. One written inline is allowed, with a
// warning that shows how to read it from a file or the environment.
func (c *credentials) secret(l *loader, attr *hcl.Attribute, name, fileExample, envExample string) secret.Value {
	if attr == nil {
		return secret.Value{}
	}
	v, ok, diags := l.eval.secretString(attr.Expr, name)
	l.report(diags...)
	c.record(name, ok, !v.IsZero())
	if ok && !v.IsZero() && isInline(attr.Expr) {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Secret written in the configuration",
			Detail: fmt.Sprintf("%s is a secret, and written here it is in version control and in every copy of these files. "+
				"Read it from a file kept out of version control or from the environment, as in %s = %s or %s = env(%q), "+
				"or give it to a sensitive variable.", name, name, fileExample, name, envExample),
			Subject: attr.Expr.Range().Ptr(),
		})
	}
	return v
}

// credentialForms describes the two ways to authenticate to a provider: a
// pair of attributes, or an access_token.
type credentialForms struct {
	provider string    // "Azure"
	pair     [2]string // client_id, client_secret
	pairWhat string
	examples map[string]string // how to write each attribute
}

func (c *credentials) checkForms(l *loader, p *Provider, attrs hcl.Attributes, missing hcl.Range, f credentialForms) {
	if c.failed {
		return
	}
	first, second := c.set[f.pair[0]], c.set[f.pair[1]]
	token := c.set["access_token"]
	block := blockRef(p.Name)
	switch {
	case token && (first || second):
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Conflicting %s credentials", f.provider),
			Detail: fmt.Sprintf("A %s block takes either %s and %s, or access_token, not both. Remove access_token, or remove %s and %s.",
				block, f.pair[0], f.pair[1], f.pair[0], f.pair[1]),
			Subject: attrs["access_token"].Expr.Range().Ptr(),
		})
	case !token && !first && !second:
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Missing %s credentials", f.provider),
			Detail: fmt.Sprintf("A %s block needs %s, as in %s with %s, or an access token, as in %s.",
				block, f.pairWhat, f.examples[f.pair[0]], f.examples[f.pair[1]], f.examples["access_token"]),
			Subject: missing.Ptr(),
		})
	case first != second:
		absent, present := f.pair[1], f.pair[0]
		if second {
			absent, present = present, absent
		}
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing " + absent,
			Detail: fmt.Sprintf("A %s block with %s needs %s too, as in %s; or remove %s and use access_token instead.",
				block, present, absent, f.examples[absent], present),
			Subject: missing.Ptr(),
		})
	}
}

// isInline reports whether an expression's value is written in the
// configuration itself: it neither refers to a variable nor calls file or env.
func isInline(expr hcl.Expression) bool {
	if len(expr.Variables()) > 0 {
		return false
	}
	se, ok := expr.(hclsyntax.Expression)
	if !ok {
		return false
	}
	inline := true
	_ = hclsyntax.VisitAll(se, func(n hclsyntax.Node) hcl.Diagnostics {
		if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && (call.Name == "file" || call.Name == "env") {
			inline = false
		}
		return nil
	})
	return inline
}

// decodeGCPPrivateKey decodes a service account's private key, given as PEM
// (the "-----BEGIN PRIVATE KEY-----" of the service account's JSON key file)
// or as base64 of its DER encoding, and checks that it is what libmongocrypt
// signs its token requests with: an unencrypted PKCS#8 RSA key. It returns the
// DER bytes. Nothing about the key's content goes into the diagnostic.
func decodeGCPPrivateKey(key secret.Value, rng hcl.Range) (secret.Value, *hcl.Diagnostic) {
	invalid := func(why string) (secret.Value, *hcl.Diagnostic) {
		return secret.Value{}, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid GCP private key",
			Detail:   "private_key is the private key of a GCP service account, in PEM or as base64 of its DER encoding; " + why,
			Subject:  rng.Ptr(),
		}
	}
	text := strings.TrimSpace(key.RevealString())
	var der []byte
	switch {
	case strings.HasPrefix(text, "{"):
		return invalid(`this looks like a whole JSON key file. Put the value of its "private_key" field in a file of its own ` +
			`(jq -r .private_key key.json > gcp-private-key.pem) and read that with file().`)
	case strings.Contains(text, "-----BEGIN"):
		block, _ := pem.Decode([]byte(text))
		switch {
		case block == nil:
			return invalid("this value starts like PEM but is not valid PEM.")
		case block.Type == "RSA PRIVATE KEY":
			return invalid("this is a PKCS#1 key (BEGIN RSA PRIVATE KEY), and MongoDB needs PKCS#8. " +
				"Convert it with `openssl pkcs8 -topk8 -nocrypt -in key.pem -out gcp-private-key.pem`.")
		case block.Type == "ENCRYPTED PRIVATE KEY":
			return invalid("this key is encrypted with a passphrase, and MongoDB needs it unencrypted. " +
				"Decrypt it with `openssl pkcs8 -in key.pem -out gcp-private-key.pem` and keep the file safe.")
		case block.Type != "PRIVATE KEY":
			return invalid("this PEM does not start with a private key (BEGIN PRIVATE KEY).")
		}
		der = block.Bytes
	default:
		compact := strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return -1
			}
			return r
		}, text)
		raw, err := base64.StdEncoding.DecodeString(compact)
		if err != nil {
			return invalid("this value is neither PEM nor valid base64.")
		}
		der = raw
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		if _, err := x509.ParsePKCS1PrivateKey(der); err == nil {
			return invalid("this is a PKCS#1 RSA key, and MongoDB needs PKCS#8. " +
				"Convert it with `openssl pkcs8 -topk8 -nocrypt -in key.pem -out gcp-private-key.pem`.")
		}
		return invalid("this value decodes, but not to a PKCS#8 private key.")
	}
	if _, ok := parsed.(*rsa.PrivateKey); !ok {
		return invalid(fmt.Sprintf("this is a %s key, and GCP service accounts sign with RSA keys.", keyAlgorithm(parsed)))
	}
	return secret.New(der), nil
}

func keyAlgorithm(key any) string {
	switch key.(type) {
	case *ecdsa.PrivateKey:
		return "an ECDSA"
	case ed25519.PrivateKey:
		return "an Ed25519"
	case *ecdh.PrivateKey:
		return "an ECDH"
	}
	return "a non-RSA"
}

var (
	// An IAM role ARN: arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME.
	roleARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]+:role/[\w+=,.@/-]+$`)
	// The characters STS accepts in a RoleSessionName and an ExternalId.
	sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]+$`)
	externalIDRE  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

// decodeAssumeRole decodes role_arn, external_id and session_name, with
// which the kms package assumes a role on top of the default chain's
// credentials.
func (l *loader) decodeAssumeRole(p *Provider, attrs hcl.Attributes) {
	if attr := attrs["role_arn"]; attr != nil {
		p.RoleARN = l.optionalString(attr, "role_arn")
		if p.RoleARN != "" && !roleARNRE.MatchString(p.RoleARN) {
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid role ARN",
				Detail: fmt.Sprintf("role_arn is the ARN of an IAM role to assume, such as arn:aws:iam::111122223333:role/csfle; %q is not one.",
					p.RoleARN),
				Subject: attr.Expr.Range().Ptr(),
			})
		}
	}
	for _, f := range []struct {
		name, what string
		re         *regexp.Regexp
		max        int
		dst        *string
	}{
		{"external_id", "the external ID the role's trust policy requires: 2 to 1224 letters, digits and +=,.@:/-_", externalIDRE, 1224, &p.ExternalID},
		{"session_name", "the name of the assumed-role session, shown in CloudTrail: 2 to 64 letters, digits and +=,.@-_", sessionNameRE, 64, &p.SessionName},
	} {
		attr := attrs[f.name]
		if attr == nil {
			continue
		}
		*f.dst = l.optionalString(attr, f.name)
		switch {
		case *f.dst == "":
		case attrs["role_arn"] == nil:
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing role_arn",
				Detail: fmt.Sprintf("%s is used when assuming a role, and the %s block names none. Set role_arn, or remove %s.",
					f.name, blockRef(p.Name), f.name),
				Subject: attr.NameRange.Ptr(),
			})
		case len(*f.dst) < 2 || len(*f.dst) > f.max || !f.re.MatchString(*f.dst):
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid " + f.name,
				Detail:   fmt.Sprintf("%s is %s; %q is not.", f.name, f.what, *f.dst),
				Subject:  attr.Expr.Range().Ptr(),
			})
		}
	}
}
