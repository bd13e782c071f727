package e2e

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// assertNoSecrets looks for the local master key (base64 and raw) and the
// AWS secret in every file csfle wrote and everything it printed.
func (w *workspace) assertNoSecrets() {
	w.t.Helper()
	raw, _ := base64.StdEncoding.DecodeString(w.localKey)
	secrets := map[string][]byte{
		"local master key (base64)":        []byte(w.localKey),
		"local master key (first 32 b64)":  []byte(w.localKey[:32]),
		"local master key (raw)":           raw,
		"local master key (raw, 16 bytes)": raw[:16],
		"AWS secret access key":            []byte(env.SecretAccessKey),
	}
	checked := 0
	for name, content := range w.written() {
		checked++
		for what, s := range secrets {
			if bytes.Contains(content, s) {
				w.t.Errorf("%s contains the %s", name, what)
			}
		}
	}
	for i, out := range w.outputs {
		for what, s := range secrets {
			if strings.Contains(out, string(s)) {
				w.t.Errorf("output %d of csfle contains the %s:\n%s", i, what, out)
			}
		}
	}
	if checked+len(w.outputs) == 0 {
		w.t.Errorf("nothing was checked for secrets (%d files, %d outputs)", checked, len(w.outputs))
	}
}

// Every kind of output, including saved plans, JSON, Markdown and errors
// from a failing provider, is free of secrets.
func TestNoSecretsInAnyOutput(t *testing.T) {
	w := newWorkspace(t)
	w.config(stage1)
	w.ok("plan", "-out", "create.plan")
	w.ok("apply", "create.plan")
	w.config(stage2)
	w.ok("plan", "-markdown")
	w.ok("plan", "-json", "-out", "rewrap.plan")
	w.ok("show", "rewrap.plan")
	w.ok("show", "-json")
	w.ok("output")
	w.ok("output", "-json")
	w.ok("validate")

	// A wrong local master key: the plan-time unwrap check refuses, and
	// neither key appears in the message.
	good := w.localKey
	w.localKey = newLocalKey(t)
	w.write("master-key.txt", w.localKey)
	r := w.run("plan")
	if r.code != 1 || !strings.Contains(r.stderr, "Cannot unwrap the key to rewrap it") {
		t.Errorf("plan with a wrong local key: %s", r)
	}
	w.assertNoSecrets()
	w.localKey = good
	w.write("master-key.txt", good)
	w.assertNoSecrets()
}
