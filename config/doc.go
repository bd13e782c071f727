// Package config reads a csfle configuration: every *.csfle.hcl file of a
// directory, plus the values given for its variables.
//
// It owns the language (blocks, attributes, functions, variables and their
// precedence) and evaluates all of it up front into plain Go values that keep
// the hcl.Range they came from. Every mistake the user can make in a file is
// an hcl.Diagnostic with a terse Summary, a Detail that says how to fix it and
// a Subject pointing at the source. Nothing downstream of this package sees
// HCL expressions or cty values: they get a *Config, and model.Desired from it.
//
// Secrets (the key vault URI, a local master key, cloud credentials, anything
// derived from a sensitive variable) become secret.Value here and never
// appear in a diagnostic.
//
// The only I/O this package does is reading the configuration directory, the
// -var-file files and the files named by file(), ca_file, client_cert_file
// and client_key_file. It must never import the MongoDB driver,
// libmongocrypt, the AWS SDK or anything that talks to the network, and it
// never reads the process environment except through LoadOptions.LookupEnv.
package config
