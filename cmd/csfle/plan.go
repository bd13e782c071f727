package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/csfle/csfle/engine"
	"github.com/csfle/csfle/plan"
	"github.com/csfle/csfle/planner"
	"github.com/csfle/csfle/render"
	"github.com/csfle/csfle/state"
)

func planCommand() *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Usage: "show the changes that would bring the key vault to the configuration",
		Description: `Reads the configuration, the state file and the live key vault (in one
pass), and prints the ordered changes apply would make, with the reason for
each, and any drift made outside csfle since the last apply. Nothing is written
except the -out file. A rewrap is only planned after csfle has proved it can
unwrap the key with the configured credentials.

Exit status: 0 success, 1 error; with -detailed-exitcode, 0 no changes,
1 error, 2 changes present.`,
		Flags: concat(varFlags(), stateFlags(), safetyFlags(), []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "save the plan to `FILE` for csfle apply FILE"},
			&cli.BoolFlag{Name: "destroy", Usage: "plan the deletion of every managed key"},
			&cli.BoolFlag{Name: "json", Usage: "print the plan as a versioned JSON document"},
			&cli.BoolFlag{Name: "markdown", Usage: "print the plan as Markdown, for a pull request"},
			&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 2 when the plan has changes, 0 when it has none"},
		}),
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 0); err != nil {
				return err
			}
			o := engineOptions(c)
			progress, progressDone := scanProgress(c)
			defer progressDone()
			o.ScanProgress = progress
			cfg, err := loadConfig(c, o)
			if err != nil {
				return err
			}
			ctx := context.Background()
			s, err := engine.Open(ctx, cfg, o, "plan")
			if err != nil {
				return failure(c, cfg.Files, err)
			}
			defer s.Close(ctx)
			p, err := s.Plan(ctx, planner.Options{Destroy: c.Bool("destroy")})
			if err != nil {
				return failure(c, cfg.Files, err)
			}
			if err := writePlan(c, c.App.Writer, p); err != nil {
				return failure(c, cfg.Files, err)
			}
			if out := c.String("out"); out != "" {
				digest, err := engine.ConfigDigest(o.Dir)
				if err != nil {
					return failure(c, cfg.Files, err)
				}
				if err := state.WritePlanFile(out, p, digest); err != nil {
					return failure(c, cfg.Files, err)
				}
				if !c.Bool("json") {
					fmt.Fprintf(c.App.Writer, "\nSaved the plan to %s. To apply exactly this plan, run:\n    csfle apply %s\n", out, out)
				}
			}
			if c.Bool("detailed-exitcode") && p.HasChanges() {
				return cli.Exit("", exitChanges)
			}
			return nil
		},
	}
}

func writePlan(c *cli.Context, w io.Writer, p *plan.Plan) error {
	switch {
	case c.Bool("json"):
		return render.JSON(w, p)
	case c.Bool("markdown"):
		return render.Markdown(w, p)
	default:
		return render.Human(w, p, viewOptions(c))
	}
}
