package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/csfle/csfle/engine"
)

func providersCommand() *cli.Command {
	return &cli.Command{
		Name:  "providers",
		Usage: "check the health of each configured KMS provider",
		Description: `For each kms block: finds its credentials (for aws through the AWS SDK's
default chain), checks each aws master key the configuration names with
DescribeKey (exists, enabled, symmetric, ENCRYPT_DECRYPT, in its region),
and proves, for each master key that wraps keys in the state, that one of
those keys unwraps with the configured credentials. Nothing is written.
Exit status 0 when every check passes, 1 otherwise.`,
		Flags: concat(varFlags(), stateFlags(), []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the checks as JSON"},
		}),
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 0); err != nil {
				return err
			}
			o := engineOptions(c)
			cfg, err := loadConfig(c, o)
			if err != nil {
				return err
			}
			ctx := context.Background()
			s, err := engine.Open(ctx, cfg, o, "providers")
			if err != nil {
				return failure(c, cfg.Files, err)
			}
			defer s.Close(ctx)
			checks := s.Health(ctx)
			failed := 0
			for _, hc := range checks {
				if !hc.OK {
					failed++
				}
			}
			if c.Bool("json") {
				enc := json.NewEncoder(c.App.Writer)
				enc.SetIndent("", "  ")
				if err := enc.Encode(checks); err != nil {
					return err
				}
			} else {
				tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "PROVIDER\tCHECK\tRESULT")
				for _, hc := range checks {
					result := "ok"
					if !hc.OK {
						result = "FAILED: " + hc.Detail
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", hc.Provider, hc.Check, result)
				}
				_ = tw.Flush()
			}
			if failed > 0 {
				return cli.Exit(fmt.Sprintf("\n%d of %d checks failed.", failed, len(checks)), exitError)
			}
			return nil
		},
	}
}
