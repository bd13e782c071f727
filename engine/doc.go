// Package engine runs csfle's operations for the command line: it loads the
// configuration, takes the state lock, reads the state and the key vault,
// asks the planner for a plan, makes the plan-time checks that need I/O, and
// hands a plan to the executor with a state recorder.
//
// It holds the sequence, not the decisions: those are the planner's and the
// executor's. The command line parses flags, calls this package and picks a
// view; nothing here prints.
package engine
