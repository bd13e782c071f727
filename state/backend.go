package state

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"
)

// Backend stores one state and the lock that guards it.
//
// The intended use is Lock, Read, change, Write (as often as needed), then
// unlock. Read and Write do not take the lock themselves: the caller
// decides how long it must be held.
type Backend interface {
	// Read returns the stored state, or (nil, nil) when there is none yet.
	// The result shares nothing with the backend.
	Read(ctx context.Context) (*State, error)
	// Write stores s atomically and, on success, sets s.Serial to the new
	// serial (one more than before) and s.FormatVersion to FormatVersion.
	// It refuses a state whose lineage differs from the stored one, and a
	// state whose serial is lower than the stored one (someone else wrote
	// since s was read).
	Write(ctx context.Context, s *State) error
	// Lock takes the lock, waiting until ctx is done (the -lock-timeout) if
	// another holder has it; then it fails with a *LockError naming the
	// holder. It tries at least once, even when ctx is already done.
	// The returned unlock may be called more than once.
	Lock(ctx context.Context, info LockInfo) (unlock func() error, err error)
}

// LockInfo says who holds a lock, so that a run that has to wait can tell
// its user whom it is waiting for.
type LockInfo struct {
	ID        string    `json:"id"`
	Who       string    `json:"who"` // user@host
	Operation string    `json:"operation"`
	Created   time.Time `json:"created"`
	PID       int       `json:"pid"`
}

// NewLockInfo describes this process taking the lock for operation
// ("plan", "apply", "state rm").
func NewLockInfo(operation string) LockInfo {
	return LockInfo{
		ID:        newUUID(),
		Who:       whoAmI(),
		Operation: operation,
		Created:   time.Now().UTC().Truncate(time.Second),
		PID:       os.Getpid(),
	}
}

func whoAmI() string {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = os.Getenv("USER")
	}
	if name == "" {
		name = "uid " + strconv.Itoa(os.Getuid())
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return name + "@" + host
}

// LockError is returned by Lock when the lock is still held by someone else
// once the caller's context is done.
type LockError struct {
	Holder LockInfo
	// Path is the lock file, for backends that keep one.
	Path string
}

func (e *LockError) Error() string {
	var b strings.Builder
	h := e.Holder
	if h.ID == "" && h.Who == "" {
		b.WriteString("state: locked by another run, which has not yet recorded who it is")
	} else {
		who := h.Who
		if who == "" {
			who = "an unknown user"
		}
		fmt.Fprintf(&b, "state: locked by %s (%s, pid %d) since %s; lock id %s",
			who, orUnknown(h.Operation), h.PID, h.Created.UTC().Format(time.RFC3339), orUnknown(h.ID))
	}
	b.WriteString(". Wait for it to finish (-lock-timeout waits for you)")
	if e.Path != "" && e.Holder.ID != "" {
		fmt.Fprintf(&b, ", or, if its process is gone, run csfle force-unlock %s", e.Holder.ID)
	}
	b.WriteString(".")
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// nextState checks that s may replace stored (nil when there is none) in
// the backend described by where, and returns the state to store and its
// encoding.
func nextState(where string, stored, s *State) (*State, []byte, error) {
	if s == nil {
		return nil, nil, fmt.Errorf("state: write %s: no state to write", where)
	}
	if stored != nil {
		if stored.Lineage != s.Lineage {
			return nil, nil, fmt.Errorf("state: refusing to write %s: it holds a different state (lineage %s, not %s). Check that this is the right configuration directory and state file.",
				where, stored.Lineage, s.Lineage)
		}
		if stored.Serial > s.Serial {
			return nil, nil, fmt.Errorf("state: refusing to write %s: another run wrote it (serial %d) after this run read it (serial %d). Run csfle plan again.",
				where, stored.Serial, s.Serial)
		}
	}
	next := s.DeepCopy()
	next.FormatVersion = FormatVersion
	next.Serial = s.Serial + 1
	data, err := Encode(next)
	if err != nil {
		return nil, nil, err
	}
	return next, data, nil
}
