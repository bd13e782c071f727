package e2e

import (
	"bufio"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/csfle/csfle/devenv"
)

// The reliability suite breaks applies on purpose, many times, and counts
// what survives: keys lost (must be 0), keys duplicated (0), and secrets
// found in anything csfle wrote or printed (0). CSFLE_RELIABILITY_TRIALS
// sets the trials per fault kind (default 2, which CI runs); the README
// says how to run a long one.

type tally struct {
	trials, keysChecked, lost, duplicated, secrets int
}

func reliabilityTrials() int {
	if n, err := strconv.Atoi(os.Getenv("CSFLE_RELIABILITY_TRIALS")); err == nil && n > 0 {
		return n
	}
	return 2
}

// The crash trial's plan: stage 1 makes 100 keys under the local master
// key; stage 2 rewraps 40 of them to aws, renames 20, deletes 40 and
// creates 60 more: 160 changes, killed at a random step.
const (
	crashKeys    = 160
	crashRewrap  = 40  // k000..k039
	crashRename  = 60  // k040..k059
	crashDelete  = 100 // k060..k099
	crashInitial = 100
)

func crashName(i int) string { return fmt.Sprintf("k%03d", i) }

func mixedConfig(stage int) string {
	var b strings.Builder
	b.WriteString(localProvider + awsProvider + "variable \"cmk_arn\" {}\n")
	for i := 0; i < crashKeys; i++ {
		name := crashName(i)
		switch {
		case stage == 1 && i < crashInitial:
			fmt.Fprintf(&b, "\ndata_key %q {\n  kms = kms.local\n}\n", name)
		case stage == 2 && i < crashRewrap:
			fmt.Fprintf(&b, "\ndata_key %q {\n  kms        = kms.aws\n  master_key = { key = var.cmk_arn }\n}\n", name)
		case stage == 2 && i < crashRename:
			fmt.Fprintf(&b, "\ndata_key %q {\n  kms       = kms.local\n  alt_names = [%q, %q]\n}\n", name, name, name+"-v2")
		case stage == 2 && i >= crashDelete:
			fmt.Fprintf(&b, "\ndata_key %q {\n  kms = kms.local\n}\n", name)
		}
	}
	return b.String()
}

// check verifies the invariants after a trial and adds to t.
func (tl *tally) check(t *testing.T, w *workspace, before map[string]string, wantNames []string, gone []string) {
	t.Helper()
	docs := vaultDocsAt(t, w.uri(), w.namespace)
	byAlt := map[string][]string{}
	for id, alts := range docs {
		for _, a := range alts {
			byAlt[a] = append(byAlt[a], id)
		}
	}
	for _, name := range wantNames {
		tl.keysChecked++
		switch n := len(byAlt[name]); {
		case n == 0:
			tl.lost++
			t.Errorf("key %s is missing from the key vault", name)
		case n > 1:
			tl.duplicated++
			t.Errorf("key %s exists %d times", name, n)
		}
		if id, ok := before[name]; ok && (len(byAlt[name]) != 1 || byAlt[name][0] != id) {
			tl.lost++
			t.Errorf("key %s changed id (was %s, now %v): its data is lost", name, id, byAlt[name])
		}
	}
	for _, name := range gone {
		if len(byAlt[name]) != 0 {
			t.Errorf("key %s should have been deleted", name)
		}
	}
	state := w.keyIDs()
	for _, name := range wantNames {
		if ids := byAlt[name]; len(ids) == 1 && state[name] != ids[0] {
			t.Errorf("state says %s is %s, the key vault %s", name, state[name], ids[0])
		}
	}
	if r := w.run("plan", "-detailed-exitcode"); r.code != 0 {
		t.Errorf("plan after the trial is not empty: %s", r)
	}
	errorsBefore := t.Failed()
	w.assertNoSecrets()
	if !errorsBefore && t.Failed() {
		tl.secrets++
	}
}

