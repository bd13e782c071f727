package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// FileSuffix is how configuration files are named.
const FileSuffix = ".csfle.hcl"

// Load reads every *.csfle.hcl file in dir, in name order, and evaluates
// them. The Config is nil whenever the diagnostics hold an error.
func Load(dir string, opts LoadOptions) (*Config, hcl.Diagnostics) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration directory",
			Detail:   fmt.Sprintf("Reading %s failed: %v. Run csfle in the directory that holds the configuration, or point -chdir at it.", dir, err),
		}}
	}
	files := make(map[string][]byte)
	var diags hcl.Diagnostics
	for _, e := range entries {
		if e.IsDir() || !IsConfigFile(e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read configuration file",
				Detail:   fmt.Sprintf("Reading %s failed: %v.", path, err),
			})
			continue
		}
		files[path] = b
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return LoadFiles(files, dir, opts)
}

// IsConfigFile reports whether a file name is one Load reads. Editor lock
// and backup files are left out.
func IsConfigFile(name string) bool {
	return strings.HasSuffix(name, FileSuffix) &&
		!strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "#")
}

// LoadFiles evaluates a configuration held in memory: files maps the names
// used in diagnostics to their contents, and dir is the directory that
// file() and the files a kms block names are relative to. Files are read in name order.
func LoadFiles(files map[string][]byte, dir string, opts LoadOptions) (*Config, hcl.Diagnostics) {
	l := &loader{dir: dir, opts: opts, parser: hclparse.NewParser()}
	cfg := l.load(files)
	if l.diags.HasErrors() {
		return nil, l.diags
	}
	return cfg, l.diags
}

// loader holds one load's inputs and the diagnostics found so far. Decoding
// goes on after an error where it can, so that one run reports as many
// mistakes as possible, but skips whatever depends on a broken part, so that
// one mistake is reported once.
type loader struct {
	dir    string
	opts   LoadOptions
	parser *hclparse.Parser
	eval   *evaluator
	diags  hcl.Diagnostics
}

func (l *loader) report(diags ...*hcl.Diagnostic) { l.diags = append(l.diags, diags...) }

// blocks are the top-level blocks of all files, by type, in source order.
type blocks struct {
	variables, keyVaults, kms, dataKeys, collections []*hclsyntax.Block
}

func (l *loader) load(files map[string][]byte) *Config {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) == 0 {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   fmt.Sprintf("%s holds no *%s files. Run csfle in the directory that holds the configuration, or point -chdir at it.", l.dir, FileSuffix),
		})
		return nil
	}

	var bodies []*hclsyntax.Body
	for _, name := range names {
		f, diags := l.parser.ParseHCL(files[name], name)
		l.report(diags...)
		if body, ok := f.Body.(*hclsyntax.Body); ok && !diags.HasErrors() {
			bodies = append(bodies, body)
		}
	}
	// A file that does not parse has lost blocks, and every check across
	// files would report their absence as more mistakes.
	if l.diags.HasErrors() {
		return nil
	}

	var bs blocks
	for _, body := range bodies {
		l.collect(body, &bs)
	}

	vars := l.decodeVariables(bs.variables)
	l.eval = &evaluator{
		ctx: &hcl.EvalContext{
			Variables: map[string]cty.Value{"var": l.variableValues(vars)},
			Functions: functions(l.dir, l.opts.lookupEnv),
		},
		vars: make(map[string]bool, len(vars)),
	}
	for _, v := range vars {
		l.eval.vars[v.name] = true
	}

	cfg := &Config{Dir: l.dir, Files: l.parser.Files()}
	cfg.KeyVault = l.decodeKeyVault(bs.keyVaults, bodies[0].MissingItemRange())
	providers, declared := l.decodeProviders(bs.kms)
	cfg.DataKeys = l.decodeDataKeys(bs.dataKeys, providers, declared)
	cfg.Collections = l.decodeCollections(bs.collections, declaredDataKeys(bs.dataKeys), cfg.KeyVault.Namespace)

	for _, p := range providers {
		cfg.Providers = append(cfg.Providers, p)
	}
	sort.Slice(cfg.Providers, func(i, j int) bool { return cfg.Providers[i].Name < cfg.Providers[j].Name })
	sort.Slice(cfg.DataKeys, func(i, j int) bool { return cfg.DataKeys[i].Name < cfg.DataKeys[j].Name })
	sort.Slice(cfg.Collections, func(i, j int) bool { return cfg.Collections[i].Addr.Name < cfg.Collections[j].Addr.Name })
	return cfg
}

// blockType describes a top-level block type.
type blockType struct {
	labels  []string // what each label means
	example string
}

var blockTypes = map[string]blockType{
	"variable":   {labels: []string{"name"}, example: `variable "cmk_arn" { ... }`},
	"key_vault":  {example: `key_vault { ... }`},
	"kms":        {labels: []string{"kind"}, example: `kms "aws" { ... }`},
	"data_key":   {labels: []string{"name"}, example: `data_key "ssn" { ... }`},
	"collection": {labels: []string{"database name", "collection name"}, example: `collection "medical" "patients" { ... }`},
}

