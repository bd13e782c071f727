// Package model holds the plain values that flow between csfle's packages:
// what the configuration wants (Desired), what the key vault holds (Live) and
// the addresses, key ids and master keys they are described with.
//
// It is the neutral ground of the data flow: config produces these values,
// vault reads them, state records them and the planner compares them. It
// must never import HCL, cty, the MongoDB driver or anything that does I/O.
package model
