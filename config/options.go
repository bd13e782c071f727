package config

import (
	"os"
	"strconv"
	"strings"
)

// LoadOptions are the inputs to a load besides the files themselves.
type LoadOptions struct {
	// Vars are -var options, "NAME=VALUE", in the order given; a later one
	// wins over an earlier one for the same name.
	Vars []string
	// VarFiles are -var-file paths (HCL files of NAME = VALUE), in the order
	// given; a later file wins over an earlier one.
	VarFiles []string
	// LookupEnv reads the environment, for env() and CSFLE_VAR_<name>.
	// Nil means an empty environment, which keeps tests hermetic.
	LookupEnv func(string) (string, bool)
	// LibmongocryptVersion is the version of the linked libmongocrypt, such
	// as "1.8.4". It decides whether named KMS providers are allowed; empty
	// means unknown.
	LibmongocryptVersion string
}

// DefaultLoadOptions returns options that read the process environment.
func DefaultLoadOptions() LoadOptions {
	return LoadOptions{LookupEnv: os.LookupEnv}
}

func (o LoadOptions) lookupEnv(name string) (string, bool) {
	if o.LookupEnv == nil {
		return "", false
	}
	return o.LookupEnv(name)
}

// namedProvidersEnabled switches on named providers (kms "aws" "prod") for a
// libmongocrypt that has them. It stays off until the vault and the executor
// handle "kind:label" provider names.
const namedProvidersEnabled = false

// namedProvidersSupported reports whether kms blocks may carry a second label
// with the given libmongocrypt: named KMS providers arrived in 1.9.0.
func namedProvidersSupported(libmongocryptVersion string) bool {
	return namedProvidersEnabled && versionAtLeast(libmongocryptVersion, 1, 9, 0)
}

// versionAtLeast compares a "MAJOR.MINOR.PATCH[-pre][+build]" version with
// major.minor.patch. An unparsable version is never at least anything.
func versionAtLeast(v string, major, minor, patch int) bool {
	v = strings.TrimPrefix(v, "v")
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	parts := strings.Split(v, ".")
	if len(parts) == 0 || len(parts) > 3 {
		return false
	}
	var got [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return false
		}
		got[i] = n
	}
	want := [3]int{major, minor, patch}
	for i := range got {
		if got[i] != want[i] {
			return got[i] > want[i]
		}
	}
	return true
}
