package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions are the functions a configuration may call. env and file read
// from outside the configuration: the environment through lookupEnv, files
// relative to dir.
func functions(dir string, lookupEnv func(string) (string, bool)) map[string]function.Function {
	return map[string]function.Function{
		"env":       envFunc(lookupEnv),
		"file":      fileFunc(dir),
		"trimspace": stdlib.TrimSpaceFunc,
		"lower":     stdlib.LowerFunc,
		"upper":     stdlib.UpperFunc,
		"format":    stdlib.FormatFunc,
		"join":      stdlib.JoinFunc,
		"concat":    stdlib.ConcatFunc,
	}
}

// envFunc is env(name) or env(name, default).
func envFunc(lookupEnv func(string) (string, bool)) function.Function {
	return function.New(&function.Spec{
		Description: "Returns the value of an environment variable, or the default if it is not set.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam:    &function.Parameter{Name: "default", Type: cty.String},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(args) > 2 {
				return cty.NilVal, function.NewArgErrorf(2, "env takes a name and at most one default")
			}
			name := args[0].AsString()
			if v, ok := lookupEnv(name); ok {
				return cty.StringVal(v), nil
			}
			if len(args) == 2 {
				return args[1], nil
			}
			return cty.NilVal, function.NewArgErrorf(0,
				"the environment variable %s is not set; set it, or give env a default as its second argument, as in env(%q, \"\")",
				name, name)
		},
	})
}

// fileFunc is file(path): the contents of a text file, path relative to the
// configuration directory.
func fileFunc(dir string) function.Function {
	return function.New(&function.Spec{
		Description: "Returns the contents of a text file, relative to the configuration directory.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			full := p
			if !filepath.IsAbs(p) {
				full = filepath.Join(dir, p)
			}
			b, err := os.ReadFile(full)
			if err != nil {
				var pe *fs.PathError
				if errors.As(err, &pe) {
					err = pe.Err
				}
				return cty.NilVal, function.NewArgErrorf(0, "cannot read %s (%s): %v", p, full, err)
			}
			if !utf8.Valid(b) {
				return cty.NilVal, function.NewArgErrorf(0, "%s is not a text file (not valid UTF-8)", p)
			}
			return cty.StringVal(string(b)), nil
		},
	})
}
