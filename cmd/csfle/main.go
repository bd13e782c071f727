// Command csfle plans and applies MongoDB client-side field level encryption
// keys from a declarative configuration.
//
// This package only parses flags, calls the engine and picks a view.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit codes, as Terraform users expect them.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2 // plan -detailed-exitcode: the plan has changes
	exitFmt     = 3 // fmt -check: some file is not formatted
)

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := newApp(stdin, stdout, stderr)
	unknown := false
	app.CommandNotFound = func(c *cli.Context, name string) {
		unknown = true
		fmt.Fprintf(stderr, "Error: csfle has no command %q; csfle --help lists the commands.\n", name)
	}
	err := app.Run(args)
	if unknown {
		return exitError
	}
	if err == nil {
		return exitOK
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := ec.Error(); msg != "" {
			fmt.Fprintln(stderr, msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintf(stderr, "Error: %v\n", err)
	return exitError
}

// usageError reports a bad flag in one line, without printing the help to
// stdout, where it would spoil -json output.
func usageError(c *cli.Context, err error, _ bool) error {
	name := "csfle"
	if c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		name += " " + c.Command.Name
	}
	return cli.Exit(fmt.Sprintf("Error: %v. See %s -h.", err, name), exitError)
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:    "csfle",
		Usage:   "plan and apply MongoDB client-side field level encryption keys",
		Version: version,
		Description: `csfle manages the data encryption keys of MongoDB Client-Side Field Level
Encryption declaratively. Describe the KMS providers and data keys you want in
*.csfle.hcl files; "csfle plan" compares them with the live key vault and the
state file and prints an ordered plan; "csfle apply" carries it out and records
what it did in csfle.state.json.`,
		Reader:                 stdin,
		Writer:                 stdout,
		ErrWriter:              stderr,
		UseShortOptionHandling: false,
		ExitErrHandler:         func(*cli.Context, error) {}, // run() reports errors
		OnUsageError:           usageError,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "chdir", Usage: "switch to `DIR` before doing anything else"},
			noColorFlag,
		},
		Before: func(c *cli.Context) error {
			if dir := c.String("chdir"); dir != "" {
				if err := os.Chdir(dir); err != nil {
					return cli.Exit(fmt.Sprintf("Error: -chdir: %v", err), exitError)
				}
			}
			return nil
		},
		Commands: []*cli.Command{
			initCommand(),
			validateCommand(),
			fmtCommand(),
			planCommand(),
			applyCommand(),
			destroyCommand(),
			showCommand(),
			outputCommand(),
			schemaCommand(),
			providersCommand(),
			stateCommand(),
			forceUnlockCommand(),
			devCommand(),
			versionCommand(),
		},
	}
	for _, cmd := range app.Commands {
		cmd.OnUsageError = usageError
	}
	return app
}
