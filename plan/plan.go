// Package plan defines a plan: the ordered list of changes that takes the key
// vault from what it holds to what the configuration wants, with the drift
// found on the way and the facts a saved plan is checked against before it
// is applied.
//
// A Plan is plain data with one versioned JSON form. The planner builds it,
// the executor carries it out, state saves it to a file and render shows it.
// This package must never import anything that does I/O.
package plan

import (
	"fmt"

	"github.com/csfle/csfle/model"
)

// FormatVersion is the version of the JSON document a Plan marshals to.
// Readers refuse a document with a different major version.
const FormatVersion = "1.0"

// Action is what a change does.
type Action int

const (
	NoOp Action = iota
	Create
	Update
	Rewrap
	Delete
	Replace
	Adopt
)

var actionNames = [...]string{"no-op", "create", "update", "rewrap", "delete", "replace", "adopt"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Symbol is how the action is drawn in front of a change.
func (a Action) Symbol() string {
	switch a {
	case Create:
		return "+"
	case Update:
		return "~"
	case Rewrap:
		return "↻"
	case Delete:
		return "-"
	case Replace:
		return "-/+"
	case Adopt:
		return "<="
	}
	return " "
}

// MarshalText writes the action's name.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads an action's name.
func (a *Action) UnmarshalText(b []byte) error {
	for i, n := range actionNames {
		if n == string(b) {
			*a = Action(i)
			return nil
		}
	}
	return fmt.Errorf("plan: unknown action %q", b)
}

// Key is a data key on one side of a change. It carries no key material.
type Key struct {
	ID             *model.KeyID    `json:"id,omitempty"`
	AltNames       []string        `json:"alt_names"`
	MasterKey      model.MasterKey `json:"master_key"`
	PreventDestroy bool            `json:"prevent_destroy,omitempty"`
}

// CollectionField is an encrypted field as a plan shows it: the key it
// uses by address and, when the key exists already, by id.
type CollectionField struct {
	model.EncryptedField
	KeyID *model.KeyID `json:"key_id,omitempty"` // nil: known after apply
}

// Collection is an encrypted collection on one side of a change.
type Collection struct {
	Database string            `json:"database"`
	Name     string            `json:"name"`
	Mode     string            `json:"mode"`
	Fields   []CollectionField `json:"fields"`
}

// CollectionChange is the collection part of a change to a collection.
type CollectionChange struct {
	Before *Collection `json:"before,omitempty"`
	After  *Collection `json:"after,omitempty"`
	// Document is the canonical extended JSON that will be written (the
	// $jsonSchema or the encryptedFields), when every key id is known at
	// plan time; otherwise it is made at apply time.
	Document string `json:"document,omitempty"`
}

// Change is one step of a plan. Reason is for people; the executor never
// decides anything from it.
type Change struct {
	Addr   model.Addr `json:"address"`
	Action Action     `json:"action"`
	Before *Key       `json:"before,omitempty"`
	After  *Key       `json:"after,omitempty"`
	// Collection is set on changes to collections (Addr.Type "collection").
	Collection *CollectionChange `json:"collection,omitempty"`
	Reason     string            `json:"reason"`
}

// KeyID is the id of the key the change acts on, when it is known before
// apply (every action but create).
func (c Change) KeyID() (model.KeyID, bool) {
	for _, k := range []*Key{c.Before, c.After} {
		if k != nil && k.ID != nil {
			return *k.ID, true
		}
	}
	return model.KeyID{}, false
}

// Drift is a difference between the state and the live key vault that
// someone made outside csfle since the last apply.
type Drift struct {
	Addr   model.Addr `json:"address"`
	Kind   string     `json:"kind"` // "deleted", "rewrapped", "renamed"
	Before *Key       `json:"before,omitempty"`
	After  *Key       `json:"after,omitempty"`
	Detail string     `json:"detail"`
}

// Basis is what a plan was made from; a saved plan whose basis no longer
// holds is stale and must not be applied.
type Basis struct {
	StateLineage string `json:"state_lineage"`
	StateSerial  uint64 `json:"state_serial"`
	// VaultDigest summarises the key vault documents that were read.
	VaultDigest string `json:"vault_digest"`
	Namespace   string `json:"key_vault_namespace"`
}

// Plan is the whole plan.
type Plan struct {
	FormatVersion string `json:"format_version"`
	// Destroy is set on a plan made to delete every managed key.
	Destroy bool `json:"destroy,omitempty"`
	// AllowReplace and ScanAll record the options the plan was made with,
	// so that applying it saved checks it the same way.
	AllowReplace bool     `json:"allow_replace,omitempty"`
	ScanAll      bool     `json:"scan_all,omitempty"`
	Basis        Basis    `json:"basis"`
	Changes      []Change `json:"changes"`
	Drift        []Drift  `json:"drift"`
	Warnings     []string `json:"warnings"`
}

// Summary counts changes by action.
type Summary struct {
	Create, Update, Rewrap, Delete, Replace, Adopt int
}

// Summarize counts the plan's changes.
func (p *Plan) Summarize() Summary {
	var s Summary
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			s.Create++
		case Update:
			s.Update++
		case Rewrap:
			s.Rewrap++
		case Delete:
			s.Delete++
		case Replace:
			s.Replace++
		case Adopt:
			s.Adopt++
		}
	}
	return s
}

// HasChanges reports whether applying the plan would do anything.
func (p *Plan) HasChanges() bool { return len(p.Changes) > 0 }
