// Package e2e holds csfle's end-to-end tests: the real csfle binary, run as
// a user would, against the development environment (FerretDB and
// local-kms on 127.0.0.1, in the test process). It has no non-test code.
package e2e