const topLevelBlocks = "variable, key_vault, kms, data_key and collection"

// collect sorts a file's top-level blocks by type and reports anything at
// the top level that is not one of them, or has the wrong labels.
func (l *loader) collect(body *hclsyntax.Body, bs *blocks) {
	for _, attr := range sortedAttributes(body.Attributes) {
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unsupported argument",
			Detail:   fmt.Sprintf("An argument named %q is not expected at the top level, which holds only %s blocks.", attr.Name, topLevelBlocks),
			Subject:  attr.NameRange.Ptr(),
		})
	}
	for _, b := range body.Blocks {
		bt, ok := blockTypes[b.Type]
		if !ok {
			l.report(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unsupported block type",
				Detail:   fmt.Sprintf("Blocks of type %q are not expected here. A configuration holds %s blocks.", b.Type, topLevelBlocks),
				Subject:  b.TypeRange.Ptr(),
			})
			continue
		}
		if !l.checkLabels(b, bt) {
			continue
		}
		switch b.Type {
		case "variable":
			bs.variables = append(bs.variables, b)
		case "key_vault":
			bs.keyVaults = append(bs.keyVaults, b)
		case "kms":
			bs.kms = append(bs.kms, b)
		case "data_key":
			bs.dataKeys = append(bs.dataKeys, b)
		case "collection":
			bs.collections = append(bs.collections, b)
		}
	}
}

// checkLabels reports a block with too few or too many labels, and a name
// label that is not an identifier. It returns false if the block cannot be
// decoded at all.
func (l *loader) checkLabels(b *hclsyntax.Block, bt blockType) bool {
	want := len(bt.labels)
	if b.Type == "kms" && len(b.Labels) == 2 {
		want = 2 // a named provider, checked with the kind
	}
	switch {
	case len(b.Labels) < want:
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Missing %s for %s block", bt.labels[len(b.Labels)], b.Type),
			Detail:   fmt.Sprintf("A %s block has %s, as in %s.", b.Type, labelList(bt.labels), bt.example),
			Subject:  b.DefRange().Ptr(),
		})
		return false
	case len(b.Labels) > want:
		l.report(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Extraneous label for %s block", b.Type),
			Detail:   fmt.Sprintf("Remove the label %q: a %s block is written %s.", b.Labels[want], b.Type, bt.example),
			Subject:  b.LabelRanges[want].Ptr(),
		})
		return false
	}
	if len(bt.labels) == 1 && bt.labels[0] == "name" && !hclsyntax.ValidIdentifier(b.Labels[0]) {
		l.report(invalidName(b.Type, b.Labels[0], b.LabelRanges[0]))
	}
	return true
}

var numberWords = []string{"no", "one", "two", "three"}

// labelList says what a block's labels are: "one label, its name".
func labelList(labels []string) string {
	if len(labels) == 1 {
		return "one label, its " + labels[0]
	}
	return fmt.Sprintf("%s labels, its %s and its %s", numberWords[len(labels)],
		strings.Join(labels[:len(labels)-1], ", its "), labels[len(labels)-1])
}

func invalidName(blockType, name string, rng hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid name",
		Detail: fmt.Sprintf("%q is not a valid name for a %s block: a name starts with a letter or an underscore "+
			"and holds only letters, digits, underscores and dashes.", name, blockType),
		Subject: rng.Ptr(),
	}
}

// duplicate reports a block declared twice, pointing at the second.
func duplicate(summary, what string, first, second hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf("%s is already declared at %s. Remove one of the two, or rename it.", what, shortRange(first)),
		Subject:  second.Ptr(),
	}
}

// shortRange is a range as "file:line", for pointing at a second place
// from a diagnostic's detail.
func shortRange(r hcl.Range) string { return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line) }

func sortedAttributes(attrs map[string]*hclsyntax.Attribute) []*hclsyntax.Attribute {
	out := make([]*hclsyntax.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SrcRange.Start.Byte < out[j].SrcRange.Start.Byte })
	return out
}

// Sources reads again the files that diagnostics point into, for printing
// them with source snippets (hcl.NewDiagnosticTextWriter) when Load returned
// no Config to take Config.Files from. Files that cannot be read are left out.
func Sources(diags hcl.Diagnostics) map[string]*hcl.File {
	files := make(map[string]*hcl.File)
	for _, d := range diags {
		for _, r := range []*hcl.Range{d.Subject, d.Context} {
			if r == nil || r.Filename == "" || files[r.Filename] != nil {
				continue
			}
			if b, err := os.ReadFile(r.Filename); err == nil {
				files[r.Filename] = &hcl.File{Bytes: b}
			}
		}
	}
	return files
}
