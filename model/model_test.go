package model

import (
	"encoding/json"
	"testing"
)

func TestKeyIDForms(t *testing.T) {
	id := KeyID{0x3f, 0x2a, 0x9c, 0x1e, 0x6b, 0x7d, 0x4e, 0x21, 0x9a, 0x3f, 0x0c, 0x5d, 0x8e, 0x7b, 0x1a, 0x24}
	if got := id.String(); got != "3f2a9c1e-6b7d-4e21-9a3f-0c5d8e7b1a24" {
		t.Errorf("String = %s", got)
	}
	if got := id.Base64(); got != "PyqcHmt9TiGaPwxdjnsaJA==" {
		t.Errorf("Base64 = %s", got)
	}
	for _, s := range []string{id.String(), id.Base64(), "3f2a9c1e6b7d4e219a3f0c5d8e7b1a24"} {
		p, err := ParseKeyID(s)
		if err != nil || p != id {
			t.Errorf("ParseKeyID(%q) = %s, %v", s, p, err)
		}
	}
	for _, bad := range []string{"", "xyz", "3f2a9c1e-6b7d-4e21-9a3f", "AAAA"} {
		if _, err := ParseKeyID(bad); err == nil {
			t.Errorf("ParseKeyID(%q) accepted", bad)
		}
	}
	b, _ := json.Marshal(struct{ ID KeyID }{id})
	if string(b) != `{"ID":"3f2a9c1e-6b7d-4e21-9a3f-0c5d8e7b1a24"}` {
		t.Errorf("JSON = %s", b)
	}
}

func TestAddr(t *testing.T) {
	a, err := ParseAddr("data_key.ssn")
	if err != nil || a != DataKeyAddr("ssn") || a.String() != "data_key.ssn" {
		t.Errorf("ParseAddr = %v, %v", a, err)
	}
	for _, bad := range []string{"ssn", ".ssn", "data_key."} {
		if _, err := ParseAddr(bad); err == nil {
			t.Errorf("ParseAddr(%q) accepted", bad)
		}
	}
}

func TestMasterKey(t *testing.T) {
	a := MasterKey{Provider: "aws", Fields: map[string]string{"region": "us-east-1", "key": "arn"}}
	if got := a.String(); got != `aws(key="arn", region="us-east-1")` {
		t.Errorf("String = %s", got)
	}
	c := a.Clone()
	c.Fields["key"] = "other"
	if a.Fields["key"] != "arn" {
		t.Error("Clone shares its fields")
	}
	if a.Equal(c) || !a.Equal(a.Clone()) {
		t.Error("Equal is wrong")
	}
	if !(MasterKey{Provider: "local"}).Equal(MasterKey{Provider: "local", Fields: map[string]string{}}) {
		t.Error("nil and empty fields differ")
	}
	if ProviderKind("aws:prod") != "aws" || ProviderKind("local") != "local" {
		t.Error("ProviderKind")
	}
}