// applyUntilDone reruns apply until it succeeds (a crash or fault earlier
// may have left work), at most 5 times.
func applyUntilDone(t *testing.T, w *workspace, extra ...string) {
	t.Helper()
	for i := 0; ; i++ {
		r := w.run(append([]string{"apply", "-auto-approve"}, extra...)...)
		if r.code == 0 {
			return
		}
		if i == 4 {
			t.Fatalf("apply does not complete: %s", r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestReliability(t *testing.T) {
	trials := reliabilityTrials()
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	results := map[string]*tally{}
	kinds := []string{"sigkill", "kms-500", "kms-throttle", "kms-drop", "kms-stall", "mongo-stop", "mongo-slow"}
	for _, k := range kinds {
		results[k] = &tally{}
	}

	for trial := 0; trial < trials; trial++ {
		t.Run(fmt.Sprintf("sigkill-%d", trial), func(t *testing.T) {
			tl := results["sigkill"]
			tl.trials++
			w := newWorkspace(t)
			w.config(mixedConfig(1))
			applyUntilDone(t, w)
			before := w.keyIDs()
			w.config(mixedConfig(2))
			cmd := exec.Command(csfleBin, "apply", "-auto-approve", "-concurrency", "4")
			cmd.Dir, cmd.Env = w.dir, w.environ()
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			killAfter := 1 + rng.Intn(150)
			sc := bufio.NewScanner(out)
			for lines := 0; sc.Scan(); {
				if strings.Contains(sc.Text(), "...") {
					if lines++; lines == killAfter {
						_ = cmd.Process.Signal(syscall.SIGKILL)
						break
					}
				}
			}
			_ = cmd.Wait()
			applyUntilDone(t, w)
			keep := map[string]string{}
			var want, gone []string
			for i := 0; i < crashKeys; i++ {
				name := crashName(i)
				switch {
				case i < crashRename:
					keep[name] = before[name]
					want = append(want, name)
				case i < crashDelete:
					gone = append(gone, name)
				default:
					want = append(want, name)
				}
			}
			tl.check(t, w, keep, want, gone)
		})
		t.Run(fmt.Sprintf("mongo-stop-%d", trial), func(t *testing.T) {
			tl := results["mongo-stop"]
			tl.trials++
			ctx := context.Background()
			dir := filepath.Join(t.TempDir(), "env")
			own, err := devenv.Start(ctx, devenv.Options{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			w := newWorkspace(t)
			w.mongoURI = own.MongoURI
			var b strings.Builder
			b.WriteString(localProvider)
			var want []string
			for i := 0; i < 40; i++ {
				name := fmt.Sprintf("m%02d", i)
				want = append(want, name)
				fmt.Fprintf(&b, "\ndata_key %q {\n  kms = kms.local\n}\n", name)
			}
			w.config(b.String())
			cmd := exec.Command(csfleBin, "apply", "-auto-approve", "-concurrency", "4")
			cmd.Dir, cmd.Env = w.dir, w.environ()
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The server goes away mid-apply and comes back a second later on
			// the same port: the apply's retries may ride it out, or it stops
			// and the next run resumes.
			stopAfter := 1 + rng.Intn(30)
			restarted := make(chan *devenv.Env, 1)
			sc := bufio.NewScanner(out)
			for lines := 0; sc.Scan(); {
				if strings.Contains(sc.Text(), "...") {
					if lines++; lines == stopAfter {
						_ = own.Close()
						go func() {
							time.Sleep(time.Second)
							again, err := devenv.Start(ctx, devenv.Options{Dir: dir})
							if err != nil {
								t.Error(err)
							}
							restarted <- again
						}()
						break
					}
				}
			}
			go func() { _, _ = io.Copy(io.Discard, out) }()
			_ = cmd.Wait()
			_ = own.Close()
			var again *devenv.Env
			select {
			case again = <-restarted:
			default:
				// The apply finished before the server was stopped.
				if again, err = devenv.Start(ctx, devenv.Options{Dir: dir}); err != nil {
					t.Fatal(err)
				}
			}
			if again == nil {
				t.FailNow()
			}
			t.Cleanup(func() { _ = again.Close() })
			w.mongoURI = again.MongoURI
			applyUntilDone(t, w)
			tl.check(t, w, nil, want, nil)
		})
		t.Run(fmt.Sprintf("mongo-slow-%d", trial), func(t *testing.T) {
			tl := results["mongo-slow"]
			tl.trials++
			proxy := slowProxy(t, strings.TrimSuffix(strings.TrimPrefix(env.MongoURI, "mongodb://"), "/"), time.Duration(5+rng.Intn(30))*time.Millisecond)
			w := newWorkspace(t)
			w.mongoURI = "mongodb://" + proxy + "/"
			var b strings.Builder
			b.WriteString(localProvider)
			var want []string
			for i := 0; i < 20; i++ {
				name := fmt.Sprintf("s%02d", i)
				want = append(want, name)
				fmt.Fprintf(&b, "\ndata_key %q {\n  kms = kms.local\n}\n", name)
			}
			w.config(b.String())
			applyUntilDone(t, w)
			tl.check(t, w, nil, want, nil)
		})
		for _, mode := range []string{"500", "throttle", "drop", "stall"} {
			t.Run(fmt.Sprintf("kms-%s-%d", mode, trial), func(t *testing.T) {
				tl := results["kms-"+mode]
				tl.trials++
				f := &flakyKMS{failFirst: int32(1 + rng.Intn(6)), mode: mode}
				if mode == "stall" {
					// Each stall costs a step timeout; DescribeKey at plan
					// time has its own, longer one, so stall only the
					// Encrypt calls of the creates.
					f.failFirst, f.only = int32(1+rng.Intn(2)), "Encrypt"
				}
				srv := httptest.NewTLSServer(f)
				t.Cleanup(srv.Close)
				w := newWorkspace(t)
				ca, _ := os.ReadFile(env.CAFile)
				bundle := filepath.Join(w.dir, "ca-bundle.pem")
				_ = os.WriteFile(bundle, append(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})...), 0o600)
				var b strings.Builder
				fmt.Fprintf(&b, "variable \"cmk_arn\" {}\n\nkms \"aws\" {\n  region  = \"us-east-1\"\n  ca_file = %q\n}\n", bundle)
				var want []string
				for i := 0; i < 8; i++ {
					name := fmt.Sprintf("a%02d", i)
					want = append(want, name)
					fmt.Fprintf(&b, "\ndata_key %q {\n  kms        = kms.aws\n  master_key = { key = var.cmk_arn, endpoint = %q }\n}\n", name, strings.TrimPrefix(srv.URL, "https://"))
				}
				w.config(b.String())
				applyUntilDone(t, w, "-step-timeout", "1s")
				tl.check(t, w, nil, want, nil)
			})
		}
	}

	var rows []string
	total := tally{}
	for _, k := range kinds {
		r := results[k]
		rows = append(rows, fmt.Sprintf("%-14s %6d %12d %6d %11d %8d", k, r.trials, r.keysChecked, r.lost, r.duplicated, r.secrets))
		total.trials += r.trials
		total.keysChecked += r.keysChecked
		total.lost += r.lost
		total.duplicated += r.duplicated
		total.secrets += r.secrets
	}
	sort.Strings(rows)
	fmt.Printf("\nReliability: %d trials per fault kind\n%-14s %6s %12s %6s %11s %8s\n", trials, "fault", "trials", "keys checked", "lost", "duplicated", "secrets")
	for _, r := range rows {
		fmt.Println(r)
	}
	fmt.Printf("%-14s %6d %12d %6d %11d %8d\n", "total", total.trials, total.keysChecked, total.lost, total.duplicated, total.secrets)
	if total.lost+total.duplicated+total.secrets > 0 {
		t.Errorf("keys lost %d, duplicated %d, secrets found %d: all must be 0", total.lost, total.duplicated, total.secrets)
	}
}

// slowProxy forwards TCP to target on 127.0.0.1, holding every chunk of
// data for delay in each direction: a slow server.
func slowProxy(t *testing.T, target string, delay time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				time.Sleep(delay)
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		_ = dst.Close()
		_ = src.Close()
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			go pipe(s, c)
			go pipe(c, s)
		}
	}()
	return ln.Addr().String()
}
