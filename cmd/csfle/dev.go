package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/urfave/cli/v2"
)

func devCommand() *cli.Command {
	return &cli.Command{
		Name:            "dev",
		Usage:           "start a throwaway development environment (MongoDB-compatible server and AWS KMS on 127.0.0.1)",
		SkipFlagParsing: true,
		Description: `Runs csfle-dev, which starts FerretDB (speaking the MongoDB wire protocol)
and local-kms (the AWS KMS API, over TLS) in one process on 127.0.0.1, creates
a symmetric CMK, and prints the environment variables to export. The servers
live in a separate binary so that csfle itself never links them. Arguments are
passed to csfle-dev; see csfle dev -h.`,
		Action: func(c *cli.Context) error {
			bin, err := findDevBinary()
			if err != nil {
				return cli.Exit(fmt.Sprintf("Error: %v", err), exitError)
			}
			cmd := exec.Command(bin, c.Args().Slice()...)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = c.App.Reader, c.App.Writer, c.App.ErrWriter
			if err := cmd.Run(); err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					return cli.Exit("", ee.ExitCode())
				}
				return cli.Exit(fmt.Sprintf("Error: %v", err), exitError)
			}
			return nil
		},
	}
}

// findDevBinary looks next to csfle first, then on PATH.
func findDevBinary() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "csfle-dev")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("csfle-dev"); err == nil {
		return p, nil
	}
	return "", errors.New("csfle-dev was not found next to csfle or on PATH; build both with: make build")
}
