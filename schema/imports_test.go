package schema_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The planner imports this package, so it must stay pure: no MongoDB
// driver and nothing that talks to the world, in all it depends on (fmt
// itself brings in os, so os is held to the package's own imports).
func TestImportsNoIO(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list dependencies with")
	}
	list := func(args ...string) []string {
		out, err := exec.Command(goTool, append([]string{"list"}, append(args, "github.com/csfle/csfle/schema")...)...).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
		}
		return strings.Fields(string(out))
	}
	check := func(pkgs []string, forbidden []string, what string) {
		for _, pkg := range pkgs {
			for _, f := range forbidden {
				if pkg == f || strings.HasPrefix(pkg, f+"/") {
					t.Errorf("schema %s %s", what, pkg)
				}
			}
		}
	}
	check(list("-deps"), []string{"go.mongodb.org", "net", "os/exec", "crypto/tls",
		"github.com/aws", "github.com/hashicorp/hcl", "github.com/zclconf/go-cty"}, "depends on")
	check(list("-f", "{{join .Imports \"\\n\"}}"), []string{"os", "io/fs", "path/filepath", "syscall", "log"}, "imports")
}
