package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/hcl/v2"
	"github.com/urfave/cli/v2"

	"github.com/csfle/csfle/config"
	"github.com/csfle/csfle/engine"
)

// writeDiags prints diagnostics with source snippets, as HCL tools do, from
// sources whose secrets are masked.
func writeDiags(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, color bool) {
	if len(diags) == 0 {
		return
	}
	if files == nil {
		files = config.Sources(diags)
	}
	dw := hcl.NewDiagnosticTextWriter(w, config.RedactSources(files), 100, color)
	_ = dw.WriteDiagnostics(diags)
}

// failure turns an error into the command's exit, printing diagnostics
// where the error carries them.
func failure(c *cli.Context, files map[string]*hcl.File, err error) error {
	var refused *engine.Refused
	if errors.As(err, &refused) {
		writeDiags(c.App.ErrWriter, files, refused.Diagnostics, viewOptions(c).Color)
		return cli.Exit("", exitError)
	}
	return cli.Exit(fmt.Sprintf("Error: %v", err), exitError)
}

// checkArgs refuses more arguments than a command takes, and options
// written after an argument, which the parser would otherwise take as
// arguments and ignore.
func checkArgs(c *cli.Context, max int) error {
	for _, a := range c.Args().Slice() {
		if len(a) > 1 && a[0] == '-' {
			return cli.Exit(fmt.Sprintf("Error: option %s comes after an argument; put options first: csfle %s [options] %s", a, c.Command.Name, c.Command.ArgsUsage), exitError)
		}
	}
	if c.NArg() > max {
		return cli.Exit(fmt.Sprintf("Error: csfle %s takes at most %d argument(s) (%s), got %d", c.Command.Name, max, c.Command.ArgsUsage, c.NArg()), exitError)
	}
	return nil
}

// loadConfig evaluates the configuration, printing diagnostics; warnings do
// not stop it.
func loadConfig(c *cli.Context, o engine.Options) (*config.Config, error) {
	cfg, diags := engine.LoadConfig(o)
	var files map[string]*hcl.File
	if cfg != nil {
		files = cfg.Files
	}
	writeDiags(c.App.ErrWriter, files, diags, viewOptions(c).Color)
	if diags.HasErrors() {
		return nil, cli.Exit("", exitError)
	}
	return cfg, nil
}
