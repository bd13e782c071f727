// Package render shows a plan to people and to programs.
//
// It owns one thing: turning the versioned JSON plan document (the form a
// plan.Plan marshals to, format_version "1.x") into three views:
//
//   - JSON, the document itself, for -json and for tools in CI;
//   - Human, Terraform-like text for terminals and CI logs, in colour or not;
//   - Markdown, for pasting a plan into a pull request.
//
// The Human and Markdown views are not drawn from the plan.Plan value: the
// plan is marshalled exactly as JSON writes it and read back into this
// package's own document type, and both views render from that. So the text
// a reviewer reads can never say something the JSON does not, and a field the
// JSON leaves out cannot appear in the text.
//
// It also formats the executor's progress lines and the apply summary.
//
// render must never import the MongoDB driver, HCL, cty, or anything that does
// I/O; its only output is the io.Writer it is given. Whether to use colour is
// the caller's decision (Options), not something render finds out from the
// terminal or the environment. Strings that come from the key vault or the
// server (alt names, master key fields, database, collection and field names,
// reasons that quote them) are printed with control characters escaped, so a
// crafted alt name cannot drive the reader's terminal.
package render
