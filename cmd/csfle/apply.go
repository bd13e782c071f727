package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/csfle/csfle/engine"
	"github.com/csfle/csfle/executor"
	"github.com/csfle/csfle/plan"
	"github.com/csfle/csfle/planner"
	"github.com/csfle/csfle/render"
	"github.com/csfle/csfle/state"
)

func applyFlags() []cli.Flag {
	return concat(varFlags(), stateFlags(), safetyFlags(), []cli.Flag{
		&cli.BoolFlag{Name: "auto-approve", Usage: "apply without asking for confirmation (for CI)"},
		&cli.BoolFlag{Name: "json", Usage: "print the plan and the result as one JSON document"},
		&cli.IntFlag{Name: "concurrency", Usage: "how many independent changes to run at once", Value: 4},
		&cli.DurationFlag{Name: "step-timeout", Usage: "how long one step may wait for a KMS or the server before it is tried again", Value: 2 * time.Minute},
		&cli.DurationFlag{Name: "key-cache-wait", Usage: "before deleting keys, wait this long (60s outlasts libmongocrypt's data key cache) so no application still encrypts with a key being deleted"},
	})
}

func applyCommand() *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "make the changes a plan lists, and record them in the state",
		ArgsUsage: "[PLANFILE]",
		Description: `Without PLANFILE, makes a plan as csfle plan does, shows it, and asks for
confirmation ("yes") before carrying it out; -auto-approve skips the question.
With PLANFILE (from plan -out), applies exactly that plan without asking, or
refuses it as stale if the state, the key vault or the configuration changed
since it was made.

Every write is read back and checked against the plan; a rewrapped key is
proved to decrypt through its new KMS. The state is written after every step,
so an interrupted apply is completed by running apply again.`,
		Flags: applyFlags(),
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 1); err != nil {
				return err
			}
			return runApply(c, planner.Options{}, c.Args().First())
		},
	}
}

func destroyCommand() *cli.Command {
	return &cli.Command{
		Name:  "destroy",
		Usage: "delete every data key this configuration manages",
		Description: `Plans the deletion of every managed key and, after confirmation, carries it
out. Data encrypted with a deleted key can never be decrypted again; keys
with lifecycle { prevent_destroy = true } are refused. Equivalent to
csfle apply after csfle plan -destroy.`,
		Flags: applyFlags(),
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 0); err != nil {
				return err
			}
			return runApply(c, planner.Options{Destroy: true}, "")
		},
	}
}

func runApply(c *cli.Context, popts planner.Options, planFile string) error {
	o := engineOptions(c)
	progress, progressDone := scanProgress(c)
	defer progressDone()
	o.ScanProgress = progress
	o.KeyCacheWait = c.Duration("key-cache-wait")
	o.StepTimeout = c.Duration("step-timeout")
	o.OnWait = func(d time.Duration) {
		fmt.Fprintf(c.App.ErrWriter, "Waiting %s for applications' data key caches to expire before deleting keys...\n", d)
	}
	if c.Bool("json") && planFile == "" && !c.Bool("auto-approve") {
		return cli.Exit("Error: -json prints no plan to approve; use it with -auto-approve or with a saved plan", exitError)
	}
	var saved *state.PlanFile
	if planFile != "" {
		var err error
		if saved, err = state.ReadPlanFile(planFile); err != nil {
			return cli.Exit(fmt.Sprintf("Error: %v", err), exitError)
		}
		digest, err := engine.ConfigDigest(o.Dir)
		if err != nil {
			return cli.Exit(fmt.Sprintf("Error: %v", err), exitError)
		}
		if digest != saved.ConfigDigest {
			return cli.Exit(fmt.Sprintf("Error: %v", &engine.StaleError{Reason: "the configuration files changed since it was made"}), exitError)
		}
	}
	cfg, err := loadConfig(c, o)
	if err != nil {
		return err
	}
	ctx, stop := interruptible(c)
	defer stop()
	s, err := engine.Open(ctx, cfg, o, "apply")
	if err != nil {
		return failure(c, cfg.Files, err)
	}
	defer s.Close(context.WithoutCancel(ctx))

	var p *plan.Plan
	if saved != nil {
		p = &saved.Plan
		if err := s.CheckFresh(ctx, p); err != nil {
			return failure(c, cfg.Files, err)
		}
	} else if p, err = s.Plan(ctx, popts); err != nil {
		return failure(c, cfg.Files, err)
	}

	jsonOut := c.Bool("json")
	view := viewOptions(c)
	w := c.App.Writer
	if !jsonOut {
		if err := render.Human(w, p, view); err != nil {
			return failure(c, cfg.Files, err)
		}
	}
	if !p.HasChanges() && len(p.Drift) == 0 {
		if jsonOut {
			return writeApplyJSON(w, p, executor.Result{})
		}
		return nil
	}
	if saved == nil && !c.Bool("auto-approve") && p.HasChanges() {
		if err := confirm(c, popts.Destroy); err != nil {
			return err
		}
	}

	var onEvent func(executor.Event)
	if !jsonOut {
		fmt.Fprintln(w)
		onEvent = func(e executor.Event) {
			if e.Warning != "" {
				fmt.Fprintf(w, "%s: Skipped: the server refused it (see the warning below)\n", e.Change.Addr)
				return
			}
			render.ApplyLine(w, applyEvent(e), view)
		}
	}
	res, err := s.Apply(ctx, p, onEvent)
	if jsonOut {
		if werr := writeApplyJSON(w, p, res); werr != nil {
			return failure(c, cfg.Files, werr)
		}
	}
	if err != nil {
		return cli.Exit(applyFailure(res, err, o.StatePath), exitError)
	}
	if !jsonOut {
		fmt.Fprintln(w)
		for _, warn := range res.Warnings {
			fmt.Fprintf(w, "Warning: %s\n", warn)
		}
		render.ApplySummary(w, summarize(res.Applied), view)
	}
	return nil
}

