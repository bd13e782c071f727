package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/csfle/csfle/devenv"
)

var (
	csfleBin string
	env      *devenv.Env
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "csfle-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	csfleBin = filepath.Join(tmp, "csfle")
	build := exec.Command("go", "build", "-tags", "cse", "-o", csfleBin, "../cmd/csfle")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building csfle:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env, err = devenv.Start(ctx, devenv.Options{Dir: filepath.Join(tmp, "env")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the development environment:", err)
		return 1
	}
	defer env.Close()
	return m.Run()
}

// workspace is a configuration directory with its own key vault namespace,
// so tests sharing the environment never see each other's keys.
type workspace struct {
	t         *testing.T
	dir       string
	namespace string
	localKey  string // base64, a secret the tests look for in every output
	outputs   []string
	// mongoURI, if set, replaces the shared environment's server (for
	// trials that stop and start a server of their own).
	mongoURI string
}

// uri is the MongoDB server the workspace uses.
func (w *workspace) uri() string {
	if w.mongoURI != "" {
		return w.mongoURI
	}
	return env.MongoURI
}

var wsCounter int

func newWorkspace(t *testing.T) *workspace {
	t.Helper()
	wsCounter++
	w := &workspace{
		t:         t,
		dir:       t.TempDir(),
		namespace: fmt.Sprintf("enc_%s_%d.__keyVault", sanitize(t.Name()), wsCounter),
		localKey:  newLocalKey(t),
	}
	w.write("master-key.txt", w.localKey)
	return w
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	if b.Len() > 30 {
		return b.String()[:30]
	}
	return b.String()
}

func newLocalKey(t *testing.T) string {
	b := make([]byte, 96)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func (w *workspace) write(name, content string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, name), []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// config writes main.csfle.hcl: the key vault block plus body.
func (w *workspace) config(body string) {
	w.write("main.csfle.hcl", fmt.Sprintf(`key_vault {
  uri       = env("CSFLE_DEV_MONGODB_URI")
  namespace = %q
}

%s`, w.namespace, body))
}

const localProvider = `kms "local" {
  key = file("master-key.txt")
}
`

const awsProvider = `kms "aws" {
  region   = "us-east-1"
  endpoint = env("CSFLE_DEV_AWS_ENDPOINT")
}
`

// environ is what csfle runs with: the development environment, and no
// AWS configuration from the machine running the tests.
func (w *workspace) environ() []string {
	e := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + w.dir,
		"NO_COLOR=1",
		"AWS_CONFIG_FILE=" + filepath.Join(w.dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(w.dir, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"CSFLE_VAR_cmk_arn=" + env.CMKARN,
	}
	for _, l := range env.Exports() {
		kv := strings.TrimPrefix(l, "export ")
		name, val, _ := strings.Cut(kv, "=")
		e = append(e, name+"="+strings.Trim(val, "'"))
	}
	if w.mongoURI != "" {
		e = append(e, "CSFLE_DEV_MONGODB_URI="+w.mongoURI) // the last value wins
	}
	return e
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// runIn runs csfle in the workspace with stdin, and keeps its output for
// the secrets check.
func (w *workspace) runIn(stdin string, args ...string) result {
	w.t.Helper()
	r := runEnv(w.t, w.dir, w.environ(), stdin, args...)
	w.outputs = append(w.outputs, r.stdout, r.stderr)
	return r
}

func (w *workspace) run(args ...string) result {
	w.t.Helper()
	return w.runIn("", args...)
}

// ok runs csfle and fails the test unless it exits 0.
func (w *workspace) ok(args ...string) result {
	w.t.Helper()
	r := w.run(args...)
	if r.code != 0 {
		w.t.Fatalf("csfle %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// keyIDs reads `csfle output -json`: data key name to base64 id.
func (w *workspace) keyIDs() map[string]string {
	w.t.Helper()
	r := w.ok("output", "-json")
	var m struct {
		DataKeys map[string]struct {
			ID     string `json:"id"`
			Base64 string `json:"base64"`
		} `json:"data_keys"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		w.t.Fatalf("output -json: %v\n%s", err, r.stdout)
	}
	out := map[string]string{}
	for k, v := range m.DataKeys {
		out[k] = v.Base64
	}
	return out
}

// planJSON runs plan -json and decodes it.
func (w *workspace) planJSON(args ...string) planDoc {
	w.t.Helper()
	r := w.ok(append([]string{"plan", "-json"}, args...)...)
	var p planDoc
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		w.t.Fatalf("plan -json: %v\n%s", err, r.stdout)
	}
	return p
}

type planDoc struct {
	FormatVersion string `json:"format_version"`
	Changes       []struct {
		Address string `json:"address"`
		Action  string `json:"action"`
		Before  *struct {
			ID string `json:"id"`
		} `json:"before"`
		After *struct {
			ID        string `json:"id"`
			MasterKey struct {
				Provider string `json:"provider"`
			} `json:"master_key"`
		} `json:"after"`
	} `json:"changes"`
}

// written lists every file csfle may have written in the workspace, key
// backups included.
func (w *workspace) written() map[string][]byte {
	w.t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(w.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		n := d.Name()
		if d.IsDir() || n == "master-key.txt" || strings.HasSuffix(n, ".csfle.hcl") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(w.dir, path)
		files[rel] = b
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return files
}
