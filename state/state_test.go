package state_test

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/csfle/csfle/model"
	"github.com/csfle/csfle/state"
	"github.com/csfle/csfle/state/statetest"
)

func TestNew(t *testing.T) {
	a, b := state.New("db.keys"), state.New("db.keys")
	if a.Serial != 0 || a.FormatVersion != state.FormatVersion || a.KeyVault != "db.keys" || a.Keys != nil {
		t.Errorf("New = %+v", a)
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if !uuid.MatchString(a.Lineage) || a.Lineage == b.Lineage {
		t.Errorf("lineages %q and %q: want two different random UUIDs", a.Lineage, b.Lineage)
	}
}

func TestKeys(t *testing.T) {
	s := state.New("db.keys")
	for _, n := range []string{"m", "a", "z", "b"} {
		s.SetKey(statetest.Key(n))
	}
	s.SetKey(model.PriorKey{Addr: model.KeyVaultIndexAddr}) // another type sorts by type first
	replaced := statetest.Key("m")
	replaced.AltNames = []string{"m", "m2"}
	s.SetKey(replaced)
	s.RemoveKey(model.DataKeyAddr("b"))
	s.RemoveKey(model.DataKeyAddr("absent"))

	var got []string
	for _, k := range s.Keys {
		got = append(got, k.Addr.String())
	}
	want := []string{"data_key.a", "data_key.m", "data_key.z", "key_vault.keyAltNames_index"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	k, ok := s.Key(model.DataKeyAddr("m"))
	if !ok || len(k.AltNames) != 2 {
		t.Errorf("Key(m) = %+v, %v; want the replacement", k, ok)
	}
	if _, ok := s.Key(model.DataKeyAddr("b")); ok {
		t.Error("Key(b) found a removed key")
	}

	// Nothing handed out or taken in is shared.
	k.AltNames[0] = "mutated"
	k.MasterKey.Fields["region"] = "mutated"
	replaced.AltNames[1] = "mutated"
	p := s.Prior()
	p.Keys[1].AltNames[0] = "mutated"
	c := s.DeepCopy()
	c.Keys[1].MasterKey.Fields["key"] = "mutated"
	if again, _ := s.Key(model.DataKeyAddr("m")); again.AltNames[0] != "m" || again.AltNames[1] != "m2" ||
		again.MasterKey.Fields["region"] != "us-east-1" || again.MasterKey.Fields["key"] == "mutated" {
		t.Errorf("state changed through a copy: %+v", again)
	}
	if p.Lineage != s.Lineage || p.Serial != s.Serial || len(p.Keys) != len(s.Keys) {
		t.Errorf("Prior = %+v", p)
	}
	for _, n := range []string{"a", "m", "z"} {
		s.RemoveKey(model.DataKeyAddr(n))
	}
	s.RemoveKey(model.KeyVaultIndexAddr)
	if s.Keys != nil {
		t.Errorf("keys after removing all = %#v, want nil", s.Keys)
	}
	if (*state.State)(nil).DeepCopy() != nil {
		t.Error("DeepCopy of nil is not nil")
	}
}

func TestCollectionsRoundTrip(t *testing.T) {
	s := state.New("encryption.__keyVault")
	c := model.PriorCollection{Addr: model.CollectionAddr("medical", "patients"), Database: "medical", Name: "patients", Mode: model.ModeValidator,
		Fields:   []model.EncryptedField{{Path: "ssn", BSONType: "string", Algorithm: model.AlgorithmDeterministic, Key: model.DataKeyAddr("ssn")}},
		Document: `{"bsonType":"object"}`}
	s.SetCollection(c)
	s.SetCollection(model.PriorCollection{Addr: model.CollectionAddr("a", "b"), Database: "a", Name: "b", Mode: model.ModeSchemaMap})
	data, err := state.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := state.Decode(data, "test")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if back.Collections[0].Addr.Name != "a.b" {
		t.Errorf("collections are not sorted: %v", back.Collections)
	}
	got, ok := back.Collection(c.Addr)
	if !ok || got.Fields[0].Path != "ssn" {
		t.Errorf("Collection = %+v, %v", got, ok)
	}
	back.RemoveCollection(c.Addr)
	back.RemoveCollection(model.CollectionAddr("a", "b"))
	if back.Collections != nil || len(back.Prior().Collections) != 0 {
		t.Errorf("collections left after removing both: %v", back.Collections)
	}
}
