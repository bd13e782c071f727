package model

import (
	"sort"
	"strings"
)

// Provider kinds that MongoDB defines. A provider name is a kind, or a kind
// and a label joined by a colon ("aws:prod").
const (
	KindLocal = "local"
	KindAWS   = "aws"
	KindAzure = "azure"
	KindGCP   = "gcp"
	KindKMIP  = "kmip"
)

// ProviderKind returns the kind part of a provider name: "aws" for "aws:prod".
func ProviderKind(name string) string {
	kind, _, _ := strings.Cut(name, ":")
	return kind
}

// MasterKey says which KMS provider wraps a data key and with which of its
// keys. Fields are the provider's masterKey document (aws: key, region,
// endpoint); a local master key has none. It never holds key material.
type MasterKey struct {
	Provider string            `json:"provider"`
	Fields   map[string]string `json:"fields,omitempty"`
}

// Equal compares provider and fields; an empty map equals a nil one.
func (m MasterKey) Equal(o MasterKey) bool {
	if m.Provider != o.Provider || len(m.Fields) != len(o.Fields) {
		return false
	}
	for k, v := range m.Fields {
		if ov, ok := o.Fields[k]; !ok || ov != v {
			return false
		}
	}
	return true
}

// String renders the master key on one line, fields in name order, for
// plans and error messages: `aws(key="arn:...", region="us-east-1")`.
func (m MasterKey) String() string {
	if len(m.Fields) == 0 {
		return m.Provider
	}
	var b strings.Builder
	b.WriteString(m.Provider)
	b.WriteByte('(')
	for i, k := range m.FieldNames() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString("=\"")
		b.WriteString(m.Fields[k])
		b.WriteByte('"')
	}
	b.WriteByte(')')
	return b.String()
}

// FieldNames returns the field names in sorted order.
func (m MasterKey) FieldNames() []string {
	names := make([]string, 0, len(m.Fields))
	for k := range m.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Clone returns a deep copy.
func (m MasterKey) Clone() MasterKey {
	c := MasterKey{Provider: m.Provider}
	if m.Fields != nil {
		c.Fields = make(map[string]string, len(m.Fields))
		for k, v := range m.Fields {
			c.Fields[k] = v
		}
	}
	return c
}

// Satisfies reports whether m, a master key as the key vault holds it, is
// the one desired asks for. A kmip master key whose keyId the configuration
// leaves out gets one from the server, and delegated false is the same as
// absent; every other field must be equal.
func (m MasterKey) Satisfies(desired MasterKey) bool {
	if ProviderKind(desired.Provider) != KindKMIP {
		return m.Equal(desired)
	}
	norm := func(k MasterKey, dropKeyID bool) MasterKey {
		c := k.Clone()
		if c.Fields["delegated"] == "false" {
			delete(c.Fields, "delegated")
		}
		if dropKeyID {
			delete(c.Fields, "keyId")
		}
		return c
	}
	_, pinned := desired.Fields["keyId"]
	return norm(m, !pinned).Equal(norm(desired, false))
}
