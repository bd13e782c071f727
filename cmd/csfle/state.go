package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/csfle/csfle/engine"
)

func stateCommand() *cli.Command {
	return &cli.Command{
		Name:  "state",
		Usage: "work with the state and the key backups",
		Subcommands: []*cli.Command{{
			Name:      "restore",
			Usage:     "put a deleted key back into the key vault from its backup",
			ArgsUsage: "BACKUPFILE",
			Description: `Before every rewrap and delete, csfle keeps the key's document (its wrapped
key material included) in csfle.state.json.backups/, readable by its owner
only. This puts such a key back into the key vault, with the same id, alt
names, master key and key material, so data encrypted with it can be
decrypted again, provided the master key that wrapped it is still there.
It refuses when a key with that id exists, or another key now carries one of
its alt names. Afterwards, add its data_key block back and run csfle plan:
the key is adopted by its alt name.`,
			Flags:        concat(varFlags(), stateFlags()),
			OnUsageError: usageError,
			Action: func(c *cli.Context) error {
				if err := checkArgs(c, 1); err != nil {
					return err
				}
				if c.NArg() != 1 {
					return cli.Exit("Error: csfle state restore needs the BACKUPFILE to restore", exitError)
				}
				b, err := engine.ReadKeyBackup(c.Args().First())
				if err != nil {
					return cli.Exit(fmt.Sprintf("Error: %v", err), exitError)
				}
				o := engineOptions(c)
				cfg, err := loadConfig(c, o)
				if err != nil {
					return err
				}
				ctx := context.Background()
				s, err := engine.Open(ctx, cfg, o, "state restore")
				if err != nil {
					return failure(c, cfg.Files, err)
				}
				defer s.Close(ctx)
				id, err := s.Restore(ctx, b)
				if err != nil {
					return failure(c, cfg.Files, err)
				}
				fmt.Fprintf(c.App.Writer, "Restored key %s (%s, backed up %s).\nDeclare its data_key block again and run csfle plan: it is adopted by its alt name.\n",
					id, b.Address, b.CreatedAt.Format("2006-01-02 15:04:05 UTC"))
				return nil
			},
		}},
	}
}
