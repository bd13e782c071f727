package main

import (
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/csfle/csfle/engine"
	"github.com/csfle/csfle/render"
)

var noColorFlag = &cli.BoolFlag{Name: "no-color", Usage: "print no ANSI colour codes (also: NO_COLOR in the environment)"}

func varFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "var", Usage: "set a variable: `NAME=VALUE` (repeatable)"},
		&cli.StringSliceFlag{Name: "var-file", Usage: "read variables from an HCL `FILE` of NAME = VALUE lines (repeatable)"},
	}
}

func stateFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "state", Usage: "state file `PATH`", Value: engine.DefaultStateFile},
		&cli.DurationFlag{Name: "lock-timeout", Usage: "how long to wait for the state lock", Value: 0},
	}
}

// safetyFlags are the options of commands that may delete keys or
// recreate collections.
func safetyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "scan-all", Usage: "before deleting a key, scan every field of every collection of the cluster for data it encrypted, not only the declared encrypted fields"},
		&cli.BoolFlag{Name: "allow-replace", Usage: "allow recreating an empty Queryable Encryption collection whose encryptedFields changed (one holding documents is refused)"},
	}
}

func concat(groups ...[]cli.Flag) []cli.Flag {
	var out []cli.Flag
	for _, g := range groups {
		out = append(out, g...)
	}
	return append(out, noColorFlag)
}

// engineOptions reads the flags every state-touching command shares.
func engineOptions(c *cli.Context) engine.Options {
	o := engine.Options{
		Dir:         ".",
		Vars:        c.StringSlice("var"),
		VarFiles:    c.StringSlice("var-file"),
		StatePath:   c.String("state"),
		LockTimeout: c.Duration("lock-timeout"),
		Version:     version,
		Concurrency: 4,
	}
	if c.IsSet("concurrency") {
		o.Concurrency = c.Int("concurrency")
	}
	o.ScanAll = c.Bool("scan-all")
	o.AllowReplace = c.Bool("allow-replace")
	if o.LockTimeout == 0 {
		o.LockTimeout = time.Millisecond // try once
	}
	o.Notice = func(msg string) { fmt.Fprintln(c.App.ErrWriter, msg) }
	return o
}

// viewOptions decides colour: only on a terminal, never with -no-color or NO_COLOR.
func viewOptions(c *cli.Context) render.Options {
	if c.Bool("no-color") || anyParentNoColor(c) {
		return render.Options{}
	}
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return render.Options{}
	}
	f, ok := c.App.Writer.(*os.File)
	return render.Options{Color: ok && term.IsTerminal(int(f.Fd()))}
}

func anyParentNoColor(c *cli.Context) bool {
	for _, l := range c.Lineage() {
		if l.Bool("no-color") {
			return true
		}
	}
	return false
}

// isTerminal reports whether r is an interactive terminal.
func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// scanProgress shows a scan's progress on standard error when it is a
// terminal; done ends the line. Elsewhere both do nothing.
func scanProgress(c *cli.Context) (progress func(int64), done func()) {
	if !isTerminal(c.App.ErrWriter) {
		return nil, func() {}
	}
	shown := false
	return func(n int64) {
			shown = true
			fmt.Fprintf(c.App.ErrWriter, "\rScanning for data encrypted with the keys to delete: %d documents", n)
		}, func() {
			if shown {
				fmt.Fprintln(c.App.ErrWriter)
			}
		}
}
