package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A process killed with SIGKILL part-way through creating 50 keys leaves a
// state that a rerun of apply completes: every key exists exactly once and
// the state matches the key vault.
func TestKilledApplyIsCompletedByTheNextOne(t *testing.T) {
	w := newWorkspace(t)
	var cfg strings.Builder
	cfg.WriteString(localProvider)
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&cfg, "\ndata_key \"user_%02d\" {\n  kms = kms.local\n}\n", i)
	}
	w.config(cfg.String())

	cmd := exec.Command(csfleBin, "apply", "-auto-approve", "-concurrency", "4")
	cmd.Dir = w.dir
	cmd.Env = w.environ()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once some keys are done and more are in flight.
	done := 0
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "Creation complete") {
			done++
			if done == 17 {
				_ = cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
	}
	go func() { _, _ = bufio.NewReader(stdout).WriteTo(new(bytes.Buffer)) }()
	werr := cmd.Wait()
	if done < 17 {
		t.Fatalf("apply finished before it could be killed (%d keys seen): %v\n%s", done, werr, errb.String())
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("apply was not killed: %v", werr)
	}
	before := len(vaultDocs(t, w.namespace))
	if before < 17 || before >= 50 {
		t.Logf("key vault holds %d keys after the kill", before)
	}

	deadline := time.Now().Add(10 * time.Second)
	var r result
	for {
		// The killed process's lock is released by the OS with its file.
		r = w.run("apply", "-auto-approve")
		if r.code == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r.code != 0 {
		t.Fatalf("rerun of apply: %s", r)
	}

	docs := vaultDocs(t, w.namespace)
	byAlt := map[string]int{}
	for _, alts := range docs {
		for _, a := range alts {
			byAlt[a]++
		}
	}
	for i := 0; i < 50; i++ {
		name := fmt.Sprintf("user_%02d", i)
		if byAlt[name] != 1 {
			t.Errorf("key %s exists %d times in the key vault, want exactly once", name, byAlt[name])
		}
	}
	if len(docs) != 50 {
		t.Errorf("key vault holds %d keys, want 50", len(docs))
	}
	ids := w.keyIDs()
	if len(ids) != 50 {
		t.Errorf("state holds %d keys, want 50", len(ids))
	}
	for name, id := range ids {
		alts, ok := docs[id]
		if !ok || len(alts) != 1 || alts[0] != name {
			t.Errorf("state says %s is %s, the key vault has %v under that id", name, id, alts)
		}
	}
	if r := w.run("plan", "-detailed-exitcode"); r.code != 0 {
		t.Errorf("plan after the recovery is not empty: %s", r)
	}
}
