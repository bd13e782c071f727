// Package kms turns the configured KMS providers into what libmongocrypt
// needs: the kmsProviders document with credentials, and the TLS settings for
// each provider's endpoint.
//
// AWS credentials come from the AWS SDK's default chain (environment, shared
// config and credentials files with a profile, SSO, assume-role, IMDS), which
// the MongoDB Go driver alone lacks. Credentials live only inside Providers
// and are handed to the driver as late as possible; no method returns them in
// a printable form and errors never include them.
package kms

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/secret"
)

// Config is one configured provider, as the configuration declares it.
type Config struct {
	Name     string // "local", "aws"
	Kind     string
	LocalKey secret.Value // local: the 96-byte master key
	Region   string       // aws
	Profile  string       // aws: shared-config profile
	Endpoint string       // aws: KMS endpoint host[:port] for SDK calls
	CAFile   string       // PEM bundle to trust for the provider's TLS endpoint
	// RoleARN, if set, is assumed with STS from the credentials the
	// default chain finds; ExternalID and SessionName go with it.
	RoleARN, ExternalID, SessionName string

	// azure
	TenantID, ClientID       string
	ClientSecret             secret.Value
	AccessToken              secret.Value // azure or gcp, instead of a client secret or a private key
	IdentityPlatformEndpoint string

	// gcp (Endpoint is the OAuth endpoint)
	Email      string
	PrivateKey secret.Value // PEM (PKCS#8) or base64 DER

	// kmip (Endpoint is the KMIP server's host:port)
	ClientCertFile, ClientKeyFile string
}

// Providers holds resolved credentials for the configured providers.
type Providers struct {
	mu    sync.Mutex // guards creds against Refresh
	names []string
	creds map[string]map[string]secret.Value
	tls   map[string]*tls.Config
	aws   map[string]aws.Config
}

// Options tune how providers are resolved.
type Options struct {
	// LookupEnv reads the environment (AWS_CA_BUNDLE); os.LookupEnv if nil.
	LookupEnv func(string) (string, bool)
}

// Resolve loads the credentials of each provider. AWS credentials are
// retrieved once here, so a missing or broken credential chain stops the
// command before any key is touched.
func Resolve(ctx context.Context, cfgs []Config, opts Options) (*Providers, error) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	p := &Providers{creds: map[string]map[string]secret.Value{}, tls: map[string]*tls.Config{}, aws: map[string]aws.Config{}}
	for _, c := range cfgs {
		p.names = append(p.names, c.Name)
		switch c.Kind {
		case model.KindLocal:
			if c.LocalKey.Len() != 96 {
				return nil, fmt.Errorf("kms: provider %q: the local master key must be 96 bytes, not %d", c.Name, c.LocalKey.Len())
			}
			p.creds[c.Name] = map[string]secret.Value{"key": c.LocalKey}
		case model.KindAWS:
			if err := p.resolveAWS(ctx, c, opts); err != nil {
				return nil, err
			}
		case model.KindAzure, model.KindGCP, model.KindKMIP:
			creds, err := staticCredentials(c)
			if err != nil {
				return nil, fmt.Errorf("kms: provider %q: %w", c.Name, err)
			}
			p.creds[c.Name] = creds
			if err := p.setTLS(c); err != nil {
				return nil, fmt.Errorf("kms: provider %q: %w", c.Name, err)
			}
		default:
			return nil, fmt.Errorf("kms: provider %q: kind %q is not supported yet", c.Name, c.Kind)
		}
	}
	sort.Strings(p.names)
	return p, nil
}