func summarize(changes []plan.Change) plan.Summary {
	p := plan.Plan{Changes: changes}
	return p.Summarize()
}

func applyFailure(res executor.Result, err error, statePath string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nError: the apply stopped: %v\n", err)
	fmt.Fprintf(&b, "\n%d change(s) applied and recorded in %s, %d failed, %d not started.\n", len(res.Applied), statePath, len(res.Failed), len(res.NotRun))
	b.WriteString("Fix the cause and run csfle apply again: it plans only what is left.")
	return b.String()
}

func applyEvent(e executor.Event) render.ApplyEvent {
	ev := render.ApplyEvent{Addr: e.Change.Addr.String(), Action: e.Change.Action.String(), Elapsed: e.Elapsed}
	switch e.Phase {
	case executor.Started:
		ev.Phase = render.PhaseStart
	case executor.Done:
		ev.Phase = render.PhaseDone
	case executor.Failed:
		ev.Phase = render.PhaseFailed
		ev.Err = e.Err.Error()
	}
	if !e.KeyID.IsZero() {
		ev.KeyID = e.KeyID.String()
	}
	return ev
}

// interruptible returns a context cancelled by the first Ctrl-C (or
// SIGTERM): the apply then stops starting new steps and finishes, checks and
// records the ones in flight. A second Ctrl-C stops the process at once.
func interruptible(c *cli.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-sigs; !ok {
			return
		}
		fmt.Fprintln(c.App.ErrWriter, "\nInterrupt received: finishing the steps in progress and recording them, then stopping. Interrupt again to stop at once (the next apply completes what is left).")
		signal.Stop(sigs)
		cancel()
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(sigs)
		cancel()
	}
}

// confirm asks for "yes", as Terraform does.
func confirm(c *cli.Context, destroy bool) error {
	w := c.App.Writer
	question := "Do you want to perform these actions?"
	if destroy {
		question = "Do you really want to delete all managed data keys? Data encrypted with them can never be decrypted again."
	}
	fmt.Fprintf(w, "\n%s\n  csfle will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", question)
	line, err := bufio.NewReader(c.App.Reader).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return cli.Exit(fmt.Sprintf("\nError: reading the answer: %v", err), exitError)
	}
	if strings.TrimSpace(line) == "" && errors.Is(err, io.EOF) && !isTerminal(c.App.Reader) {
		return cli.Exit("\nError: no answer on standard input; to apply without a terminal, use -auto-approve or apply a saved plan", exitError)
	}
	if strings.TrimSpace(line) != "yes" {
		return cli.Exit("\nApply cancelled: only 'yes' approves.", exitError)
	}
	return nil
}

type applyDoc struct {
	FormatVersion string        `json:"format_version"`
	Plan          *plan.Plan    `json:"plan"`
	Applied       []plan.Change `json:"applied"`
	Failed        []failedDoc   `json:"failed"`
	NotRun        []plan.Change `json:"not_run"`
	Warnings      []string      `json:"warnings"`
}

type failedDoc struct {
	Change plan.Change `json:"change"`
	Error  string      `json:"error"`
}

func writeApplyJSON(w io.Writer, p *plan.Plan, res executor.Result) error {
	doc := applyDoc{FormatVersion: plan.FormatVersion, Plan: p, Applied: res.Applied, NotRun: res.NotRun, Warnings: res.Warnings, Failed: []failedDoc{}}
	for _, f := range res.Failed {
		doc.Failed = append(doc.Failed, failedDoc{Change: f.Change, Error: f.Err.Error()})
	}
	if doc.Applied == nil {
		doc.Applied = []plan.Change{}
	}
	if doc.NotRun == nil {
		doc.NotRun = []plan.Change{}
	}
	if doc.Warnings == nil {
		doc.Warnings = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
