package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/urfave/cli/v2"

	"github.com/csfle/csfle/config"
)

func fmtCommand() *cli.Command {
	return &cli.Command{
		Name:      "fmt",
		Usage:     "rewrite configuration files in the canonical format",
		ArgsUsage: "[DIR or FILE...]",
		Description: `Formats every *.csfle.hcl file in the current directory (or the directories
and files given) and prints the name of each file it changed. With -check,
changes nothing and exits 3 if any file is not formatted, for CI.`,
		Flags: concat([]cli.Flag{
			&cli.BoolFlag{Name: "check", Usage: "write nothing; exit 3 if a file needs formatting"},
		}),
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 1048576); err != nil {
				return err
			}
			targets := c.Args().Slice()
			if len(targets) == 0 {
				targets = []string{"."}
			}
			files, err := fmtTargets(targets)
			if err != nil {
				return cli.Exit(fmt.Sprintf("Error: %v", err), exitError)
			}
			unformatted := 0
			for _, f := range files {
				src, err := os.ReadFile(f)
				if err != nil {
					return cli.Exit(fmt.Sprintf("Error: %v", err), exitError)
				}
				out, diags := config.Format(src, f)
				if diags.HasErrors() {
					writeDiags(c.App.ErrWriter, nil, diags, viewOptions(c).Color)
					return cli.Exit("", exitError)
				}
				if bytes.Equal(src, out) {
					continue
				}
				unformatted++
				fmt.Fprintln(c.App.Writer, f)
				if !c.Bool("check") {
					if err := writeKeepingMode(f, out); err != nil {
						return cli.Exit(fmt.Sprintf("Error: %v", err), exitError)
					}
				}
			}
			if c.Bool("check") && unformatted > 0 {
				return cli.Exit("", exitFmt)
			}
			return nil
		},
	}
}

func fmtTargets(targets []string) ([]string, error) {
	var files []string
	for _, t := range targets {
		info, err := os.Stat(t)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			files = append(files, t)
			continue
		}
		entries, err := os.ReadDir(t)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !e.IsDir() && config.IsConfigFile(e.Name()) {
				files = append(files, filepath.Join(t, e.Name()))
			}
		}
	}
	sort.Strings(files)
	return files, nil
}

// writeKeepingMode replaces a file atomically, keeping its permissions.
func writeKeepingMode(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".csfle-fmt-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(info.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
