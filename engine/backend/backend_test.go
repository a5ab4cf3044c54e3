package backend

import (
	"os"
	"testing"

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
