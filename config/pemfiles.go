package config

import (
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// PEM files that TLS settings name: ca_file of every provider but local, and
// the client certificate and key of kmip. They are read at load time, so that
// a wrong path or a file of the wrong kind is reported at the line that names
// it instead of when a plan first connects. Only the PEM block types are
// looked at; the contents are for the kms package, and never printed.

// pemContents is what a PEM file holds.
type pemContents struct {
	certificates int
	privateKey   bool // an unencrypted private key, of any algorithm
	encryptedKey bool
}

func readPEM(path string) (pemContents, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return pemContents{}, err
	}
	var c pemContents
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return c, nil
		}
		switch {
		case block.Type == "CERTIFICATE":
			c.certificates++
		case block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "":
			c.encryptedKey = true
		case strings.HasSuffix(block.Type, "PRIVATE KEY"):
			c.privateKey = true
		}
	}
}

// pemFile evaluates an attribute that names a PEM file, resolves it against
// the configuration directory and reads it. ok is false when the path is
// empty or in error; an unreadable file is reported here.
func (l *loader) pemFile(attr *hcl.Attribute, name, summary, what string) (path string, c pemContents, ok bool) {
	if attr == nil {
		return "", c, false
	}
	f := l.optionalString(attr, name)
	if f == "" {
		return "", c, false
	}
	path = l.resolve(f)
	c, err := readPEM(path)
	if err != nil {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  summary,
			Detail:   fmt.Sprintf("%s names %s, relative to the configuration directory; %s cannot be read: %v.", name, what, f, err),
			Subject:  attr.Expr.Range().Ptr(),
		})
		return path, c, false
	}
	return path, c, true
}

// caFile decodes ca_file: certificates to trust for a provider's endpoints.
func (l *loader) caFile(attr *hcl.Attribute) string {
	path, c, ok := l.pemFile(attr, "ca_file", "Cannot read CA file", "a PEM file of certificates to trust")
	if ok && c.certificates == 0 {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No certificates in CA file",
			Detail:   "ca_file names a PEM file of certificates to trust, and this file holds no PEM certificate (BEGIN CERTIFICATE).",
			Subject:  attr.Expr.Range().Ptr(),
		})
	}
	return path
}

// clientCertificate decodes client_cert_file and client_key_file: the TLS
// client certificate, and its key if the certificate file lacks it.
func (l *loader) clientCertificate(certAttr, keyAttr *hcl.Attribute) (certFile, keyFile string) {
	certFile, cert, certOK := l.pemFile(certAttr, "client_cert_file", "Cannot read client certificate file",
		"a PEM file with the TLS client certificate (and its private key, unless client_key_file names it)")
	keyFile, key, keyOK := l.pemFile(keyAttr, "client_key_file", "Cannot read client key file",
		"a PEM file with the private key of the TLS client certificate")

	if keyAttr != nil && certAttr == nil {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing client_cert_file",
			Detail:   "client_key_file is the private key of a TLS client certificate, and client_cert_file names none. Set client_cert_file, or remove client_key_file.",
			Subject:  keyAttr.NameRange.Ptr(),
		})
	}
	if certOK && cert.certificates == 0 {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No certificate in client certificate file",
			Detail:   "client_cert_file names a PEM file with the TLS client certificate, and this file holds no PEM certificate (BEGIN CERTIFICATE).",
			Subject:  certAttr.Expr.Range().Ptr(),
		})
	}
	switch {
	case keyOK:
		if d := keyProblem(key, "client_key_file", keyAttr.Expr.Range()); d != nil {
			l.report(d)
		}
	case certOK && keyAttr == nil && cert.certificates > 0:
		if d := keyProblem(cert, "client_cert_file", certAttr.Expr.Range()); d != nil {
			d.Detail += " Put the key in the same file after the certificate, or name its file with client_key_file."
			l.report(d)
		}
	}
	return certFile, keyFile
}

func keyProblem(c pemContents, name string, rng hcl.Range) *hcl.Diagnostic {
	switch {
	case c.privateKey:
		return nil
	case c.encryptedKey:
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Encrypted client key",
			Detail: fmt.Sprintf("The private key in %s is encrypted with a passphrase, which csfle cannot supply. "+
				"Decrypt it with `openssl pkey -in key.pem -out client-key.pem` and keep the file safe.", name),
			Subject: rng.Ptr(),
		}
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "No private key for the client certificate",
		Detail:   fmt.Sprintf("%s holds no PEM private key (BEGIN PRIVATE KEY, or BEGIN RSA or EC PRIVATE KEY).", name),
		Subject:  rng.Ptr(),
	}
}
