package planner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
	"github.com/csfle/csfle/schema"
)

// planCollections plans the encrypted collections. It runs after the keys
// are planned, so it knows which keys keep their id and which are created
// by this plan (their ids are known only after apply).
func (p *planner) planCollections() {
	ids := p.knownKeyIDs()
	live := map[string]model.LiveCollection{}
	for _, c := range p.live.Collections {
		live[c.Database+"."+c.Name] = c
	}
	priorByAddr := map[model.Addr]model.PriorCollection{}
	for _, c := range p.prior.Collections {
		priorByAddr[c.Addr] = c
	}
	desired := p.desired.Collections
	if p.opts.Destroy {
		desired = nil
	}
	seen := map[model.Addr]bool{}
	for _, d := range desired {
		seen[d.Addr] = true
		prior, hasPrior := priorByAddr[d.Addr]
		p.planCollection(d, live[d.Namespace()], prior, hasPrior, ids)
	}
	for _, c := range p.prior.Collections {
		if !seen[c.Addr] {
			p.planCollectionDelete(c, live[c.Database+"."+c.Name])
		}
	}
}

// knownKeyIDs maps each desired key that already exists to its id.
func (p *planner) knownKeyIDs() map[model.Addr]model.KeyID {
	ids := map[model.Addr]model.KeyID{}
	for _, d := range p.desired.Keys {
		if prior, ok := p.priorByAddr[d.Addr]; ok {
			if _, live := p.live.KeyByID(prior.ID); live {
				ids[d.Addr] = prior.ID
			}
		}
	}
	for _, c := range p.adopts {
		if id, ok := c.KeyID(); ok {
			ids[c.Addr] = id
		}
	}
	return ids
}

func planCollection(d model.DesiredCollection, ids map[model.Addr]model.KeyID) *plan.Collection {
	c := &plan.Collection{Database: d.Database, Name: d.Name, Mode: d.Mode}
	for _, f := range d.Fields {
		cf := plan.CollectionField{EncryptedField: f}
		if id, ok := ids[f.Key]; ok {
			cf.KeyID = &id
		}
		c.Fields = append(c.Fields, cf)
	}
	return c
}

func priorPlanCollection(c model.PriorCollection, ids map[model.Addr]model.KeyID) *plan.Collection {
	return planCollection(model.DesiredCollection{Database: c.Database, Name: c.Name, Mode: c.Mode, Fields: c.Fields}, ids)
}

// document is what the collection's mode writes to the server, when every
// key id is known; "" otherwise.
func document(d model.DesiredCollection, ids map[model.Addr]model.KeyID) string {
	var doc string
	var err error
	if d.Mode == model.ModeQueryable {
		doc, err = schema.EncryptedFields(d, ids)
	} else {
		doc, err = schema.JSONSchema(d, ids)
	}
	if err != nil {
		return ""
	}
	return doc
}

func (p *planner) planCollection(d model.DesiredCollection, live model.LiveCollection, prior model.PriorCollection, hasPrior bool, ids map[model.Addr]model.KeyID) {
	after := planCollection(d, ids)
	doc := document(d, ids)
	var before *plan.Collection
	if hasPrior {
		before = priorPlanCollection(prior, ids)
		p.noteCollectionDrift(prior, live)
	}
	change := func(action plan.Action, reason string) {
		p.collections = append(p.collections, plan.Change{
			Addr: d.Addr, Action: action, Reason: reason,
			Collection: &plan.CollectionChange{Before: before, After: after, Document: doc},
		})
	}

	if live.EncryptedFields != "" && d.Mode != model.ModeQueryable {
		p.refuse(d.Addr, "Queryable Encryption cannot be removed",
			"%s was created with encryptedFields (Queryable Encryption), which MongoDB cannot remove, so it cannot become mode %q. Keep mode = \"queryable\", or migrate the data to a new collection.", d.Namespace(), d.Mode)
		return
	}
	// A $jsonSchema csfle did not write, with rules besides encryption,
	// would be lost to a collMod or to the removal of the validator.
	foreign := live.OtherValidator || (live.JSONSchema != "" && !schema.OnlyEncryption(live.JSONSchema) && !(hasPrior && schema.Equal(live.JSONSchema, prior.Document)))
	recorded := func(doc, liveDoc string, equal func(a, b string) bool) bool {
		return hasPrior && prior.Mode == d.Mode && equal(prior.Document, liveDoc)
	}

	switch d.Mode {
	case model.ModeSchemaMap:
		switch {
		case live.JSONSchema != "" && hasPrior && prior.Mode == model.ModeValidator:
			if foreign {
				p.refuseForeign(d)
				return
			}
			change(plan.Update, "mode changes to schema_map: the $jsonSchema validator is removed from the server, and applications get the schemaMap from csfle schema export")
		case !hasPrior:
			change(plan.Create, "a client schemaMap only: nothing is written to the server; csfle schema export writes it for applications")
		case prior.Mode != d.Mode || doc == "" || !schema.Equal(doc, prior.Document):
			change(plan.Update, "the encrypted fields changed: the exported schemaMap changes")
		}

	case model.ModeValidator:
		switch {
		case !live.Exists:
			change(plan.Create, fmt.Sprintf("%s does not exist: it is created with a $jsonSchema validator (validationLevel strict, validationAction error)", d.Namespace()))
		case foreign:
			p.refuseForeign(d)
		case doc == "" || !schema.Equal(doc, live.JSONSchema) || live.ValidationLevel != "strict" || live.ValidationAction != "error":
			change(plan.Update, "the collection's $jsonSchema validator differs from the configuration: it is replaced with collMod")
		case !hasPrior:
			change(plan.Adopt, "the collection's validator already matches the configuration; it is recorded in the state")
		case !recorded(doc, live.JSONSchema, schema.Equal):
			change(plan.Adopt, "the validator already matches the configuration but the state recorded another (an apply stopped before recording it, or it was set by hand): it is recorded")
		}

	case model.ModeQueryable:
		switch {
		case !live.Exists:
			change(plan.Create, fmt.Sprintf("%s does not exist: it is created with encryptedFields (Queryable Encryption)", d.Namespace()))
		case doc != "" && live.EncryptedFields != "" && schema.EqualEncryptedFields(doc, live.EncryptedFields):
			if !hasPrior {
				change(plan.Adopt, "the collection's encryptedFields already match the configuration; they are recorded in the state")
			} else if !recorded(doc, live.EncryptedFields, schema.EqualEncryptedFields) {
				change(plan.Adopt, "the encryptedFields already match the configuration but the state recorded others (an apply stopped before recording them): they are recorded")
			}
		case foreign:
			p.refuseForeign(d)
		default:
			if !p.opts.AllowReplace {
				p.refuse(d.Addr, "Queryable Encryption fields cannot change",
					"%s exists and its encryptedFields differ from the configuration (or it has none). MongoDB fixes encryptedFields when a collection is created, so the change means creating the collection again, which csfle does only for an empty collection: migrate its documents to another collection first, then plan and apply with -allow-replace.", d.Namespace())
				return
			}
			change(plan.Replace, fmt.Sprintf("encryptedFields cannot change after creation: the empty collection %s is dropped and created again with the new encryptedFields (csfle checks that it holds no document, at plan time and again before dropping it)", d.Namespace()))
		}
	}
}

