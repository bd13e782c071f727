// Package devenv runs a throwaway csfle development environment in-process:
// an embedded FerretDB (SQLite backend) standing in for MongoDB, and
// local-kms serving the AWS KMS API over TLS with a CA of its own making.
// Both listen on 127.0.0.1 only.
//
// It owns the servers' lifecycle, the environment directory's layout (SQLite
// files, the KMS's LevelDB, the CA certificate, a record of the last run's
// ports and CMK) and the shell exports that point clients at it.
//
// It is a tool for tests and for cmd/csfle-dev. The product binary cmd/csfle
// must never import it: it links a database server and a fake KMS, and its
// credentials are dummies that local-kms accepts without checking.
//
// local-kms keeps its region and account id in package globals, and FerretDB
// writes a global at construction. devenv sets the former once per process
// (region us-east-1, account 111122223333) and serializes the latter, so any
// number of environments can run side by side in one process.
package devenv
