package devenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Exports returns one sh `export NAME='value'` line per variable that points
// a client at this environment: csfle's own CSFLE_DEV_* variables and the
// AWS SDK's standard ones (AWS_ENDPOINT_URL_KMS sends SDK KMS calls here).
// The Azure client secret and the GCP private key are not among them (they
// are in SecretExports): these lines may be shown on a terminal.
func (e *Env) Exports() []string {
	return exportLines([]envVar{
		{"CSFLE_DEV_MONGODB_URI", e.MongoURI},
		{"CSFLE_DEV_AWS_ENDPOINT", e.KMSEndpoint},
		{"CSFLE_DEV_AWS_KEY_ARN", e.CMKARN},
		{"AWS_REGION", e.Region},
		{"AWS_ACCESS_KEY_ID", e.AccessKeyID},
		{"AWS_SECRET_ACCESS_KEY", e.SecretAccessKey},
		{"AWS_CA_BUNDLE", e.CAFile},
		{"AWS_ENDPOINT_URL_KMS", e.KMSURL},
		{"CSFLE_DEV_CA_FILE", e.CAFile},
		{"CSFLE_DEV_AZURE_ENDPOINT", e.AzureEndpoint},
		{"CSFLE_DEV_AZURE_TENANT_ID", e.AzureTenantID},
		{"CSFLE_DEV_AZURE_CLIENT_ID", e.AzureClientID},
		{"CSFLE_DEV_AZURE_KEY_NAME", e.AzureKeyName},
		{"CSFLE_DEV_AZURE_KEY_VERSION", e.AzureKeyVersion},
		{"CSFLE_DEV_GCP_ENDPOINT", e.GCPEndpoint},
		{"CSFLE_DEV_GCP_EMAIL", e.GCPEmail},
		{"CSFLE_DEV_GCP_PROJECT_ID", e.GCPProjectID},
		{"CSFLE_DEV_GCP_LOCATION", e.GCPLocation},
		{"CSFLE_DEV_GCP_KEY_RING", e.GCPKeyRing},
		{"CSFLE_DEV_GCP_KEY_NAME", e.GCPKeyName},
	})
}

// SecretExports returns the export lines of the credentials that are real
// secrets to the environment's servers, which check them: the Azure client
// secret and the GCP service account's private key (PKCS#8 PEM, over
// several lines inside its quotes). WriteEnvFile writes them to its 0600
// file; nothing else should show them.
func (e *Env) SecretExports() []string {
	return exportLines([]envVar{
		{"CSFLE_DEV_AZURE_CLIENT_SECRET", e.AzureClientSecret},
		{"CSFLE_DEV_GCP_PRIVATE_KEY", e.GCPPrivateKeyPEM},
	})
}

type envVar struct{ name, value string }

func exportLines(vars []envVar) []string {
	lines := make([]string, len(vars))
	for i, v := range vars {
		lines[i] = "export " + v.name + "=" + shellQuote(v.value)
	}
	return lines
}

// WriteEnvFile writes Exports and SecretExports to path, readable by the
// owner only, replacing any previous file atomically so a shell never
// sources half of it.
func (e *Env) WriteEnvFile(path string) error {
	var b strings.Builder
	b.WriteString("# csfle development environment (csfle-dev). Valid while it runs.\n")
	for _, l := range append(e.Exports(), e.SecretExports()...) {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return writeFileAtomic(path, []byte(b.String()), 0o600)
}

// shellQuote single-quotes s for POSIX sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeFileAtomic writes data to a temporary file next to path, then renames
// it over path.
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("devenv: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
			err = fmt.Errorf("devenv: write %s: %w", path, err)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
