package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/csfle/csfle/plan"
)

// PlanFileFormatVersion is the version of the saved-plan document. Readers
// refuse a file whose major version differs from theirs.
const PlanFileFormatVersion = "1.0"

// PlanFile is a plan saved by `plan -out FILE` for `apply FILE`.
//
// It holds no variable values: they may be secret, so apply takes them
// from its own command line. It records instead what the plan was made
// from, so that apply can refuse it once that has changed: Plan.Basis (the
// state and key vault) and ConfigDigest (the configuration files).
type PlanFile struct {
	FormatVersion string    `json:"format_version"`
	CreatedAt     time.Time `json:"created_at"`
	// ConfigDir is the absolute working directory csfle ran in when it made
	// the plan. It is for messages only and never decides anything.
	ConfigDir string `json:"config_dir"`
	// ConfigDigest is the caller's digest of the configuration files.
	ConfigDigest string    `json:"config_digest"`
	Plan         plan.Plan `json:"plan"`
	// Checksum is "sha256:" and the hex SHA-256 of the canonical JSON of
	// everything else in the file: its top-level members but "checksum",
	// in name order, each value as written but without insignificant white
	// space (what json.Marshal makes of a map[string]json.RawMessage). An
	// edited plan is refused instead of applied.
	Checksum string `json:"checksum"`
}

// WritePlanFile saves p, made from configuration with the given digest, to
// path: atomically, with mode 0600.
func WritePlanFile(path string, p *plan.Plan, configDigest string) error {
	if p == nil {
		return fmt.Errorf("state: write saved plan %s: no plan to write", path)
	}
	dir, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("state: write saved plan %s: %w", path, err)
	}
	f := PlanFile{
		FormatVersion: PlanFileFormatVersion,
		CreatedAt:     time.Now().UTC(),
		ConfigDir:     dir,
		ConfigDigest:  configDigest,
		Plan:          *p,
	}
	if f.Plan.FormatVersion == "" {
		f.Plan.FormatVersion = plan.FormatVersion
	}
	unsigned, err := encodePlanFile(&f)
	if err != nil {
		return fmt.Errorf("state: write saved plan %s: %w", path, err)
	}
	if f.Checksum, err = planFileChecksum(unsigned); err != nil {
		return fmt.Errorf("state: write saved plan %s: %w", path, err)
	}
	data, err := encodePlanFile(&f)
	if err != nil {
		return fmt.Errorf("state: write saved plan %s: %w", path, err)
	}
	if _, err := writeAtomic(path, data, nil, nil); err != nil {
		return fmt.Errorf("state: write saved plan %s: %w", path, err)
	}
	return nil
}

// ReadPlanFile reads a saved plan. It refuses a file that is not valid
// JSON, whose major format version (or its plan's) this csfle does not
// read, or that was changed after it was written.
func ReadPlanFile(path string) (*PlanFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("state: read saved plan %s: %w", path, err)
	}
	return DecodePlanFile(data, path)
}

// DecodePlanFile is ReadPlanFile on bytes read from path.
func DecodePlanFile(data []byte, path string) (*PlanFile, error) {
	var f PlanFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("state: %s is not a valid saved plan (%v): the file may be truncated or corrupted. Run csfle plan -out again.", path, err)
	}
	if f.FormatVersion == "" {
		return nil, fmt.Errorf("state: %s has no format_version, so it is not a plan saved by csfle plan -out.", path)
	}
	if major(f.FormatVersion) != major(PlanFileFormatVersion) {
		return nil, fmt.Errorf("state: %s is a saved plan of format version %s, which this csfle cannot read (it reads %s). Apply it with the csfle that made it, or run csfle plan again.",
			path, f.FormatVersion, PlanFileFormatVersion)
	}
	if major(f.Plan.FormatVersion) != major(plan.FormatVersion) {
		return nil, fmt.Errorf("state: %s holds a plan of format version %q, which this csfle cannot read (it reads %s). Apply it with the csfle that made it, or run csfle plan again.",
			path, f.Plan.FormatVersion, plan.FormatVersion)
	}
	sum, err := planFileChecksum(data)
	if err != nil || f.Checksum != sum {
		return nil, fmt.Errorf("state: the saved plan %s was modified after it was made; run csfle plan again.", path)
	}
	return &f, nil
}

func encodePlanFile(f *PlanFile) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// planFileChecksum hashes the canonical JSON of a saved-plan document
// without its checksum: its top-level members in name order, each value
// exactly as written but without insignificant white space. Any change to
// a value, or an added member, changes the checksum; re-indenting does not.
func planFileChecksum(doc []byte) (string, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(doc, &members); err != nil {
		return "", err
	}
	delete(members, "checksum")
	canonical, err := json.Marshal(members) // sorts names, compacts values
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canonical)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

func major(version string) string {
	m, _, _ := strings.Cut(version, ".")
	return m
}
