package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// One test at least for every command of the real binary, as a user runs
// them: the words they read and the exit codes their scripts test.

// commands are the subcommands csfle lists in its help.
var commands = []string{"init", "validate", "fmt", "plan", "apply", "destroy", "show", "output", "dev", "version"}

// runEnv runs csfle in dir with exactly the environment environ.
func runEnv(t *testing.T, dir string, environ []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(csfleBin, args...)
	cmd.Dir = dir
	cmd.Env = environ
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running csfle %v: %v", args, err)
	}
	return r
}

// runFrom runs csfle with the workspace's environment but from dir.
func (w *workspace) runFrom(dir string, args ...string) result {
	w.t.Helper()
	r := runEnv(w.t, dir, w.environ(), "", args...)
	w.outputs = append(w.outputs, r.stdout, r.stderr)
	return r
}

// without drops the variable name from an environment.
func without(environ []string, name string) []string {
	var out []string
	for _, kv := range environ {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// expect fails the test unless r exited with code and stream ("stdout" or
// "stderr") holds every one of wants.
func expect(t *testing.T, r result, code int, stream string, wants ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d:\n%s", r.code, code, r)
	}
	text := r.stdout
	if stream == "stderr" {
		text = r.stderr
	}
	for _, want := range wants {
		// Diagnostics wrap at 100 columns: a phrase may span lines.
		if !strings.Contains(text, want) && !strings.Contains(collapse(text), collapse(want)) {
			t.Errorf("%s lacks %q:\n%s", stream, want, r)
		}
	}
}

// collapse turns every run of white space into one space.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// lineOf is the 1-based line of main.csfle.hcl that holds s.
func (w *workspace) lineOf(s string) int {
	w.t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, "main.csfle.hcl"))
	if err != nil {
		w.t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	w.t.Fatalf("main.csfle.hcl has no line with %q", s)
	return 0
}

func (w *workspace) exists(name string) bool {
	_, err := os.Stat(filepath.Join(w.dir, name))
	return err == nil
}

func (w *workspace) read(name string) string {
	w.t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, name))
	if err != nil {
		w.t.Fatal(err)
	}
	return string(b)
}

// vaultColl is the workspace's key vault collection, for changes made
// outside csfle.
func vaultColl(t *testing.T, namespace string) *mongo.Collection {
	t.Helper()
	client, err := mongo.Connect(context.Background(), options.Client().ApplyURI(env.MongoURI))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	db, coll := splitNS(namespace)
	return client.Database(db).Collection(coll)
}

// rawVault is every key vault document, whole (key material, master key,
// dates), as extended JSON by base64 id: what "unchanged" is checked on.
func rawVault(t *testing.T, namespace string) map[string]string {
	t.Helper()
	ctx := context.Background()
	cur, err := vaultColl(t, namespace).Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.Raw
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range docs {
		id := d.Lookup("_id")
		_, data, ok := id.BinaryOK()
		if !ok {
			t.Fatalf("key vault document with a non-binary _id: %s", d)
		}
		out[base64.StdEncoding.EncodeToString(data)] = d.String()
	}
	return out
}

