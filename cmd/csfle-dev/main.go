// Command csfle-dev runs a throwaway csfle development environment (package
// devenv): an embedded FerretDB and a local AWS KMS, on 127.0.0.1 only,
// until interrupted. It writes a shell file of exports that point csfle and
// the AWS SDK at them.
//
//	csfle-dev [-dir DIR] [-env-file FILE] [-v] [-mongo-port N] [-kms-port N]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/csfle/csfle/devenv"
)

// startTimeout bounds start-up, which includes creating the CMK.
const startTimeout = time.Minute

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one kills the process as usual.
		<-ctx.Done()
		stop()
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run starts the environment and blocks until ctx is done. It returns the
// process exit code: 0 after a clean stop, 1 on failure, 2 on bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("csfle-dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".dev", "`directory` for the environment's data, CA certificate and env file")
	envFile := fs.String("env-file", "", "`file` to write the shell exports to (default DIR/env.sh)")
	verbose := fs.Bool("v", false, "log FerretDB's and local-kms's activity to stderr")
	mongoPort := fs.Int("mongo-port", 0, "pin FerretDB's `port` on 127.0.0.1 (default: the last run's, else any free one)")
	kmsPort := fs.Int("kms-port", 0, "pin the KMS's `port` on 127.0.0.1 (default: the last run's, else any free one)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: csfle-dev [-dir DIR] [-env-file FILE] [-v] [-mongo-port N] [-kms-port N]")
		fmt.Fprintln(stderr, "Runs FerretDB and a local AWS KMS on 127.0.0.1 for csfle development until interrupted.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "csfle-dev: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *envFile == "" {
		*envFile = filepath.Join(*dir, "env.sh")
	}

	startCtx, cancel := context.WithTimeout(ctx, startTimeout)
	env, err := devenv.Start(startCtx, devenv.Options{
		Dir:       *dir,
		Verbose:   *verbose,
		MongoPort: *mongoPort,
		KMSPort:   *kmsPort,
	})
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "csfle-dev: %v\n", err)
		return 1
	}
	if err := env.WriteEnvFile(*envFile); err != nil {
		_ = env.Close()
		fmt.Fprintf(stderr, "csfle-dev: %v\n", err)
		return 1
	}

	printRunning(stdout, env, *envFile)

	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping...")
	if err := env.Close(); err != nil {
		fmt.Fprintf(stderr, "csfle-dev: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "stopped")
	return 0
}

func printRunning(w io.Writer, env *devenv.Env, envFile string) {
	fmt.Fprintf(w, "csfle dev environment running (data in %s)\n", env.Dir)
	fmt.Fprintf(w, "  MongoDB (FerretDB):  %s\n", env.MongoURI)
	fmt.Fprintf(w, "  AWS KMS (local-kms): %s\n", env.KMSURL)
	fmt.Fprintf(w, "  symmetric CMK:       %s\n", env.CMKARN)
	fmt.Fprintln(w)
	for _, line := range env.Exports() {
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "source %s to use it; Ctrl-C to stop\n", envFile)
}
