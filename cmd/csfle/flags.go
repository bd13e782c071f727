package main

import (
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
	if o.LockTimeout == 0 {
		o.LockTimeout = time.Millisecond // try once
	}
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
