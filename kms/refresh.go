package kms

import (
	"context"
	"fmt"

	"github.com/csfle/csfle/secret"
)

// Refresh asks each aws provider's credential chain for its current
// credentials. Temporary credentials (assume-role, SSO, instance metadata)
// expire during a long apply; the SDK's cache renews them shortly before
// they do. It reports whether any changed, in which case libmongocrypt
// must be given the new ones (vault reconnects).
func (p *Providers) Refresh(ctx context.Context) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	changed := false
	for name, cfg := range p.aws {
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return false, fmt.Errorf("kms: provider %q: renewing AWS credentials: %s", name, credentialErrorKind(err))
		}
		old := p.creds[name]
		if old["accessKeyId"].RevealString() == creds.AccessKeyID && old["sessionToken"].RevealString() == creds.SessionToken {
			continue
		}
		m := map[string]secret.Value{
			"accessKeyId":     secret.FromString(creds.AccessKeyID),
			"secretAccessKey": secret.FromString(creds.SecretAccessKey),
		}
		if creds.SessionToken != "" {
			m["sessionToken"] = secret.FromString(creds.SessionToken)
		}
		p.creds[name] = m
		changed = true
	}
	return changed, nil
}

// credentialErrorKind describes a credential error without quoting it: SDK
// errors can carry a credential helper's output.
func credentialErrorKind(err error) string {
	return fmt.Sprintf("%T", err)
}
