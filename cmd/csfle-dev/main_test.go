package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer lets the test read what run writes from another goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRunStartsAndStops(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev")
	envFile := filepath.Join(dir, "env.sh")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var stdout, stderr lockedBuffer
	code := make(chan int, 1)
	go func() { code <- run(ctx, []string{"-dir", dir}, &stdout, &stderr) }()

	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(stdout.String(), "Ctrl-C to stop") {
		select {
		case c := <-code:
			t.Fatalf("run returned %d before it was stopped; stderr:\n%s", c, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ready message after a minute; stdout:\n%s", stdout.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	out := stdout.String()
	for _, want := range []string{
		"export CSFLE_DEV_MONGODB_URI='mongodb://127.0.0.1:",
		"export CSFLE_DEV_AWS_ENDPOINT='127.0.0.1:",
		"export CSFLE_DEV_AWS_KEY_ARN='arn:aws:kms:us-east-1:",
		"export AWS_CA_BUNDLE='" + filepath.Join(dir, "kms-ca.pem") + "'",
		"source " + envFile + " to use it; Ctrl-C to stop",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	written, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(written), "export CSFLE_DEV_MONGODB_URI=") {
		t.Errorf("env file:\n%s", written)
	}

	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit code %d after stop; stderr:\n%s", c, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after its context was canceled")
	}
	if !strings.HasSuffix(stdout.String(), "stopped\n") {
		t.Errorf("stdout does not end with \"stopped\":\n%s", stdout.String())
	}
	if s := stderr.String(); s != "" {
		t.Errorf("stderr is not empty without -v:\n%s", s)
	}
}

func TestRunFailsOnTakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	var stdout, stderr lockedBuffer
	c := run(context.Background(), []string{"-dir", t.TempDir(), "-kms-port", port}, &stdout, &stderr)
	if c != 1 {
		t.Errorf("exit code = %d, want 1", c)
	}
	msg := stderr.String()
	if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "csfle-dev: ") || !strings.Contains(msg, port) {
		t.Errorf("stderr = %q, want one line naming port %s", msg, port)
	}
	if stdout.String() != "" {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
}

func TestRunUsage(t *testing.T) {
	var stdout, stderr lockedBuffer
	if c := run(context.Background(), []string{"-nope"}, &stdout, &stderr); c != 2 {
		t.Errorf("bad flag: exit code %d, want 2", c)
	}
	if c := run(context.Background(), []string{"extra"}, &stdout, &stderr); c != 2 {
		t.Errorf("extra argument: exit code %d, want 2", c)
	}
}
