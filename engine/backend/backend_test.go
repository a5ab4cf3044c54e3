package backend

import (
	"os"
	"testing"

	"github.com/amopo-engine/amopo/engine/cpu"
	"github.com/stretchr/testify/require"
)

func TestNewErrors(t *testing.T) {
	_, err := New("nosuch")
	require.ErrorContains(t, err, `backend "nosuch" is not available`)
	_, err = New("xla:/nonexistent/plugin.so")
	require.ErrorContains(t, err, "install a PJRT CUDA plugin")
	require.Equal(t, "1", os.Getenv("GOMLX_NO_AUTO_INSTALL"), "never download a plugin")
	be, err := New("go")
	require.NoError(t, err)
	require.Contains(t, be.Name(), "Go")
	require.True(t, IsPureGo("go:ops_sequential"))
	require.False(t, IsPureGo("xla:cuda"))
}

// TestGoRunsParallelOnlyOverFastExecutors: "go" is the parallel executor while engine/cpu's
// executors are installed, and the sequential one over GoMLX's own (whose DotGeneral
// deadlocks the parallel executor: a benchmark with --fast-gemm=false hung on it).
func TestGoRunsParallelOnlyOverFastExecutors(t *testing.T) {
	require.True(t, cpu.Installed(), "engine/backend imports engine/cpu")
	require.Equal(t, "go:ops_parallel", SafeGoConfig())
	cpu.Uninstall()
	defer func() { require.NoError(t, cpu.Install()) }()
	require.Equal(t, "go:ops_sequential", SafeGoConfig())
}
