package kms

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/csfle/csfle/secret"
)

func TestStaticCredentialsMapping(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	b64 := base64.StdEncoding.EncodeToString(der)

	tests := []struct {
		name    string
		cfg     Config
		want    map[string]string // field -> revealed value (binary as %x)
		wantErr string
	}{
		{"azure client secret", Config{Kind: "azure", TenantID: "t", ClientID: "c", ClientSecret: secret.FromString("s"), IdentityPlatformEndpoint: "login.example:443"},
			map[string]string{"tenantId": "t", "clientId": "c", "clientSecret": "s", "identityPlatformEndpoint": "login.example:443"}, ""},
		{"azure access token", Config{Kind: "azure", AccessToken: secret.FromString("tok")}, map[string]string{"accessToken": "tok"}, ""},
		{"azure incomplete", Config{Kind: "azure", TenantID: "t"}, nil, "azure needs tenant_id"},
		{"gcp PEM key", Config{Kind: "gcp", Email: "sa@p.iam", PrivateKey: secret.New(pemKey), Endpoint: "oauth.example"},
			map[string]string{"email": "sa@p.iam", "privateKey": fmt.Sprintf("%x", der), "endpoint": "oauth.example"}, ""},
		{"gcp base64 key", Config{Kind: "gcp", Email: "sa@p.iam", PrivateKey: secret.FromString(b64)},
			map[string]string{"email": "sa@p.iam", "privateKey": fmt.Sprintf("%x", der)}, ""},
		{"gcp DER key", Config{Kind: "gcp", Email: "sa@p.iam", PrivateKey: secret.New(der)},
			map[string]string{"email": "sa@p.iam", "privateKey": fmt.Sprintf("%x", der)}, ""},
		{"gcp access token", Config{Kind: "gcp", AccessToken: secret.FromString("tok")}, map[string]string{"accessToken": "tok"}, ""},
		{"gcp bad key", Config{Kind: "gcp", Email: "sa@p.iam", PrivateKey: secret.FromString("not a key!")}, nil, "neither a PEM private key nor base64 DER"},
		{"kmip", Config{Kind: "kmip", Endpoint: "127.0.0.1:5696"}, map[string]string{"endpoint": "127.0.0.1:5696"}, ""},
		{"kmip without endpoint", Config{Kind: "kmip"}, nil, "kmip needs an endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := staticCredentials(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "not a key!") {
					t.Error("the error quotes the key")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := &Providers{creds: map[string]map[string]secret.Value{"x": got}}
			revealed := map[string]string{}
			for k, v := range p.DriverProviders()["x"] {
				switch v := v.(type) {
				case []byte:
					revealed[k] = fmt.Sprintf("%x", v)
				case string:
					revealed[k] = v
				}
			}
			if diff := cmp.Diff(tt.want, revealed); diff != "" {
				t.Errorf("kmsProviders fields (-want +got):\n%s", diff)
			}
		})
	}
}