// withAlt counts the key vault documents that carry alt name.
func withAlt(docs map[string][]string, alt string) []string {
	var ids []string
	for id, alts := range docs {
		for _, a := range alts {
			if a == alt {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

const twoKeys = localProvider + `
data_key "ssn" {
  kms = kms.local
}

data_key "billing" {
  kms       = kms.local
  alt_names = ["billing", "billing-2026"]
}
`

func TestHelp(t *testing.T) {
	w := newWorkspace(t)
	r := w.ok("--help")
	expect(t, r, 0, "stdout", "csfle - plan and apply MongoDB client-side field level encryption keys", "DESCRIPTION:", "COMMANDS:", "-chdir")
	for _, c := range commands {
		if !regexp.MustCompile(`(?m)^\s+` + c + `\s+\S`).MatchString(r.stdout) {
			t.Errorf("csfle --help does not list %s with its description:\n%s", c, r.stdout)
		}
	}
	for _, c := range commands {
		if c == "dev" {
			continue // passes --help to csfle-dev: TestDevWithoutCsfleDev
		}
		t.Run(c, func(t *testing.T) {
			r := w.run(c, "--help")
			// "csfle plan - show the changes ...": the name and a description.
			line := regexp.MustCompile(`csfle ` + c + ` - (\S.{10,})`)
			if r.code != 0 || !line.MatchString(r.stdout) || !strings.Contains(r.stdout, "USAGE:") {
				t.Errorf("csfle %s --help: want exit 0, a description and usage:\n%s", c, r)
			}
			if c != "version" && !strings.Contains(r.stdout, "DESCRIPTION:") {
				t.Errorf("csfle %s --help has no DESCRIPTION:\n%s", c, r)
			}
		})
	}
}

// An unknown command is an error (exit 1), not exit 3, which fmt -check
// uses to say a file needs formatting.
func TestUnknownCommand(t *testing.T) {
	w := newWorkspace(t)
	r := w.run("plna")
	expect(t, r, 1, "stderr", "plna")
}

func TestVersion(t *testing.T) {
	w := newWorkspace(t)
	r := w.ok("version")
	m := regexp.MustCompile(`(?m)^libmongocrypt (\d+)\.(\d+)\.(\d+)`).FindStringSubmatch(r.stdout)
	if m == nil || strings.Contains(r.stdout, "not linked") {
		t.Fatalf("version does not print a linked libmongocrypt:\n%s", r)
	}
	if m[1] != "1" {
		t.Errorf("libmongocrypt %s.%s.%s, want 1.x", m[1], m[2], m[3])
	}
	v := regexp.MustCompile(`(?m)^csfle (\S+)$`).FindStringSubmatch(r.stdout)
	if r := w.ok("--version"); v == nil || strings.TrimSpace(r.stdout) != "csfle version "+v[1] {
		t.Errorf("--version disagrees with version:\n%s", r)
	}
}

func TestInit(t *testing.T) {
	w := newWorkspace(t)
	r := w.ok("init")
	expect(t, r, 0, "stdout", "is linked.", "Wrote a starter configuration to main.csfle.hcl")
	if !regexp.MustCompile(`libmongocrypt \d+\.\d+\.\d+ is linked`).MatchString(r.stdout) {
		t.Errorf("init does not name the linked libmongocrypt:\n%s", r)
	}
	starter := w.read("main.csfle.hcl")
	for _, want := range []string{"key_vault {", `kms "local"`, `data_key "example"`, "prevent_destroy = true"} {
		if !strings.Contains(starter, want) {
			t.Errorf("starter configuration lacks %q:\n%s", want, starter)
		}
	}
	// The starter configuration is valid as written once master-key.txt
	// exists (newWorkspace wrote one), and formatted.
	expect(t, w.run("validate"), 0, "stdout", "The configuration is valid: 1 KMS provider(s), 1 data key(s).")
	expect(t, w.run("fmt", "-check"), 0, "stdout")

	// A second init validates what is there and does not overwrite it.
	edited := starter + "\n# edited by hand\n"
	w.write("main.csfle.hcl", edited)
	r = w.ok("init")
	expect(t, r, 0, "stdout", "The configuration in this directory is valid")
	if strings.Contains(r.stdout, "Wrote") {
		t.Errorf("second init says it wrote a file:\n%s", r)
	}
	if got := w.read("main.csfle.hcl"); got != edited {
		t.Errorf("second init changed main.csfle.hcl:\n%s", got)
	}

	// In a directory whose configuration is broken, init says so.
	w.write("main.csfle.hcl", edited+"\ndata_key \"x\" {\n  kms = kms.nope\n}\n")
	r = w.run("init")
	expect(t, r, 1, "stderr", "Reference to undeclared KMS provider")
	if strings.Contains(r.stdout, "valid") {
		t.Errorf("init calls a broken configuration valid:\n%s", r)
	}
}

func TestValidate(t *testing.T) {
	w := newWorkspace(t)
	w.config(twoKeys)
	expect(t, w.run("validate"), 0, "stdout", "The configuration is valid: 1 KMS provider(s), 2 data key(s).")

	// A short key: 48 bytes, base64. Random, so finding it in the output
	// can only mean csfle printed it.
	short := newLocalKey(t)[:64]
	for _, tc := range []struct{ name, key string }{
		{"key from a file", `file("short.key")`},
		{"key written in the configuration", fmt.Sprintf("%q", short)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorkspace(t)
			w.write("short.key", short)
			w.config(fmt.Sprintf(`kms "local" {
  key = %s
}

data_key "ssn" {
  kms = kms.aws
}
`, tc.key))
			r := w.run("validate")
			keyLine := w.lineOf("  key = ")
			refLine := w.lineOf("kms = kms.aws")
			expect(t, r, 1, "stderr",
				"Local master key must be 96 bytes",
				"key decodes to 48 bytes",
				"Reference to undeclared KMS provider",
				`There is no kms "aws" block`,
				fmt.Sprintf("on main.csfle.hcl line %d", keyLine),
				fmt.Sprintf("on main.csfle.hcl line %d", refLine))
			if strings.Contains(r.stdout, "valid") {
				t.Errorf("stdout calls the configuration valid:\n%s", r)
			}
			for _, s := range []string{short, short[:24]} {
				if strings.Contains(r.stdout+r.stderr, s) {
					t.Errorf("validate prints the wrong-length local key:\n%s", r)
					break
				}
			}
		})
	}
}

func TestFmt(t *testing.T) {
	w := newWorkspace(t)
	w.config(twoKeys)
	messy := "data_key \"extra\" {\nkms = kms.local\n      alt_names=[\"extra\",\"x\"]\n    }\n"
	tidy := "data_key \"extra\" {\n  kms       = kms.local\n  alt_names = [\"extra\", \"x\"]\n}\n"
	w.write("extra.csfle.hcl", messy)

	// -check: exit 3, the file named, nothing written.
	r := w.run("fmt", "-check")
	expect(t, r, 3, "stdout", "extra.csfle.hcl")
	if strings.Contains(r.stdout, "main.csfle.hcl") {
		t.Errorf("fmt -check names a formatted file:\n%s", r)
	}
	if got := w.read("extra.csfle.hcl"); got != messy {
		t.Errorf("fmt -check changed the file:\n%s", got)
	}

	// fmt rewrites it and names it.
	r = w.ok("fmt")
	if strings.TrimSpace(r.stdout) != "extra.csfle.hcl" {
		t.Errorf("fmt: want only extra.csfle.hcl named:\n%s", r)
	}
	if got := w.read("extra.csfle.hcl"); got != tidy {
		t.Errorf("fmt wrote:\n%s\nwant:\n%s", got, tidy)
	}

	// Formatted files: exit 0 and silence, with and without -check.
	for _, args := range [][]string{{"fmt"}, {"fmt", "-check"}} {
		r := w.run(args...)
		if r.code != 0 || r.stdout != "" || r.stderr != "" {
			t.Errorf("csfle %v on formatted files: want exit 0 and no output:\n%s", args, r)
		}
	}

	// A file given by name.
	w.write("extra.csfle.hcl", messy)
	r = w.run("fmt", "-check", "extra.csfle.hcl")
	expect(t, r, 3, "stdout", "extra.csfle.hcl")
}

func TestPlanFormats(t *testing.T) {
	w := newWorkspace(t)
	w.config(twoKeys)

	p := w.planJSON()
	if p.FormatVersion != "1.0" {
		t.Errorf("plan -json format_version %q, want 1.0", p.FormatVersion)
	}
	creates := map[string]bool{}
	for _, c := range p.Changes {
		if c.Action == "create" {
			creates[c.Address] = true
		}
	}
	if !creates["data_key.ssn"] || !creates["data_key.billing"] {
		t.Errorf("plan -json does not create both keys: %+v", p.Changes)
	}

	md := w.ok("plan", "-markdown")
	if !strings.HasPrefix(md.stdout, "### csfle plan") {
		t.Errorf("plan -markdown does not start with the heading:\n%s", md.stdout)
	}
	expect(t, md, 0, "stdout", "`data_key.ssn`", "| create |")

	human := w.ok("plan")
	expect(t, human, 0, "stdout", `+ data_key "ssn"`, "data_key.billing will be created", "to create")

	expect(t, w.run("plan", "-detailed-exitcode"), 2, "stdout", "to create")
	w.ok("apply", "-auto-approve")
	expect(t, w.run("plan", "-detailed-exitcode"), 0, "stdout", "No changes.")

	// An error is 1 with -detailed-exitcode too, not 0 or 2.
	w.config(twoKeys + "\ndata_key \"bad\" {\n  kms = kms.nope\n}\n")
	expect(t, w.run("plan", "-detailed-exitcode"), 1, "stderr", "Reference to undeclared KMS provider")
}

// Colour is on for a terminal, and off with -no-color (before or after the
// command) and with NO_COLOR. Runs csfle on a pseudo-terminal with script(1).
func TestNoColor(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil || runtime.GOOS != "linux" {
		t.Skip("needs util-linux script(1) for a terminal")
	}
	w := newWorkspace(t)
	w.config(twoKeys)
	onTerminal := func(environ []string, args ...string) string {
		t.Helper()
		quoted := []string{"'" + csfleBin + "'"}
		for _, a := range args {
			quoted = append(quoted, "'"+a+"'")
		}
		cmd := exec.Command(script, "-q", "-e", "-c", strings.Join(quoted, " "), "/dev/null")
		cmd.Dir, cmd.Env = w.dir, environ
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("csfle %v on a terminal: %v\n%s", args, err, out)
		}
		if !strings.Contains(string(out), "data_key") {
			t.Fatalf("csfle %v on a terminal printed no plan:\n%s", args, out)
		}
		return string(out)
	}
	colour := without(w.environ(), "NO_COLOR")
	if out := onTerminal(colour, "plan"); !strings.Contains(out, "\x1b[") {
		t.Fatalf("plan on a terminal has no colour, so this test proves nothing:\n%q", out)
	}
	for _, tc := range []struct {
		name    string
		environ []string
		args    []string
	}{
		{"-no-color after plan", colour, []string{"plan", "-no-color"}},
		{"-no-color before plan", colour, []string{"-no-color", "plan"}},
		{"NO_COLOR", append(colour, "NO_COLOR=1"), []string{"plan"}},
		{"NO_COLOR empty", append(colour, "NO_COLOR="), []string{"plan"}},
	} {
		if out := onTerminal(tc.environ, tc.args...); strings.Contains(out, "\x1b") {
			t.Errorf("%s: output has escape codes:\n%q", tc.name, out)
		}
	}
	// Not a terminal: never colour.
	if r := runEnv(t, w.dir, colour, "", "plan"); r.code != 0 || strings.Contains(r.stdout+r.stderr, "\x1b") {
		t.Errorf("plan into a pipe has escape codes or failed:\n%s", r)
	}
}

func TestApplyPrompt(t *testing.T) {
	w := newWorkspace(t)
	w.config(twoKeys)

	r := w.runIn("no\n", "apply")
	expect(t, r, 1, "stderr", "Apply cancelled")
	expect(t, r, 1, "stdout", "Do you want to perform these actions?", "Only 'yes' will be accepted to approve.")
	if n := len(vaultDocs(t, w.namespace)); n != 0 {
		t.Errorf("a cancelled apply left %d keys in the key vault", n)
	}
	if w.exists("csfle.state.json") {
		t.Error("a cancelled apply wrote a state file")
	}

	// No answer at all (no terminal, stdin at EOF): refused, with the way out.
	r = w.runIn("", "apply")
	expect(t, r, 1, "stderr", "-auto-approve")
	if strings.Contains(r.stdout, "Apply complete") || len(vaultDocs(t, w.namespace)) != 0 {
		t.Errorf("apply with no answer applied:\n%s", r)
	}

	// Only "yes" approves: "y" does not.
	expect(t, w.runIn("y\n", "apply"), 1, "stderr", "Apply cancelled")
	if n := len(vaultDocs(t, w.namespace)); n != 0 {
		t.Errorf("apply answered y left %d keys", n)
	}

	r = w.runIn("yes\n", "apply")
	expect(t, r, 0, "stdout", "data_key.ssn: Creation complete", "Apply complete! Resources: 2 created")
	docs := vaultDocs(t, w.namespace)
	if len(docs) != 2 || len(withAlt(docs, "ssn")) != 1 || len(withAlt(docs, "billing-2026")) != 1 {
		t.Errorf("key vault after apply: %v", docs)
	}
	w.assertNoSecrets()
}

func TestShow(t *testing.T) {
	w := newWorkspace(t)
	w.config(twoKeys)
	expect(t, w.run("show"), 0, "stdout", "No state", "csfle.state.json does not exist yet")
	if r := w.ok("show", "-json"); strings.TrimSpace(r.stdout) != "null" {
		t.Errorf("show -json without state: %s", r)
	}

	// A saved plan, before anything exists.
	w.ok("plan", "-out", "create.plan")
	r := w.ok("show", "create.plan")
	expect(t, r, 0, "stdout", "data_key.ssn will be created", "data_key.billing will be created", "to create")
	md := w.ok("show", "-markdown", "create.plan")
	if !strings.HasPrefix(md.stdout, "### csfle plan") {
		t.Errorf("show -markdown PLANFILE:\n%s", md)
	}
	var saved planDoc
	if err := json.Unmarshal([]byte(w.ok("show", "-json", "create.plan").stdout), &saved); err != nil || saved.FormatVersion != "1.0" || len(saved.Changes) < 2 {
		t.Errorf("show -json PLANFILE: %v %+v", err, saved)
	}
	expect(t, w.run("show", "no-such.plan"), 1, "stderr", "no-such.plan")

	w.ok("apply", "create.plan")
	ids := w.keyIDs()
	r = w.ok("show")
	expect(t, r, 0, "stdout", w.namespace, "# data_key.ssn", "# data_key.billing", `["billing","billing-2026"]`)
	for name, b64 := range ids {
		id := uuidOf(keyBinary(t, b64).Data)
		if !strings.Contains(r.stdout, fmt.Sprintf("id              = %q", id)) {
			t.Errorf("show does not give %s's id %s:\n%s", name, id, r.stdout)
		}
	}

	var st struct {
		FormatVersion int    `json:"format_version"`
		Serial        uint64 `json:"serial"`
		Lineage       string `json:"lineage"`
		Namespace     string `json:"key_vault_namespace"`
		Keys          []struct {
			Address string `json:"address"`
			ID      string `json:"id"`
		} `json:"data_keys"`
	}
	out := w.ok("show", "-json").stdout
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("show -json: %v\n%s", err, out)
	}
	if st.Serial == 0 || !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(st.Lineage) || st.Namespace != w.namespace || len(st.Keys) != 2 {
		t.Errorf("show -json: %+v", st)
	}
	if !strings.Contains(r.stdout, fmt.Sprintf("state serial %d, lineage %s", st.Serial, st.Lineage)) {
		t.Errorf("show and show -json disagree on serial and lineage:\n%s", r.stdout)
	}
	w.assertNoSecrets()
}

func TestOutput(t *testing.T) {
	w := newWorkspace(t)
	w.config(twoKeys)
	expect(t, w.run("output"), 0, "stdout", "No data keys in the state yet.")
	w.ok("apply", "-auto-approve")
	docs := vaultDocs(t, w.namespace)
	ssn := withAlt(docs, "ssn")
	billing := withAlt(docs, "billing")
	if len(ssn) != 1 || len(billing) != 1 {
		t.Fatalf("key vault: %v", docs)
	}

	r := w.ok("output")
	for name, b64 := range map[string]string{"ssn": ssn[0], "billing": billing[0]} {
		id := uuidOf(keyBinary(t, b64).Data)
		expect(t, r, 0, "stdout", "data_key."+name, "id        = "+id, "base64    = "+b64)
	}

	r = w.ok("output", "-raw", "ssn")
	if r.stdout != ssn[0]+"\n" {
		t.Errorf("output -raw ssn = %q, want %q", r.stdout, ssn[0]+"\n")
	}
	if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(r.stdout)); err != nil || len(b) != 16 {
		t.Errorf("output -raw ssn is not 16 bytes of base64: %q", r.stdout)
	}

	r = w.ok("output", "billing")
	expect(t, r, 0, "stdout", "data_key.billing", billing[0])
	if strings.Contains(r.stdout, "data_key.ssn") {
		t.Errorf("output billing shows ssn too:\n%s", r)
	}

	expect(t, w.run("output", "nope"), 1, "stderr", `no data key "nope" in the state`)
	expect(t, w.run("output", "-raw"), 1, "stderr", "-raw needs the NAME")
}