func (p *Providers) resolveAWS(ctx context.Context, c Config, opts Options) error {
	var loadOpts []func(*awsconfig.LoadOptions) error
	if c.Region != "" {
		loadOpts = append(loadOpts, awsconfig.WithRegion(c.Region))
	}
	if c.Profile != "" {
		loadOpts = append(loadOpts, awsconfig.WithSharedConfigProfile(c.Profile))
	}
	caFile := c.CAFile
	if caFile == "" {
		caFile, _ = opts.LookupEnv("AWS_CA_BUNDLE")
	}
	if caFile != "" {
		tlsCfg, err := tlsTrusting(caFile)
		if err != nil {
			return fmt.Errorf("kms: provider %q: %w", c.Name, err)
		}
		p.tls[c.Name] = tlsCfg
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return fmt.Errorf("kms: provider %q: loading the AWS configuration%s: %w", c.Name, profileNote(c.Profile), err)
	}
	if c.RoleARN != "" {
		role := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), c.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = c.SessionName
			if o.RoleSessionName == "" {
				o.RoleSessionName = "csfle"
			}
			if c.ExternalID != "" {
				o.ExternalID = aws.String(c.ExternalID)
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(role)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	var procErr *processcreds.ProviderError
	if errors.As(err, &procErr) {
		// The SDK quotes the helper's output in its errors, and that output
		// holds the credentials: say what failed, not what it printed.
		return fmt.Errorf("kms: provider %q: the AWS credential_process%s failed or printed something that is not a credentials document; run it by hand to see why",
			c.Name, profileNote(c.Profile))
	}
	if err != nil {
		if c.RoleARN != "" {
			return fmt.Errorf("kms: provider %q: assuming role %s%s failed: %w", c.Name, c.RoleARN, profileNote(c.Profile), err)
		}
		return fmt.Errorf("kms: provider %q: no AWS credentials found%s (csfle uses the AWS SDK's default chain: environment variables, shared config and credentials files, SSO, assume-role, instance metadata): %w",
			c.Name, profileNote(c.Profile), err)
	}
	m := map[string]secret.Value{
		"accessKeyId":     secret.FromString(creds.AccessKeyID),
		"secretAccessKey": secret.FromString(creds.SecretAccessKey),
	}
	if creds.SessionToken != "" {
		m["sessionToken"] = secret.FromString(creds.SessionToken)
	}
	p.creds[c.Name] = m
	p.aws[c.Name] = cfg
	return nil
}

func profileNote(profile string) string {
	if profile == "" {
		return ""
	}
	return fmt.Sprintf(" for profile %q", profile)
}

func tlsTrusting(caFile string) (*tls.Config, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", caFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// Names lists the configured provider names, sorted.
func (p *Providers) Names() []string { return append([]string(nil), p.names...) }

// Has reports whether a provider is configured.
func (p *Providers) Has(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.creds[name]
	return ok
}

// Only returns the subset of providers with the given names, so a check can
// prove that a key decrypts without the others.
func (p *Providers) Only(names ...string) *Providers {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := &Providers{creds: map[string]map[string]secret.Value{}, tls: map[string]*tls.Config{}, aws: map[string]aws.Config{}}
	for _, n := range names {
		if c, ok := p.creds[n]; ok {
			q.names = append(q.names, n)
			q.creds[n] = c
			if t, ok := p.tls[n]; ok {
				q.tls[n] = t
			}
			if a, ok := p.aws[n]; ok {
				q.aws[n] = a
			}
		}
	}
	return q
}

// binaryFields are the kmsProviders fields libmongocrypt takes as bytes.
var binaryFields = map[string]bool{"key": true, "privateKey": true}

// DriverProviders returns the kmsProviders document for the driver. It
// reveals the secrets: pass it straight to the driver and drop it.
func (p *Providers) DriverProviders() map[string]map[string]interface{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]map[string]interface{}, len(p.creds))
	for name, fields := range p.creds {
		m := make(map[string]interface{}, len(fields))
		for k, v := range fields {
			if binaryFields[k] {
				m[k] = v.Reveal()
			} else {
				m[k] = v.RevealString()
			}
		}
		out[name] = m
	}
	return out
}

// TLSConfigs returns the TLS settings per provider for the driver.
func (p *Providers) TLSConfigs() map[string]*tls.Config {
	out := make(map[string]*tls.Config, len(p.tls))
	for k, v := range p.tls {
		out[k] = v
	}
	return out
}

// AWSConfig returns the SDK configuration of an aws provider.
func (p *Providers) AWSConfig(name string) (aws.Config, bool) {
	c, ok := p.aws[name]
	return c, ok
}
