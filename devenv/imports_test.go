package devenv_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The product binary must not link a database server and a fake KMS.
func TestProductBinaryDoesNotImportDevenv(t *testing.T) {
	t.Parallel()
	const product = "github.com/csfle/csfle/cmd/csfle"
	for _, tags := range []string{"", "cse"} {
		out, err := exec.Command("go", "list", "-e", "-tags", tags, "-deps", "-f", "{{.ImportPath}}", product).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", product, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == "github.com/csfle/csfle/devenv" {
				t.Errorf("%s (tags %q) imports devenv", product, tags)
			}
		}
	}
}
