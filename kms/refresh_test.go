package kms

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/csfle/csfle/secret"
)

// rotating hands out new temporary credentials on every call, as an
// expiring assume-role session does when the cache renews it.
type rotating struct {
	n    atomic.Int32
	fail bool
}

func (r *rotating) Retrieve(context.Context) (aws.Credentials, error) {
	if r.fail {
		return aws.Credentials{}, errors.New(`parse failed of process output: {"SecretAccessKey":"leaked-secret"}`)
	}
	n := r.n.Add(1)
	return aws.Credentials{AccessKeyID: "ASIA" + string(rune('A'+n)), SecretAccessKey: "s", SessionToken: "t" + string(rune('A'+n))}, nil
}

func TestRefreshRenewsExpiringCredentials(t *testing.T) {
	rot := &rotating{}
	p := &Providers{
		creds: map[string]map[string]secret.Value{"aws": {"accessKeyId": secret.FromString("ASIAOLD"), "sessionToken": secret.FromString("old")}},
		aws:   map[string]aws.Config{"aws": {Credentials: rot}},
	}
	changed, err := p.Refresh(context.Background())
	if err != nil || !changed {
		t.Fatalf("Refresh = %v, %v; want the renewed credentials taken", changed, err)
	}
	if got := p.DriverProviders()["aws"]["accessKeyId"]; got != "ASIAB" {
		t.Errorf("accessKeyId after refresh = %v", got)
	}
	static := &Providers{
		creds: map[string]map[string]secret.Value{"aws": {"accessKeyId": secret.FromString("AKID"), "secretAccessKey": secret.FromString("s")}},
		aws:   map[string]aws.Config{"aws": {Credentials: aws.NewCredentialsCache(staticProvider{})}},
	}
	if changed, err := static.Refresh(context.Background()); err != nil || changed {
		t.Errorf("static credentials: Refresh = %v, %v; want no change", changed, err)
	}
	rot.fail = true
	_, err = p.Refresh(context.Background())
	if err == nil || strings.Contains(err.Error(), "leaked-secret") {
		t.Errorf("a failed renewal: %v (must fail without quoting the SDK's error)", err)
	}
}

type staticProvider struct{}

func (staticProvider) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "s"}, nil
}
