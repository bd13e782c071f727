package state_test

import (
	"testing"

	"github.com/csfle/csfle/state"
	"github.com/csfle/csfle/state/statetest"
)

func TestMemoryConformance(t *testing.T) {
	statetest.Run(t, func(t *testing.T) state.Backend { return state.NewMemory() })
}
