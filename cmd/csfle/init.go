package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/csfle/csfle/config"
	"github.com/csfle/csfle/vault"
)

const starterConfig = `# csfle configuration: the data encryption keys of a MongoDB key vault.
# Run "csfle plan" to see what would change and "csfle apply" to do it.

key_vault {
  # The cluster that holds the key vault. With the development environment
  # (csfle dev): export MONGODB_URI=$CSFLE_DEV_MONGODB_URI
  uri       = env("MONGODB_URI", "mongodb://127.0.0.1:27017/")
  namespace = "encryption.__keyVault"
}

# A locally managed 96-byte master key, base64-encoded, kept out of version
# control. Make one with: head -c 96 /dev/urandom | base64 -w0 > master-key.txt
kms "local" {
  key = file("master-key.txt")
}

data_key "example" {
  kms = kms.local
  lifecycle {
    prevent_destroy = true
  }
}
`

func initCommand() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "check the set-up and start a configuration in the current directory",
		Description: `Checks that this csfle can do client-side encryption (libmongocrypt is
linked), writes a commented starter main.csfle.hcl when the directory has no
configuration yet, and otherwise validates the one that is there.`,
		Flags: concat(varFlags()),
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 0); err != nil {
				return err
			}
			w := c.App.Writer
			v := vault.LibmongocryptVersion()
			if v == "" {
				return cli.Exit("Error: this csfle was built without libmongocrypt (the cse build tag). Install libmongocrypt-dev and build with: make build", exitError)
			}
			fmt.Fprintf(w, "libmongocrypt %s is linked.\n", v)
			entries, err := os.ReadDir(".")
			if err != nil {
				return cli.Exit(fmt.Sprintf("Error: %v", err), exitError)
			}
			for _, e := range entries {
				if config.IsConfigFile(e.Name()) {
					if _, err := loadConfig(c, engineOptions(c)); err != nil {
						return err
					}
					fmt.Fprintln(w, "The configuration in this directory is valid. Run csfle plan next.")
					return nil
				}
			}
			path := filepath.Join(".", "main.csfle.hcl")
			if err := os.WriteFile(path, []byte(starterConfig), 0o644); err != nil {
				return cli.Exit(fmt.Sprintf("Error: %v", err), exitError)
			}
			fmt.Fprintf(w, "Wrote a starter configuration to %s.\nCreate master-key.txt as it explains, then run csfle plan.\n", path)
			return nil
		},
	}
}

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:  "validate",
		Usage: "check the configuration without contacting the key vault or any KMS",
		Description: `Evaluates every *.csfle.hcl file in the directory and reports each mistake
with its file, line and a hint. Exit status 0 when the configuration is
valid, 1 otherwise.`,
		Flags: concat(varFlags()),
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 0); err != nil {
				return err
			}
			cfg, err := loadConfig(c, engineOptions(c))
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "The configuration is valid: %d KMS provider(s), %d data key(s).\n", len(cfg.Providers), len(cfg.DataKeys))
			return nil
		},
	}
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the versions of csfle and the linked libmongocrypt",
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 0); err != nil {
				return err
			}
			v := vault.LibmongocryptVersion()
			if v == "" {
				v = "not linked (built without the cse tag)"
			}
			fmt.Fprintf(c.App.Writer, "csfle %s\nlibmongocrypt %s\n", version, v)
			return nil
		},
	}
}
