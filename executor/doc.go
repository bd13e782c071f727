// Package executor carries out a plan: it walks the changes in order, calls
// the vault for each, reads back what it wrote and checks it against the
// plan, proves that a rewrapped key still decrypts, and records the state
// after every step, so a crash at any point leaves a state that a new plan
// and apply complete.
//
// It owns the narrow interfaces it needs (Vault, Recorder) and never imports
// the driver, HCL or the state file format.
package executor
