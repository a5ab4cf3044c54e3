package backend

import (
	"slices"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/stretchr/testify/require"
)

func xlaBuiltIn() bool { return slices.Contains(backends.List(), "xla") }

func TestXLAClientOptionsFromJAXVariables(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

	opts, err := xlaClientOptions(env(nil))
	require.NoError(t, err)
	require.Nil(t, opts, "no variable: the plugin's defaults")

	opts, err = xlaClientOptions(env(map[string]string{
		"XLA_PYTHON_CLIENT_PREALLOCATE":  "False",
		"XLA_PYTHON_CLIENT_MEM_FRACTION": ".5",
		"XLA_PYTHON_CLIENT_ALLOCATOR":    "platform",
	}))
	require.NoError(t, err)
	// The plugin checks the types: bool, float32 (PJRT kFloat) and string.
	require.Equal(t, map[string]any{"preallocate": false, "memory_fraction": float32(0.5), "allocator": "platform"}, opts)

	opts, err = xlaClientOptions(env(map[string]string{"XLA_PYTHON_CLIENT_PREALLOCATE": "1"}))
	require.NoError(t, err)
	require.Equal(t, map[string]any{"preallocate": true}, opts)

	for k, v := range map[string]string{
		"XLA_PYTHON_CLIENT_PREALLOCATE":  "maybe",
		"XLA_PYTHON_CLIENT_MEM_FRACTION": "1.5",
		"XLA_PYTHON_CLIENT_ALLOCATOR":    "arena",
	} {
		_, err := xlaClientOptions(env(map[string]string{k: v}))
		require.ErrorContains(t, err, k, "a bad value names its variable")
	}
}

func TestNewBackendXLAWithClientOptions(t *testing.T) {
	t.Setenv("XLA_PYTHON_CLIENT_PREALLOCATE", "maybe")
	_, err := New("xla:cuda")
	require.Error(t, err)
	if !xlaBuiltIn() {
		require.ErrorContains(t, err, "built without XLA")
		return
	}
	require.ErrorContains(t, err, "XLA_PYTHON_CLIENT_PREALLOCATE")

	// Valid options take the options path, which must still say what to install when no
	// plugin is found, and never download one.
	t.Setenv("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", t.TempDir())
	_, err = New("xla:cuda")
	require.ErrorContains(t, err, "install a PJRT CUDA plugin")
}
