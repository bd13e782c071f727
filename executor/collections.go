package executor

import (
	"context"
	"fmt"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
	"github.com/csfle/csfle/schema"
)

// collection carries out a change to an encrypted collection. The document
// is made now, from the ids the state records, because keys created earlier
// in this apply had no id when the plan was made.
func (e *executor) collection(ctx context.Context, c plan.Change) error {
	if c.Action == plan.Delete {
		return e.deleteCollection(ctx, c)
	}
	after := c.Collection.After
	d := model.DesiredCollection{Addr: c.Addr, Database: after.Database, Name: after.Name, Mode: after.Mode}
	for _, f := range after.Fields {
		d.Fields = append(d.Fields, f.EncryptedField)
	}
	doc, err := e.document(d)
	if err != nil {
		return err
	}
	if c.Collection.Document != "" && !schema.Equal(doc, c.Collection.Document) {
		return fmt.Errorf("executor: %s: the document made at apply time differs from the plan's; run csfle plan again", c.Addr)
	}
	if err := e.writeCollection(ctx, c, d, doc); err != nil {
		return err
	}
	rec := model.PriorCollection{Addr: c.Addr, Database: d.Database, Name: d.Name, Mode: d.Mode, Fields: d.Fields, Document: doc}
	return e.record(func() error { return e.rec.PutCollection(ctx, rec) })
}

func (e *executor) writeCollection(ctx context.Context, c plan.Change, d model.DesiredCollection, doc string) error {
	before := c.Collection.Before
	switch {
	case c.Action == plan.Adopt:
		return nil
	case c.Action == plan.Replace:
		if err := e.v.DropEmpty(ctx, d.Database, d.Name); err != nil {
			return err
		}
		return e.v.CreateCollection(ctx, d.Database, d.Name, "", doc)
	case d.Mode == model.ModeSchemaMap:
		if before != nil && before.Mode == model.ModeValidator {
			return e.v.SetValidator(ctx, d.Database, d.Name, "")
		}
		return nil
	case d.Mode == model.ModeQueryable:
		return e.v.CreateCollection(ctx, d.Database, d.Name, "", doc)
	case c.Action == plan.Create:
		return e.v.CreateCollection(ctx, d.Database, d.Name, doc, "")
	default:
		return e.v.SetValidator(ctx, d.Database, d.Name, doc)
	}
}

func (e *executor) deleteCollection(ctx context.Context, c plan.Change) error {
	before := c.Collection.Before
	if before != nil && before.Mode == model.ModeValidator {
		if err := e.v.SetValidator(ctx, before.Database, before.Name, ""); err != nil {
			return err
		}
	}
	return e.record(func() error { return e.rec.RemoveCollection(ctx, c.Addr) })
}

// document makes the collection's $jsonSchema or encryptedFields from the
// key ids in the state.
func (e *executor) document(d model.DesiredCollection) (string, error) {
	ids := map[model.Addr]model.KeyID{}
	e.mu.Lock()
	for _, f := range d.Fields {
		if id, ok := e.rec.KeyID(f.Key); ok {
			ids[f.Key] = id
		}
	}
	e.mu.Unlock()
	var doc string
	var err error
	if d.Mode == model.ModeQueryable {
		doc, err = schema.EncryptedFields(d, ids)
	} else {
		doc, err = schema.JSONSchema(d, ids)
	}
	if err != nil {
		return "", fmt.Errorf("executor: %s: %w", d.Addr, err)
	}
	return doc, nil
}