func TestChdir(t *testing.T) {
	w := newWorkspace(t)
	w.config(twoKeys)
	elsewhere := t.TempDir()
	for _, args := range [][]string{{"-chdir", w.dir, "plan"}, {"-chdir=" + w.dir, "plan"}} {
		r := w.runFrom(elsewhere, args...)
		expect(t, r, 0, "stdout", "data_key.ssn will be created")
	}
	expect(t, w.runFrom(elsewhere, "-chdir", w.dir, "apply", "-auto-approve"), 0, "stdout", "Apply complete!")
	if !w.exists("csfle.state.json") {
		t.Error("apply with -chdir wrote no state in the configuration directory")
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("apply with -chdir wrote into the directory it was run from: %v", entries)
	}
	expect(t, w.runFrom(elsewhere, "-chdir", w.dir, "plan", "-detailed-exitcode"), 0, "stdout", "No changes.")

	// Without -chdir, the other directory has no configuration.
	if r := w.runFrom(elsewhere, "plan"); r.code != 1 {
		t.Errorf("plan in a directory without configuration: %s", r)
	}
	expect(t, w.runFrom(elsewhere, "-chdir", filepath.Join(w.dir, "missing"), "plan"), 1, "stderr", "-chdir")
}

func TestDestroy(t *testing.T) {
	t.Run("unprotected", func(t *testing.T) {
		w := newWorkspace(t)
		w.config(twoKeys)
		w.ok("apply", "-auto-approve")
		if n := len(vaultDocs(t, w.namespace)); n != 2 {
			t.Fatalf("%d keys after apply", n)
		}
		// Without -auto-approve and without an answer, nothing is deleted.
		r := w.runIn("no\n", "destroy")
		expect(t, r, 1, "stdout", "Do you really want to delete all managed data keys?")
		if n := len(vaultDocs(t, w.namespace)); n != 2 {
			t.Fatalf("a cancelled destroy left %d keys", n)
		}
		r = w.ok("destroy", "-auto-approve")
		expect(t, r, 0, "stdout", "data_key.ssn will be deleted", "Apply complete! Resources: 0 created, 0 rewrapped, 0 updated, 2 deleted")
		if docs := vaultDocs(t, w.namespace); len(docs) != 0 {
			t.Errorf("key vault after destroy: %v", docs)
		}
		expect(t, w.run("output"), 0, "stdout", "No data keys in the state yet.")
	})
	t.Run("prevent_destroy", func(t *testing.T) {
		w := newWorkspace(t)
		w.config(stage1)
		w.ok("apply", "-auto-approve")
		before := rawVault(t, w.namespace)
		stateBefore := w.read("csfle.state.json")
		r := w.run("destroy", "-auto-approve")
		expect(t, r, 1, "stderr", "Key is protected by prevent_destroy", "data_key.ssn",
			fmt.Sprintf("on main.csfle.hcl line %d", w.lineOf(`data_key "ssn"`)))
		if strings.Contains(r.stdout, "Apply complete") || strings.Contains(r.stdout, "Destruction complete") {
			t.Errorf("refused destroy reports work done:\n%s", r)
		}
		// Nothing is deleted, not even the unprotected key.
		if after := rawVault(t, w.namespace); len(after) != 2 || fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("refused destroy changed the key vault:\nbefore %v\nafter  %v", before, after)
		}
		if w.read("csfle.state.json") != stateBefore {
			t.Error("refused destroy wrote the state")
		}
		expect(t, w.run("plan", "-destroy"), 1, "stderr", "Key is protected by prevent_destroy")
	})
}

func TestDevWithoutCsfleDev(t *testing.T) {
	w := newWorkspace(t)
	// PATH holds only an empty directory, and nothing named csfle-dev sits
	// next to the csfle binary.
	if _, err := os.Stat(filepath.Join(filepath.Dir(csfleBin), "csfle-dev")); err == nil {
		t.Skip("a csfle-dev sits next to the csfle under test")
	}
	environ := append(without(w.environ(), "PATH"), "PATH="+t.TempDir())
	for _, args := range [][]string{{"dev"}, {"dev", "--help"}} {
		r := runEnv(t, w.dir, environ, "", args...)
		expect(t, r, 1, "stderr", "csfle-dev was not found", "PATH")
	}
}
