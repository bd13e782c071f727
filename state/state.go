package state

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"slices"

	"github.com/csfle/csfle/model"
)

// FormatVersion is the version of the state document this csfle writes, and
// the newest it can read.
const FormatVersion = 1

// State is the state document.
type State struct {
	FormatVersion int `json:"format_version"`
	// Serial goes up by one on every write, so a reader can tell that the
	// state changed since it last looked.
	Serial uint64 `json:"serial"`
	// Lineage is made once, when a state is created, and never changes. Two
	// states with different lineages describe different deployments, and
	// one must never overwrite the other.
	Lineage string `json:"lineage"`
	// CSFLEVersion is the version of csfle that wrote the state. Callers set
	// it before writing; backends store it as given.
	CSFLEVersion string           `json:"csfle_version"`
	KeyVault     string           `json:"key_vault_namespace"`
	Keys         []model.PriorKey `json:"data_keys"` // sorted by address, no duplicates
	// Collections are the encrypted collections, sorted by address.
	Collections []model.PriorCollection `json:"collections,omitempty"`
	// Retired are the collections and paths that held managed encrypted
	// fields once and no longer do: the in-use check scans them too.
	Retired []model.ScanRecord `json:"retired_scan_targets,omitempty"`
	// IndexUnsupported says why the server refused the unique index on
	// keyAltNames, so later plans warn instead of retrying it every time.
	IndexUnsupported string `json:"key_vault_index_unsupported,omitempty"`
}

// New returns an empty state for the key vault namespace, with a fresh
// lineage and serial 0.
func New(namespace string) *State {
	return &State{
		FormatVersion: FormatVersion,
		Lineage:       newLineage(),
		KeyVault:      namespace,
	}
}

// Prior is the state as the planner sees it. It shares nothing with s.
func (s *State) Prior() model.Prior {
	p := model.Prior{Lineage: s.Lineage, Serial: s.Serial, IndexUnsupported: s.IndexUnsupported}
	for _, c := range s.Collections {
		p.Collections = append(p.Collections, cloneCollection(c))
	}
	if len(s.Keys) > 0 {
		p.Keys = make([]model.PriorKey, len(s.Keys))
		for i, k := range s.Keys {
			p.Keys[i] = cloneKey(k)
		}
	}
	return p
}

// Key returns a copy of the key recorded at addr.
func (s *State) Key(addr model.Addr) (model.PriorKey, bool) {
	i, ok := s.find(addr)
	if !ok {
		return model.PriorKey{}, false
	}
	return cloneKey(s.Keys[i]), true
}

// SetKey records k at k.Addr, replacing what was there, and keeps the keys
// sorted. It keeps a copy of k.
func (s *State) SetKey(k model.PriorKey) {
	k = cloneKey(k)
	i, ok := s.find(k.Addr)
	if ok {
		s.Keys[i] = k
		return
	}
	s.Keys = slices.Insert(s.Keys, i, k)
}

// RemoveKey forgets the key at addr, if there is one.
func (s *State) RemoveKey(addr model.Addr) {
	if i, ok := s.find(addr); ok {
		s.Keys = slices.Delete(s.Keys, i, i+1)
		if len(s.Keys) == 0 {
			s.Keys = nil
		}
	}
}

// Collection returns a copy of the collection recorded at addr.
func (s *State) Collection(addr model.Addr) (model.PriorCollection, bool) {
	for _, c := range s.Collections {
		if c.Addr == addr {
			return cloneCollection(c), true
		}
	}
	return model.PriorCollection{}, false
}

// SetCollection records c at c.Addr, replacing what was there.
func (s *State) SetCollection(c model.PriorCollection) {
	c = cloneCollection(c)
	i, found := slices.BinarySearchFunc(s.Collections, c.Addr, func(x model.PriorCollection, a model.Addr) int { return compareAddr(x.Addr, a) })
	if found {
		s.Collections[i] = c
		return
	}
	s.Collections = slices.Insert(s.Collections, i, c)
}

// RemoveCollection forgets the collection at addr.
func (s *State) RemoveCollection(addr model.Addr) {
	s.Collections = slices.DeleteFunc(s.Collections, func(c model.PriorCollection) bool { return c.Addr == addr })
	if len(s.Collections) == 0 {
		s.Collections = nil
	}
}

func cloneCollection(c model.PriorCollection) model.PriorCollection {
	c.Fields = slices.Clone(c.Fields)
	for i := range c.Fields {
		c.Fields[i].Queries = slices.Clone(c.Fields[i].Queries)
	}
	return c
}

// Retire adds paths of a namespace to the retired scan targets.
func (s *State) Retire(namespace string, paths []string) {
	if len(paths) == 0 {
		return
	}
	for i, r := range s.Retired {
		if r.Namespace == namespace {
			for _, p := range paths {
				if !slices.Contains(r.Paths, p) {
					s.Retired[i].Paths = append(s.Retired[i].Paths, p)
				}
			}
			slices.Sort(s.Retired[i].Paths)
			return
		}
	}
	ps := slices.Clone(paths)
	slices.Sort(ps)
	s.Retired = append(s.Retired, model.ScanRecord{Namespace: namespace, Paths: ps})
	slices.SortFunc(s.Retired, func(a, b model.ScanRecord) int { return cmp.Compare(a.Namespace, b.Namespace) })
}

// DeepCopy returns a copy of s that shares no memory with it.
func (s *State) DeepCopy() *State {
	if s == nil {
		return nil
	}
	c := *s
	c.Retired = nil
	for _, r := range s.Retired {
		c.Retired = append(c.Retired, model.ScanRecord{Namespace: r.Namespace, Paths: slices.Clone(r.Paths)})
	}
	c.Collections = nil
	for _, col := range s.Collections {
		c.Collections = append(c.Collections, cloneCollection(col))
	}
	c.Keys = nil
	if len(s.Keys) > 0 {
		c.Keys = make([]model.PriorKey, len(s.Keys))
		for i, k := range s.Keys {
			c.Keys[i] = cloneKey(k)
		}
	}
	return &c
}

func (s *State) find(addr model.Addr) (int, bool) {
	return slices.BinarySearchFunc(s.Keys, addr, func(k model.PriorKey, a model.Addr) int {
		return compareAddr(k.Addr, a)
	})
}

func compareAddr(a, b model.Addr) int {
	return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name))
}

func cloneKey(k model.PriorKey) model.PriorKey {
	k.AltNames = slices.Clone(k.AltNames)
	k.MasterKey = k.MasterKey.Clone()
	return k
}

// newLineage returns a random version 4 UUID.
func newLineage() string { return newUUID() }

func newUUID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails: crypto/rand crashes the program instead
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
