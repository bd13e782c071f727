package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/csfle/csfle/devenv"
)

const stage1 = localProvider + `
data_key "ssn" {
  kms = kms.local
  lifecycle {
    prevent_destroy = true
  }
}

data_key "billing" {
  kms       = kms.local
  alt_names = ["billing", "billing-2026"]
}
`

const stage2 = localProvider + awsProvider + `
variable "cmk_arn" {}

data_key "ssn" {
  kms        = kms.aws
  master_key = { key = var.cmk_arn }
  lifecycle {
    prevent_destroy = true
  }
}

data_key "billing" {
  kms        = kms.aws
  master_key = { key = var.cmk_arn }
  alt_names  = ["billing", "billing-2026"]
}
`

// The guide's scenario: keys under a local master key, a value encrypted
// with one, the config moved to AWS KMS, and the value still readable with
// only AWS configured.
func TestMigrationLocalToAWS(t *testing.T) {
	w := newWorkspace(t)
	w.config(stage1)

	r := w.ok("apply", "-auto-approve")
	for _, want := range []string{"data_key.ssn: Creation complete", "data_key.billing: Creation complete", "Apply complete! Resources: 2 created"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("apply output lacks %q:\n%s", want, r)
		}
	}
	ids := w.keyIDs()
	if len(ids) != 2 {
		t.Fatalf("output has %d keys, want 2: %v", len(ids), ids)
	}
	localApp := newApp(t, w, "local")
	ct := localApp.encrypt(ids["ssn"], "123-45-6789")

	w.config(stage2)
	plan := w.planJSON()
	rewraps := 0
	for _, c := range plan.Changes {
		if c.Action != "rewrap" {
			t.Errorf("unexpected change %s %s", c.Address, c.Action)
			continue
		}
		rewraps++
		name := strings.TrimPrefix(c.Address, "data_key.")
		if c.Before == nil || c.After == nil || c.Before.ID == "" || c.Before.ID != c.After.ID {
			t.Errorf("%s: rewrap does not keep the id: %+v", c.Address, c)
		}
		if c.After.MasterKey.Provider != "aws" {
			t.Errorf("%s: rewrap to %q, want aws", c.Address, c.After.MasterKey.Provider)
		}
		if got := keyBinary(t, ids[name]); c.After != nil && uuidOf(got.Data) != c.After.ID {
			t.Errorf("%s: plan id %s, output id %s", c.Address, c.After.ID, uuidOf(got.Data))
		}
	}
	if rewraps != 2 {
		t.Fatalf("plan has %d rewraps, want 2: %+v", rewraps, plan)
	}
	human := w.ok("plan")
	if !strings.Contains(human.stdout, "↻ data_key \"ssn\"") || !strings.Contains(human.stdout, "2 to rewrap") {
		t.Errorf("human plan does not show the rewrap:\n%s", human.stdout)
	}

	r = w.ok("apply", "-auto-approve")
	if !strings.Contains(r.stdout, "2 rewrapped") {
		t.Errorf("apply did not report 2 rewraps:\n%s", r)
	}
	if after := w.keyIDs(); after["ssn"] != ids["ssn"] || after["billing"] != ids["billing"] {
		t.Errorf("ids changed by the rewrap: before %v, after %v", ids, after)
	}

	awsOnly := newApp(t, w, "aws")
	got, err := awsOnly.decrypt(ct)
	if err != nil || got != "123-45-6789" {
		t.Fatalf("decrypt with only AWS configured: %q, %v", got, err)
	}
	// And the local master key no longer opens the key.
	if _, err := newApp(t, w, "local").decrypt(ct); err == nil {
		t.Error("the local master key still decrypts a key that was rewrapped to AWS")
	}

	r = w.run("plan", "-detailed-exitcode")
	if r.code != 0 || !strings.Contains(r.stdout, "No changes") {
		t.Errorf("second plan: want exit 0 and No changes, got %s", r)
	}
	w.assertNoSecrets()
}

func uuidOf(b []byte) string {
	const hexdigits = "0123456789abcdef"
	var s []byte
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s = append(s, '-')
		}
		s = append(s, hexdigits[c>>4], hexdigits[c&15])
	}
	return string(s)
}

// Plan-time DescribeKey: a disabled or asymmetric CMK stops the plan before
// anything is written, and the message names the key and what is wrong.
func TestUnfitAWSKeysAreRefusedAtPlanTime(t *testing.T) {
	for _, tt := range []struct {
		name string
		spec devenv.KeySpec
		want string
	}{
		{"disabled", devenv.KeySpec{Disabled: true}, "it is Disabled, not Enabled"},
		{"asymmetric", devenv.KeySpec{Asymmetric: true}, "not a symmetric (SYMMETRIC_DEFAULT) one"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			arn, err := env.CreateKey(context.Background(), tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			w := newWorkspace(t)
			w.config(stage1)
			w.ok("apply", "-auto-approve")
			w.config(stage2)
			r := w.run("plan", "-var", "cmk_arn="+arn)
			msg := strings.Join(strings.Fields(r.stderr), " ")
			if r.code != 1 || !strings.Contains(msg, "AWS KMS key cannot wrap data keys") || !strings.Contains(msg, arn) || !strings.Contains(msg, tt.want) {
				t.Errorf("plan with a %s CMK: %s", tt.name, r)
			}
			w.assertNoSecrets()
		})
	}
}

func TestProvidersHealthReport(t *testing.T) {
	w := newWorkspace(t)
	w.config(stage1)
	w.ok("apply", "-auto-approve")
	w.config(stage2)
	w.ok("apply", "-auto-approve")
	r := w.ok("providers")
	for _, want := range []string{"aws       credentials", "DescribeKey " + env.CMKARN, "unwrap data_key.billing", "ok"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("providers report lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "FAILED") {
		t.Errorf("a check failed on a healthy set-up:\n%s", r.stdout)
	}
	// A wrong local master key does not matter any more (nothing is
	// wrapped by it), but a key the state holds under aws must unwrap:
	// break it by pointing the configuration at a disabled CMK.
	disabled, err := env.CreateKey(context.Background(), devenv.KeySpec{Disabled: true})
	if err != nil {
		t.Fatal(err)
	}
	r = w.run("providers", "-var", "cmk_arn="+disabled)
	if r.code != 1 || !strings.Contains(r.stdout, "FAILED: kms: AWS KMS key "+disabled) || !strings.Contains(r.stderr, "checks failed") {
		t.Errorf("providers with a disabled CMK: %s", r)
	}
	w.assertNoSecrets()
}
