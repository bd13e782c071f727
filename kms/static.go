package kms

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/secret"
)

// staticCredentials maps an azure, gcp or kmip provider to the fields of
// libmongocrypt's kmsProviders document. Non-secret fields are wrapped too,
// so one map holds them all; only DriverProviders reveals them.
func staticCredentials(c Config) (map[string]secret.Value, error) {
	m := map[string]secret.Value{}
	plain := func(k, v string) {
		if v != "" {
			m[k] = secret.FromString(v)
		}
	}
	switch c.Kind {
	case model.KindAzure:
		switch {
		case !c.AccessToken.IsZero():
			m["accessToken"] = c.AccessToken
		case c.TenantID != "" && c.ClientID != "" && !c.ClientSecret.IsZero():
			plain("tenantId", c.TenantID)
			plain("clientId", c.ClientID)
			m["clientSecret"] = c.ClientSecret
			plain("identityPlatformEndpoint", c.IdentityPlatformEndpoint)
		default:
			return nil, errors.New("azure needs tenant_id, client_id and client_secret, or access_token")
		}
	case model.KindGCP:
		switch {
		case !c.AccessToken.IsZero():
			m["accessToken"] = c.AccessToken
		case c.Email != "" && !c.PrivateKey.IsZero():
			der, err := privateKeyDER(c.PrivateKey)
			if err != nil {
				return nil, err
			}
			plain("email", c.Email)
			m["privateKey"] = der
			plain("endpoint", c.Endpoint)
		default:
			return nil, errors.New("gcp needs email and private_key, or access_token")
		}
	case model.KindKMIP:
		if c.Endpoint == "" {
			return nil, errors.New("kmip needs an endpoint")
		}
		plain("endpoint", c.Endpoint)
	}
	return m, nil
}

// privateKeyDER accepts a PEM private key, base64 DER (as Google's service
// account files and MongoDB's documentation give it), or DER itself.
func privateKeyDER(key secret.Value) (secret.Value, error) {
	raw := key.Reveal()
	if len(raw) > 0 && raw[0] == 0x30 { // an ASN.1 SEQUENCE: DER already
		return key, nil
	}
	if block, _ := pem.Decode(raw); block != nil {
		if !strings.Contains(block.Type, "PRIVATE KEY") {
			return secret.Value{}, fmt.Errorf("the gcp private_key is a PEM %q block, not a private key", block.Type)
		}
		return secret.New(block.Bytes), nil
	}
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(der) == 0 {
		return secret.Value{}, errors.New("the gcp private_key is neither a PEM private key nor base64 DER")
	}
	return secret.New(der), nil
}

// setTLS gives the provider's endpoint a CA to trust and, for kmip, the
// client certificate the server authenticates csfle with.
func (p *Providers) setTLS(c Config) error {
	var cfg *tls.Config
	if c.CAFile != "" {
		t, err := tlsTrusting(c.CAFile)
		if err != nil {
			return err
		}
		cfg = t
	}
	if c.ClientCertFile != "" {
		keyFile := c.ClientKeyFile
		if keyFile == "" {
			keyFile = c.ClientCertFile
		}
		cert, err := tls.LoadX509KeyPair(c.ClientCertFile, keyFile)
		if err != nil {
			return fmt.Errorf("loading the TLS client certificate: %w", err)
		}
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if cfg != nil {
		p.tls[c.Name] = cfg
	}
	return nil
}
