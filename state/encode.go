package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/csfle/csfle/model"
)

// Encode returns the state document: indented JSON with keys in a fixed
// order, data keys sorted by address, and a trailing newline, so that two
// writes of the same state are byte for byte the same and diff well.
// It refuses a state without a lineage or with an address recorded twice.
func Encode(s *State) ([]byte, error) {
	doc := *s
	doc.Keys = slices.Clone(s.Keys)
	slices.SortStableFunc(doc.Keys, func(a, b model.PriorKey) int { return compareAddr(a.Addr, b.Addr) })
	if err := check(&doc); err != nil {
		return nil, fmt.Errorf("state: the state to write %w", err)
	}
	if doc.Keys == nil {
		doc.Keys = []model.PriorKey{} // "data_keys": [] reads better than null
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("state: cannot encode the state: %w", err)
	}
	return buf.Bytes(), nil // Encode ends the document with a newline
}

// Decode reads a state document. Source names where it came from (a file
// path) in error messages.
//
// It refuses a document that is not valid JSON, was written by a newer
// csfle, has no format version or lineage, or records an address twice.
// Data keys that are out of order are sorted.
func Decode(data []byte, source string) (*State, error) {
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, &corruptError{source: source, err: err}
	}
	switch {
	case s.FormatVersion > FormatVersion:
		return nil, fmt.Errorf("state: %s was written by a newer csfle (state format version %d; this csfle reads up to version %d). Upgrade csfle to use this state.",
			source, s.FormatVersion, FormatVersion)
	case s.FormatVersion <= 0:
		return nil, fmt.Errorf("state: %s has no format_version, so it is not a csfle state file.", source)
	}
	slices.SortStableFunc(s.Keys, func(a, b model.PriorKey) int { return compareAddr(a.Addr, b.Addr) })
	if err := check(&s); err != nil {
		return nil, fmt.Errorf("state: %s %w; it was edited by hand or is damaged. Restore it from its backup or from version control.", source, err)
	}
	if len(s.Keys) == 0 {
		s.Keys = nil
	}
	// An empty list reads as none, so a state reads the same after a write.
	if len(s.Collections) == 0 {
		s.Collections = nil
	}
	if len(s.Retired) == 0 {
		s.Retired = nil
	}
	return &s, nil
}

// check validates a state whose keys are sorted. Its errors complete the
// sentence "state: SOURCE ...".
func check(s *State) error {
	if s.Lineage == "" {
		return errors.New("has no lineage")
	}
	for i, k := range s.Keys {
		if k.Addr.Type == "" || k.Addr.Name == "" {
			return fmt.Errorf("records a data key without an address (entry %d)", i)
		}
		if i > 0 && s.Keys[i-1].Addr == k.Addr {
			return fmt.Errorf("records %s more than once", k.Addr)
		}
	}
	seen := map[model.Addr]bool{}
	for i, c := range s.Collections {
		if c.Addr.Type != "collection" || c.Addr.Name == "" || c.Database == "" || c.Name == "" {
			return fmt.Errorf("records a collection without an address, database or name (entry %d)", i)
		}
		if seen[c.Addr] {
			return fmt.Errorf("records %s more than once", c.Addr)
		}
		seen[c.Addr] = true
	}
	return nil
}

// corruptError reports a state document that cannot be parsed.
type corruptError struct {
	source string
	err    error
	// backup is the backup file's path, when the backend keeps one;
	// hasBackup says whether it exists.
	backup    string
	hasBackup bool
}

func (e *corruptError) Error() string {
	var syn *json.SyntaxError
	what := "is not a valid csfle state"
	if errors.As(e.err, &syn) {
		what = "is not valid JSON"
	}
	msg := fmt.Sprintf("state: %s %s (%v): the file may be truncated or corrupted.", e.source, what, e.err)
	switch {
	case e.backup == "":
	case e.hasBackup:
		msg += fmt.Sprintf(" The previous version is in %s; check it, then copy it over %s to recover.", e.backup, e.source)
	default:
		msg += fmt.Sprintf(" There is no backup (%s) to recover from; restore the file from version control or your own backups.", e.backup)
	}
	return msg
}

func (e *corruptError) Unwrap() error { return e.err }
