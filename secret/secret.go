// Package secret holds values that must never be printed, logged, serialized
// or written to state: master keys and cloud credentials.
//
// A Value formats as "(sensitive)" with every fmt verb and refuses to marshal
// to JSON, so a secret that strays into a plan, a state file or an error
// message is caught at the point it strays instead of leaking quietly.
// The only way to the bytes is Reveal, which is meant to be called right next
// to the library call that needs them.
//
// This package imports nothing but the standard library's fmt and errors.
package secret

import (
	"errors"
	"fmt"
)

// Redacted is what a Value prints as.
const Redacted = "(sensitive)"

// ErrMarshal is returned by every attempt to serialize a Value.
var ErrMarshal = errors.New("secret: a sensitive value cannot be serialized")

// Value is a sensitive byte string. The zero Value is empty.
type Value struct {
	b []byte
}

// New wraps b. The caller must not keep using b for anything printable.
func New(b []byte) Value { return Value{b: append([]byte(nil), b...)} }

// FromString wraps s.
func FromString(s string) Value { return Value{b: []byte(s)} }

// Reveal returns a copy of the secret bytes.
func (v Value) Reveal() []byte { return append([]byte(nil), v.b...) }

// RevealString returns the secret as a string.
func (v Value) RevealString() string { return string(v.b) }

// IsZero reports whether the value is empty.
func (v Value) IsZero() bool { return len(v.b) == 0 }

// Len is the length of the secret in bytes, which is safe to print.
func (v Value) Len() int { return len(v.b) }

// Equal reports whether two secrets hold the same bytes.
func (v Value) Equal(o Value) bool { return string(v.b) == string(o.b) }

func (Value) String() string               { return Redacted }
func (Value) GoString() string             { return "secret.Value(" + Redacted + ")" }
func (Value) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(Redacted)) }
func (Value) MarshalJSON() ([]byte, error) { return nil, ErrMarshal }
func (Value) MarshalText() ([]byte, error) { return nil, ErrMarshal }
func (*Value) UnmarshalJSON([]byte) error  { return ErrMarshal }
