package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/plan"
)

// document is the JSON plan document as render reads it. It is only ever
// filled by decoding the bytes that JSON writes, which is what keeps the
// views honest. Fields the views do not show are not declared.
type document struct {
	FormatVersion string      `json:"format_version"`
	Basis         docBasis    `json:"basis"`
	Changes       []docChange `json:"changes"`
	Drift         []docDrift  `json:"drift"`
	Warnings      []string    `json:"warnings"`
}

type docBasis struct {
	Namespace string `json:"key_vault_namespace"`
}

type docChange struct {
	Address    string         `json:"address"`
	Action     string         `json:"action"`
	Before     *docKey        `json:"before"`
	After      *docKey        `json:"after"`
	Collection *docCollChange `json:"collection"`
	Reason     string         `json:"reason"`
}

type docDrift struct {
	Address string  `json:"address"`
	Kind    string  `json:"kind"`
	Before  *docKey `json:"before"`
	After   *docKey `json:"after"`
	Detail  string  `json:"detail"`
}

type docKey struct {
	ID             string          `json:"id"`
	AltNames       []string        `json:"alt_names"`
	MasterKey      model.MasterKey `json:"master_key"`
	PreventDestroy bool            `json:"prevent_destroy"`
}

// docCollChange is the collection part of a change to a collection. The
// document it will write is left out: the views show it field by field.
type docCollChange struct {
	Before *docCollection `json:"before"`
	After  *docCollection `json:"after"`
}

type docCollection struct {
	Database string     `json:"database"`
	Name     string     `json:"name"`
	Mode     string     `json:"mode"`
	Fields   []docField `json:"fields"`
}

type docField struct {
	Path      string        `json:"path"`
	BSONType  string        `json:"bson_type"`
	Algorithm string        `json:"algorithm"`
	DataKey   string        `json:"data_key"`
	KeyID     string        `json:"key_id"`
	Queries   []model.Query `json:"queries"`
}

// encode marshals the plan into its document form: indented, HTML
// characters left alone (reasons say "->"), with a trailing newline.
func encode(p *plan.Plan) ([]byte, error) {
	if p == nil {
		return nil, errors.New("render: no plan")
	}
	if err := checkVersion(p.FormatVersion); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("render: encode plan: %w", err)
	}
	return buf.Bytes(), nil
}

// load gives the views the document, by way of its JSON bytes.
func load(p *plan.Plan) (*document, error) {
	b, err := encode(p)
	if err != nil {
		return nil, err
	}
	var d document
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("render: decode plan document: %w", err)
	}
	if err := checkVersion(d.FormatVersion); err != nil {
		return nil, err
	}
	return &d, nil
}

// checkVersion accepts any minor version of the major version this package
// was written for; a minor version only adds fields, which the views ignore.
func checkVersion(v string) error {
	want, _, _ := strings.Cut(plan.FormatVersion, ".")
	if v == "" {
		return errors.New("render: the plan has no format_version")
	}
	if major, _, _ := strings.Cut(v, "."); major != want {
		return fmt.Errorf("render: plan format version %q is not supported (this csfle reads %s.x)", v, want)
	}
	return nil
}

// action parses a change's action name. ok is false for a name this
// version does not know, which the views still show, by name.
func action(name string) (a plan.Action, ok bool) {
	return a, a.UnmarshalText([]byte(name)) == nil
}

// symbol is the action's symbol, or "?" for an action this version does
// not know.
func symbol(name string) string {
	if a, ok := action(name); ok {
		return a.Symbol()
	}
	return "?"
}

// splitAddr splits "data_key.ssn" into its type and name; an address that
// does not parse is shown whole, as its type.
func splitAddr(s string) (typ, name string) {
	a, err := model.ParseAddr(s)
	if err != nil {
		return s, ""
	}
	return a.Type, a.Name
}

// isCollection reports whether the address is an encrypted collection's.
func isCollection(addr string) bool {
	typ, _ := splitAddr(addr)
	return typ == collectionType
}

// collectionType is the address type of collection blocks, as
// model.CollectionAddr makes them.
var collectionType = model.CollectionAddr("", "").Type

// isIndex reports whether the address is the key vault's keyAltNames index,
// whose change carries no key and is drawn from what MongoDB requires.
func isIndex(addr string) bool { return addr == model.KeyVaultIndexAddr.String() }
