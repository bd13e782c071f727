package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/csfle/csfle/config"
	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/schema"
	"github.com/csfle/csfle/state"
)

// Export is what applications load for automatic encryption.
type Export struct {
	SchemaMap          string // {"db.coll": $jsonSchema, ...}
	EncryptedFieldsMap string // {"db.coll": encryptedFields, ...}
}

// ExportSchemas builds the schemaMap and encryptedFieldsMap of the
// configuration's collections with the key ids recorded in the state.
func ExportSchemas(cfg *config.Config, st *state.State) (Export, error) {
	ids := map[model.Addr]model.KeyID{}
	if st != nil {
		for _, k := range st.Keys {
			ids[k.Addr] = k.ID
		}
	}
	var csfle, qe []model.DesiredCollection
	var missing []string
	for _, c := range cfg.Desired().Collections {
		for _, f := range c.Fields {
			if _, ok := ids[f.Key]; !ok {
				missing = append(missing, f.Key.String())
			}
		}
		if c.Mode == model.ModeQueryable {
			qe = append(qe, c)
		} else {
			csfle = append(csfle, c)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		missing = compactStrings(missing)
		return Export{}, fmt.Errorf("engine: %s not in the state yet, so their ids are unknown; run csfle apply first", strings.Join(missing, ", "))
	}
	sm, err := schema.SchemaMap(csfle, ids)
	if err != nil {
		return Export{}, fmt.Errorf("engine: %w", err)
	}
	ef, err := schema.EncryptedFieldsMap(qe, ids)
	if err != nil {
		return Export{}, fmt.Errorf("engine: %w", err)
	}
	return Export{SchemaMap: sm, EncryptedFieldsMap: ef}, nil
}

func compactStrings(xs []string) []string {
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}
