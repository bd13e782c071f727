package kms

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/csfle/csfle/devenv"
	"github.com/csfle/csfle/model"
)

func TestCheckAWSKeyAgainstLocalKMS(t *testing.T) {
	isolateAWS(t)
	ctx := context.Background()
	env, err := devenv.Start(ctx, devenv.Options{Dir: filepath.Join(t.TempDir(), "env")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Close() })
	t.Setenv("AWS_ACCESS_KEY_ID", env.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", env.SecretAccessKey)
	p, err := Resolve(ctx, []Config{{Name: "aws", Kind: "aws", Region: env.Region, CAFile: env.CAFile}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	disabled, err := env.CreateKey(ctx, devenv.KeySpec{Disabled: true})
	if err != nil {
		t.Fatal(err)
	}
	asymmetric, err := env.CreateKey(ctx, devenv.KeySpec{Asymmetric: true})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(key, region string) model.MasterKey {
		return model.MasterKey{Provider: "aws", Fields: map[string]string{"key": key, "region": region, "endpoint": env.KMSEndpoint}}
	}
	if err := p.CheckAWSKey(ctx, mk(env.CMKARN, env.Region)); err != nil {
		t.Errorf("the enabled symmetric CMK: %v", err)
	}
	for _, tt := range []struct {
		name string
		mk   model.MasterKey
		want string
	}{
		{"disabled", mk(disabled, env.Region), "it is Disabled, not Enabled"},
		{"asymmetric", mk(asymmetric, env.Region), "not a symmetric (SYMMETRIC_DEFAULT) one"},
		{"missing", mk("arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000", env.Region), "does not exist"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := p.CheckAWSKey(ctx, tt.mk)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.mk.Fields["key"]) {
				t.Errorf("err = %v, want it to name the key and say %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), env.SecretAccessKey) {
				t.Error("the error holds the AWS secret")
			}
		})
	}
}

func TestCheckKeyMetadataRegion(t *testing.T) {
	arn := "arn:aws:kms:eu-west-1:111122223333:key/k"
	md := &types.KeyMetadata{Arn: &arn, KeyState: "Enabled", KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "ENCRYPT_DECRYPT"}
	if err := checkKeyMetadata(arn, "eu-west-1", md); err != nil {
		t.Errorf("matching region: %v", err)
	}
	if err := checkKeyMetadata(arn, "us-east-1", md); err == nil || !strings.Contains(err.Error(), "it is in region eu-west-1, but the master key says us-east-1") {
		t.Errorf("region mismatch: %v", err)
	}
}

// Credentials from a shared-config profile that assumes a role, used
// against the embedded local-kms: the chain resolves through STS and the
// DescribeKey check runs with the assumed role's credentials.
func TestAssumedRoleProfileAgainstLocalKMS(t *testing.T) {
	dir := isolateAWS(t)
	ctx := context.Background()
	env, err := devenv.Start(ctx, devenv.Options{Dir: filepath.Join(t.TempDir(), "env")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Close() })
	sts := startSTS(t, dir)
	creds := "[base]\naws_access_key_id = " + env.AccessKeyID + "\naws_secret_access_key = " + env.SecretAccessKey + "\n"
	cfg := "[profile ops]\nrole_arn = arn:aws:iam::111122223333:role/ops\nsource_profile = base\nregion = us-east-1\n"
	if err := os.WriteFile(filepath.Join(dir, "credentials"), []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Resolve(ctx, []Config{{Name: "aws", Kind: "aws", Profile: "ops", CAFile: env.CAFile}}, Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	mk := model.MasterKey{Provider: "aws", Fields: map[string]string{"key": env.CMKARN, "region": env.Region, "endpoint": env.KMSEndpoint}}
	if err := p.CheckAWSKey(ctx, mk); err != nil {
		t.Fatalf("DescribeKey with the assumed role: %v", err)
	}
	if len(sts.roles) == 0 || p.DriverProviders()["aws"]["accessKeyId"] != "ASIAASSUMED" {
		t.Errorf("the profile's role was not assumed: %v", sts.roles)
	}
}
