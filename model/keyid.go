package model

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// KeyID is a data key's _id: a UUID (BSON binary subtype 4).
type KeyID [16]byte

// String formats the id as a canonical lower-case UUID.
func (id KeyID) String() string {
	h := hex.EncodeToString(id[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Base64 is the id as MongoDB shells and the CSFLE guide print it.
func (id KeyID) Base64() string { return base64.StdEncoding.EncodeToString(id[:]) }

// IsZero reports whether the id is unset.
func (id KeyID) IsZero() bool { return id == KeyID{} }

// MarshalText writes the UUID form, so ids read well in state and plans.
func (id KeyID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText accepts the UUID form.
func (id *KeyID) UnmarshalText(b []byte) error {
	p, err := ParseKeyID(string(b))
	if err != nil {
		return err
	}
	*id = p
	return nil
}

// ParseKeyID accepts a UUID (with or without dashes) or the base64 form.
func ParseKeyID(s string) (KeyID, error) {
	var id KeyID
	h := strings.ReplaceAll(s, "-", "")
	if len(h) == 32 {
		if _, err := hex.Decode(id[:], []byte(h)); err == nil {
			return id, nil
		}
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 16 {
		copy(id[:], b)
		return id, nil
	}
	return KeyID{}, fmt.Errorf("model: %q is not a key id (want a UUID or 16 bytes of base64)", s)
}
