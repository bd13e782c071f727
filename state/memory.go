package state

import (
	"context"
	"fmt"
	"sync"
)

// Memory keeps the state in memory, for tests of other packages. It stores
// the encoded document, so it refuses and returns exactly what Local
// would.
type Memory struct {
	mu     sync.Mutex
	data   []byte
	holder *LockInfo
	free   chan struct{} // closed when the current holder unlocks
}

var _ Backend = (*Memory)(nil)

// NewMemory returns an empty backend.
func NewMemory() *Memory { return &Memory{} }

const memoryName = "the in-memory state"

// Read returns a copy of the stored state.
func (m *Memory) Read(ctx context.Context) (*State, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("state: read %s: %w", memoryName, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.read()
}

func (m *Memory) read() (*State, error) {
	if m.data == nil {
		return nil, nil
	}
	return Decode(m.data, memoryName)
}

// Write stores a copy of s.
func (m *Memory) Write(ctx context.Context, s *State) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: write %s: %w", memoryName, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	stored, err := m.read()
	if err != nil {
		return err
	}
	next, data, err := nextState(memoryName, stored, s)
	if err != nil {
		return err
	}
	m.data = data
	s.Serial, s.FormatVersion = next.Serial, next.FormatVersion
	return nil
}

// Lock waits for the lock until ctx is done.
func (m *Memory) Lock(ctx context.Context, info LockInfo) (func() error, error) {
	if info.ID == "" {
		info.ID = newUUID()
	}
	for {
		m.mu.Lock()
		if m.holder == nil {
			m.holder, m.free = &info, make(chan struct{})
			free := m.free
			m.mu.Unlock()
			var once sync.Once
			return func() error {
				once.Do(func() {
					m.mu.Lock()
					m.holder = nil
					close(free)
					m.mu.Unlock()
				})
				return nil
			}, nil
		}
		holder, free := *m.holder, m.free
		m.mu.Unlock()
		select {
		case <-free:
		case <-ctx.Done():
			return nil, &LockError{Holder: holder}
		}
	}
}
