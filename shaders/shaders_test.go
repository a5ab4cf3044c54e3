package shaders

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSource(t *testing.T) {
	src, err := Source("unary", map[string]string{"TA": "f32", "TO": "f32", "BODY": "return x;"})
	require.NoError(t, err)
	require.Contains(t, src, "fn is_nan_f32") // common.wgsl is prepended
	require.Contains(t, src, "array<f32>")
	_, err = Source("unary", map[string]string{"TA": "f32"})
	require.ErrorContains(t, err, "unfilled placeholder")
	_, err = Source("nope", nil)
	require.ErrorContains(t, err, `no kernel "nope"`)
	require.Contains(t, Names(), "matmul")
	require.NotContains(t, Names(), "common")
}
