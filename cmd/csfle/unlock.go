package main

import (
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/csfle/csfle/state"
)

func forceUnlockCommand() *cli.Command {
	return &cli.Command{
		Name:      "force-unlock",
		Usage:     "clear a state lock left by a run that died",
		ArgsUsage: "LOCK_ID",
		Description: `A run that is waiting for the state lock names its holder and the lock id.
The local lock is released by the operating system when its holder dies, so
a crash leaves at most a stale record of the holder; force-unlock clears it
when LOCK_ID matches. It refuses while the holder is still running: stop
that process instead.`,
		Flags: concat([]cli.Flag{&cli.StringFlag{Name: "state", Usage: "state file `PATH`", Value: "csfle.state.json"}}),
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 1); err != nil {
				return err
			}
			if c.NArg() != 1 {
				return cli.Exit("Error: csfle force-unlock needs the LOCK_ID that the waiting run printed", exitError)
			}
			path := c.String("state")
			if !filepath.IsAbs(path) {
				path = filepath.Join(".", path)
			}
			held, err := state.NewLocal(path).ForceUnlock(c.Args().First())
			if err != nil {
				return cli.Exit(fmt.Sprintf("Error: %v", err), exitError)
			}
			if held.ID == "" {
				fmt.Fprintln(c.App.Writer, "The state is not locked; nothing to do.")
				return nil
			}
			fmt.Fprintf(c.App.Writer, "Cleared the lock %s left by %s (%s, pid %d).\n", held.ID, held.Who, held.Operation, held.PID)
			return nil
		},
	}
}