func (p *planner) refuseForeign(d model.DesiredCollection) {
	p.refuse(d.Addr, "Validator holds more than encryption",
		"the validator of %s has rules besides the encrypt keywords csfle writes (required fields, patterns, or rules outside $jsonSchema), which csfle would overwrite. Remove them from the validator, or keep the collection out of csfle, or use mode = \"schema_map\" and leave the validator as it is.", d.Namespace())
}

func (p *planner) planCollectionDelete(c model.PriorCollection, live model.LiveCollection) {
	before := priorPlanCollection(c, nil)
	cc := &plan.CollectionChange{Before: before}
	switch {
	case c.Mode == model.ModeValidator && live.Exists && live.JSONSchema != "":
		p.collections = append(p.collections, plan.Change{Addr: c.Addr, Action: plan.Delete, Collection: cc,
			Reason: "removed from the configuration: the $jsonSchema validator csfle wrote is removed with collMod; the collection and its documents stay"})
	case c.Mode == model.ModeQueryable:
		p.collections = append(p.collections, plan.Change{Addr: c.Addr, Action: plan.Delete, Collection: cc,
			Reason: "removed from the configuration: csfle stops managing it; the collection keeps its encryptedFields and its data (MongoDB cannot remove them)"})
	default:
		p.collections = append(p.collections, plan.Change{Addr: c.Addr, Action: plan.Delete, Collection: cc,
			Reason: "removed from the configuration: it leaves the state and the exported schemaMap"})
	}
}

func (p *planner) noteCollectionDrift(prior model.PriorCollection, live model.LiveCollection) {
	var detail string
	switch prior.Mode {
	case model.ModeValidator:
		switch {
		case !live.Exists:
			detail = "the collection was dropped outside csfle"
		case live.JSONSchema == "":
			detail = "the $jsonSchema validator was removed outside csfle"
		case !schema.Equal(live.JSONSchema, prior.Document):
			detail = "the $jsonSchema validator was edited outside csfle"
		}
	case model.ModeQueryable:
		switch {
		case !live.Exists:
			detail = "the collection was dropped outside csfle"
		case !schema.EqualEncryptedFields(live.EncryptedFields, prior.Document):
			detail = "the collection was recreated with other encryptedFields outside csfle"
		}
	}
	if detail != "" {
		p.drift = append(p.drift, plan.Drift{Addr: prior.Addr, Kind: "edited", Detail: detail})
	}
}

// CheckUsage refuses the deletes of keys that documents still use, or that
// a schema left on the server after this plan still names. usage comes
// from a scan of the collections the caller chose (scanned says which, for
// the message); namedBy maps a key to the collections whose validator or
// encryptedFields name it.
func CheckUsage(p *plan.Plan, usage model.KeyUsage, namedBy map[model.KeyID][]string, scanned string) []Refusal {
	var refusals []Refusal
	for _, c := range p.Changes {
		if c.Action != plan.Delete || c.Addr.Type != "data_key" {
			continue
		}
		id, _ := c.KeyID()
		if names := namedBy[id]; len(names) > 0 {
			refusals = append(refusals, Refusal{Addr: c.Addr, Summary: "Key is named by a schema",
				Detail: fmt.Sprintf("%s (id %s) is named by the schema of %s, which stays on the server after this plan, so applications would keep encrypting with it. Change or remove that schema first.",
					c.Addr, id, strings.Join(names, ", "))})
			continue
		}
		if usage.Total(id) == 0 {
			continue
		}
		var parts []string
		for ns, n := range usage[id] {
			if n > 0 {
				parts = append(parts, fmt.Sprintf("%s: %d", ns, n))
			}
		}
		sort.Strings(parts)
		refusals = append(refusals, Refusal{Addr: c.Addr, Summary: "Key is still in use",
			Detail: fmt.Sprintf("%d documents still use %s (id %s): they hold values encrypted with it, or name it by alt name for their schema's keyId pointer — %s (scanned %s). Deleting it would make those values unreadable forever. Re-encrypt them with another key first, then plan again.",
				usage.Total(id), c.Addr, id, strings.Join(parts, ", "), scanned)})
	}
	return refusals
}
