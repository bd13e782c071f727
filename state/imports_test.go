package state_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports holds the package to its promise: no MongoDB driver, no HCL,
// no network.
func TestImports(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list dependencies with")
	}
	out, err := exec.Command(goTool, "list", "-deps", "github.com/csfle/csfle/state").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	forbidden := []string{"go.mongodb.org/", "github.com/hashicorp/hcl", "github.com/zclconf/go-cty", "net", "crypto/tls"}
	for _, pkg := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if pkg == f || strings.HasPrefix(pkg, strings.TrimSuffix(f, "/")+"/") {
				t.Errorf("state depends on %s", pkg)
			}
		}
	}
}
