package render

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/csfle/csfle/plan"
)

func TestApplyLine(t *testing.T) {
	const id = "3f2a9c1e-6b7d-4e21-9a3f-0c5d8e7b1a24"
	tests := []struct {
		e    ApplyEvent
		want string
	}{
		{ApplyEvent{Addr: "data_key.ssn", Action: "create", Phase: PhaseStart}, "data_key.ssn: Creating...\n"},
		{ApplyEvent{Addr: "data_key.ssn", Action: "create", Phase: PhaseDone, KeyID: id, Elapsed: 412 * time.Millisecond},
			"data_key.ssn: Creation complete after 0.4s [id=" + id + "]\n"},
		{ApplyEvent{Addr: "data_key.billing", Action: "rewrap", Phase: PhaseStart}, "data_key.billing: Rewrapping...\n"},
		{ApplyEvent{Addr: "data_key.billing", Action: "rewrap", Phase: PhaseDone, KeyID: id, Elapsed: 2*time.Minute + 5400*time.Millisecond},
			"data_key.billing: Rewrap complete after 2m5s [id=" + id + "]\n"},
		{ApplyEvent{Addr: "data_key.ssn", Action: "update", Phase: PhaseDone, Elapsed: 50 * time.Millisecond},
			"data_key.ssn: Update complete after 0.1s\n"},
		{ApplyEvent{Addr: "data_key.old", Action: "delete", Phase: PhaseDone, KeyID: id}, "data_key.old: Deletion complete after 0.0s [id=" + id + "]\n"},
		{ApplyEvent{Addr: "data_key.x", Action: "adopt", Phase: PhaseStart}, "data_key.x: Adopting...\n"},
		{ApplyEvent{Addr: "key_vault.keyAltNames_index", Action: "create", Phase: PhaseStart}, "key_vault.keyAltNames_index: Creating...\n"},
		{ApplyEvent{Addr: "data_key.ssn", Action: "create", Phase: PhaseFailed, Err: "vault: insert: duplicate key\nE11000"},
			"data_key.ssn: Error: vault: insert: duplicate key\n    E11000\n"},
		{ApplyEvent{Addr: "data_key.ssn", Action: "rewrap", Phase: PhaseFailed, Elapsed: 1500 * time.Millisecond},
			"data_key.ssn: Error: Rewrapping failed after 1.5s\n"},
		{ApplyEvent{Addr: "data_key.ssn\x1b[2J", Action: "frobnicate", Phase: PhaseStart}, "data_key.ssn\\x1b[2J: Applying frobnicate...\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		ApplyLine(&b, tt.e, Options{})
		if b.String() != tt.want {
			t.Errorf("ApplyLine(%+v) = %q, want %q", tt.e, b.String(), tt.want)
		}
		var c bytes.Buffer
		ApplyLine(&c, tt.e, Options{Color: true})
		if !strings.Contains(c.String(), "\x1b[") || stripANSI(c.String()) != tt.want {
			t.Errorf("ApplyLine(%+v) in colour = %q, want %q coloured", tt.e, c.String(), tt.want)
		}
	}
}

func TestApplySummary(t *testing.T) {
	var b bytes.Buffer
	ApplySummary(&b, plan.Summary{Create: 1, Rewrap: 1, Adopt: 1}, Options{})
	if want := "Apply complete! Resources: 1 created, 1 rewrapped, 0 updated, 0 deleted, 1 adopted.\n"; b.String() != want {
		t.Errorf("ApplySummary = %q, want %q", b.String(), want)
	}
	b.Reset()
	ApplySummary(&b, plan.Summary{Replace: 2}, Options{Color: true})
	if want := "Apply complete! Resources: 0 created, 0 rewrapped, 0 updated, 0 deleted, 2 replaced, 0 adopted.\n"; stripANSI(b.String()) != want || b.String() == want {
		t.Errorf("ApplySummary = %q, want %q in colour", b.String(), want)
	}
}
