package main

import (
	"context"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/csfle/csfle/engine"
	"github.com/csfle/csfle/schema"
)

func schemaCommand() *cli.Command {
	return &cli.Command{
		Name:  "schema",
		Usage: "write the schemas applications load for automatic encryption",
		Subcommands: []*cli.Command{{
			Name:  "export",
			Usage: "write the schemaMap and encryptedFieldsMap, with key ids from the state",
			Description: `Builds, from the configuration's collection blocks and the key ids recorded in
the state, the documents that MongoDB drivers take in their automatic
encryption options: the schemaMap (CSFLE collections, both modes) and the
encryptedFieldsMap (Queryable Encryption collections), as canonical extended
JSON. Without -schema-map and -encrypted-fields-map it prints one document
{"schemaMap": ..., "encryptedFieldsMap": ...} to standard output. Every key a
collection uses must be in the state: run csfle apply first.`,
			Flags: concat(varFlags(), []cli.Flag{
				&cli.StringFlag{Name: "state", Usage: "state file `PATH`", Value: engine.DefaultStateFile},
				&cli.StringFlag{Name: "schema-map", Usage: "write the schemaMap to `FILE`"},
				&cli.StringFlag{Name: "encrypted-fields-map", Usage: "write the encryptedFieldsMap to `FILE`"},
			}),
			OnUsageError: usageError,
			Action: func(c *cli.Context) error {
				if err := checkArgs(c, 0); err != nil {
					return err
				}
				o := engineOptions(c)
				cfg, err := loadConfig(c, o)
				if err != nil {
					return err
				}
				st, err := engine.ReadState(context.Background(), o)
				if err != nil {
					return failure(c, cfg.Files, err)
				}
				exp, err := engine.ExportSchemas(cfg, st)
				if err != nil {
					return failure(c, cfg.Files, err)
				}
				smFile, efFile := c.String("schema-map"), c.String("encrypted-fields-map")
				if smFile == "" && efFile == "" {
					fmt.Fprintln(c.App.Writer, schema.Pretty(fmt.Sprintf(`{"schemaMap": %s, "encryptedFieldsMap": %s}`, exp.SchemaMap, exp.EncryptedFieldsMap)))
					return nil
				}
				for _, out := range []struct{ file, doc string }{{smFile, exp.SchemaMap}, {efFile, exp.EncryptedFieldsMap}} {
					if out.file == "" {
						continue
					}
					if err := writeKeepingModeOrNew(out.file, []byte(schema.Pretty(out.doc)+"\n")); err != nil {
						return cli.Exit(fmt.Sprintf("Error: %v", err), exitError)
					}
					fmt.Fprintf(c.App.ErrWriter, "Wrote %s.\n", out.file)
				}
				return nil
			},
		}},
	}
}

// writeKeepingModeOrNew replaces a file atomically, or creates it (0644:
// schemas hold key ids, which are not secret).
func writeKeepingModeOrNew(path string, data []byte) error {
	if _, err := os.Stat(path); os.IsNotExist(err) {
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			return err
		}
	}
	return writeKeepingMode(path, data)
}
