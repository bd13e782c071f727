package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/csfle/csfle/engine"
	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/state"
)

func showCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "show the state, or a saved plan",
		ArgsUsage: "[PLANFILE]",
		Description: `Without an argument, lists the data keys recorded in the state file. With
PLANFILE (from plan -out), prints that plan as plan would. -json prints the
state or the plan as JSON; -markdown prints a saved plan as Markdown.`,
		Flags: concat([]cli.Flag{
			&cli.StringFlag{Name: "state", Usage: "state file `PATH`", Value: engine.DefaultStateFile},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
			&cli.BoolFlag{Name: "markdown", Usage: "print a saved plan as Markdown"},
		}),
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 1); err != nil {
				return err
			}
			if f := c.Args().First(); f != "" {
				saved, err := state.ReadPlanFile(f)
				if err != nil {
					return cli.Exit(fmt.Sprintf("Error: %v", err), exitError)
				}
				if err := writePlan(c, c.App.Writer, &saved.Plan); err != nil {
					return cli.Exit(fmt.Sprintf("Error: %v", err), exitError)
				}
				return nil
			}
			if c.Bool("markdown") {
				return cli.Exit("Error: -markdown shows a saved plan: csfle show -markdown PLANFILE", exitError)
			}
			st, err := engine.ReadState(context.Background(), engineOptions(c))
			if err != nil {
				return cli.Exit(fmt.Sprintf("Error: %v", err), exitError)
			}
			if st == nil {
				if c.Bool("json") {
					fmt.Fprintln(c.App.Writer, "null")
					return nil
				}
				fmt.Fprintf(c.App.Writer, "No state: %s does not exist yet. Run csfle apply to create it.\n", c.String("state"))
				return nil
			}
			if c.Bool("json") {
				b, err := state.Encode(st)
				if err != nil {
					return cli.Exit(fmt.Sprintf("Error: %v", err), exitError)
				}
				_, err = c.App.Writer.Write(b)
				return err
			}
			showState(c.App.Writer, st)
			return nil
		},
	}
}

func showState(w io.Writer, st *state.State) {
	fmt.Fprintf(w, "Key vault %s, state serial %d, lineage %s\n", st.KeyVault, st.Serial, st.Lineage)
	if len(st.Keys) == 0 {
		fmt.Fprintln(w, "\nNo data keys are managed yet.")
	}
	for _, k := range st.Keys {
		fmt.Fprintf(w, "\n# %s\n", k.Addr)
		fmt.Fprintf(w, "  id              = %q\n", k.ID.String())
		fmt.Fprintf(w, "  alt_names       = %s\n", quoteList(k.AltNames))
		fmt.Fprintf(w, "  master_key      = %s\n", k.MasterKey)
		if k.PreventDestroy {
			fmt.Fprintf(w, "  prevent_destroy = true\n")
		}
	}
	if st.IndexUnsupported != "" {
		fmt.Fprintf(w, "\nThe key vault has no unique index on keyAltNames: %s\n", st.IndexUnsupported)
	}
}

func quoteList(xs []string) string {
	b, _ := json.Marshal(xs)
	return string(b)
}

