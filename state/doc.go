// Package state owns what csfle remembers between runs: the state document
// (format version, serial, lineage and the data keys it manages), the
// backends that store it, the lock that keeps two runs from applying at
// once, atomic replacement with a backup of the previous version, and the
// saved-plan file that `plan -out` writes and `apply FILE` reads.
//
// A state never holds key material or credentials: only addresses, key ids,
// alt names and master key descriptions (model.PriorKey).
//
// Backends follow one contract, Backend, which the conformance suite in
// package statetest checks for every implementation. Local keeps the state
// in a JSON file beside the configuration; Memory keeps it in memory for
// tests of other packages.
//
// This package must never import the MongoDB driver, HCL or cty, or
// anything that talks to the network. A backend that stores state in
// MongoDB belongs with the code that talks to MongoDB and reuses Encode and
// Decode from here.
package state
