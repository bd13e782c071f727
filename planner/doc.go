// Package planner computes a plan from what the configuration wants
// (model.Desired), what the key vault holds (model.Live) and what the state
// recorded at the last apply (model.Prior).
//
// It is a pure function: no context, no clock, no driver, no filesystem, no
// network. Everything it needs is in its arguments, which is what makes it
// easy to test with tables and to trust. Checks that need I/O (can the
// configured credentials unwrap a key?) are made by the caller on the plan
// this package returns. It must never import anything that does I/O; a test
// holds it to that.
package planner