func outputCommand() *cli.Command {
	return &cli.Command{
		Name:      "output",
		Usage:     "print the ids of the managed data keys, as UUID and base64",
		ArgsUsage: "[NAME]",
		Description: `Prints each managed data key's id as a UUID and in base64 (the form
MongoDB's guides print and JSON schemas take), from the state file.
With NAME, only that data_key. With -raw and NAME, only its base64 id, for
scripts. -json prints {"data_keys": {NAME: {id, base64, alt_names,
kms_provider}}, "collections": {DB.COLL: {mode, fields}}}.`,
		Flags: concat([]cli.Flag{
			&cli.StringFlag{Name: "state", Usage: "state file `PATH`", Value: engine.DefaultStateFile},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
			&cli.BoolFlag{Name: "raw", Usage: "print only the base64 id of the named key"},
		}),
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 1); err != nil {
				return err
			}
			st, err := engine.ReadState(context.Background(), engineOptions(c))
			if err != nil {
				return cli.Exit(fmt.Sprintf("Error: %v", err), exitError)
			}
			var keys []model.PriorKey
			if st != nil {
				keys = st.Keys
			}
			name := c.Args().First()
			if name != "" {
				var found []model.PriorKey
				for _, k := range keys {
					if k.Addr.Name == name {
						found = append(found, k)
					}
				}
				if len(found) == 0 {
					return cli.Exit(fmt.Sprintf("Error: no data key %q in the state; csfle output lists the ones there are", name), exitError)
				}
				keys = found
			}
			if c.Bool("raw") {
				if name == "" {
					return cli.Exit("Error: -raw needs the NAME of one data key", exitError)
				}
				fmt.Fprintln(c.App.Writer, keys[0].ID.Base64())
				return nil
			}
			var collections []model.PriorCollection
			if st != nil && name == "" {
				collections = st.Collections
			}
			if c.Bool("json") {
				return writeOutputJSON(c.App.Writer, keys, collections)
			}
			if len(keys) == 0 {
				fmt.Fprintln(c.App.Writer, "No data keys in the state yet.")
			}
			for i, k := range keys {
				if i > 0 {
					fmt.Fprintln(c.App.Writer)
				}
				fmt.Fprintf(c.App.Writer, "%s\n  id        = %s\n  base64    = %s\n  alt_names = %s\n", k.Addr, k.ID, k.ID.Base64(), quoteList(k.AltNames))
			}
			writeOutputCollections(c.App.Writer, keys, collections)
			return nil
		},
	}
}

type outputKey struct {
	ID       string   `json:"id"`
	Base64   string   `json:"base64"`
	AltNames []string `json:"alt_names"`
	Provider string   `json:"kms_provider"`
}

type outputField struct {
	Path      string `json:"path"`
	BSONType  string `json:"bson_type,omitempty"`
	Algorithm string `json:"algorithm,omitempty"`
	DataKey   string `json:"data_key"`
	KeyID     string `json:"key_id,omitempty"`
}

type outputCollection struct {
	Mode   string        `json:"mode"`
	Fields []outputField `json:"fields"`
}

func outputFields(keys []model.PriorKey, c model.PriorCollection) []outputField {
	ids := map[model.Addr]model.KeyID{}
	for _, k := range keys {
		ids[k.Addr] = k.ID
	}
	var out []outputField
	for _, f := range c.Fields {
		of := outputField{Path: f.Path, BSONType: f.BSONType, Algorithm: f.Algorithm, DataKey: f.Key.String()}
		if id, ok := ids[f.Key]; ok {
			of.KeyID = id.String()
		}
		out = append(out, of)
	}
	return out
}

func writeOutputJSON(w io.Writer, keys []model.PriorKey, collections []model.PriorCollection) error {
	doc := struct {
		DataKeys    map[string]outputKey        `json:"data_keys"`
		Collections map[string]outputCollection `json:"collections"`
	}{map[string]outputKey{}, map[string]outputCollection{}}
	for _, k := range keys {
		doc.DataKeys[k.Addr.Name] = outputKey{k.ID.String(), k.ID.Base64(), k.AltNames, k.MasterKey.Provider}
	}
	for _, c := range collections {
		doc.Collections[c.Database+"."+c.Name] = outputCollection{Mode: c.Mode, Fields: outputFields(keys, c)}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// writeOutputCollections lists, per collection, each encrypted field and
// the key it uses.
func writeOutputCollections(w io.Writer, keys []model.PriorKey, collections []model.PriorCollection) {
	for _, c := range collections {
		fmt.Fprintf(w, "\n%s (%s)\n", c.Addr, c.Mode)
		for _, f := range outputFields(keys, c) {
			how := f.Algorithm
			if how == "" {
				how = "queryable"
			}
			fmt.Fprintf(w, "  %-24s %-8s %-13s %s %s\n", f.Path, f.BSONType, how, f.DataKey, f.KeyID)
		}
	}
}
