package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRunsOneSmallStep runs the command's step on a small vocabulary, both ways, and its
// refusals of bad flags.
func TestRunsOneSmallStep(t *testing.T) {
	for _, logits := range []string{"chunked", "whole"} {
		for _, micro := range []int{0, 1} {
			require.NoError(t, run(1, 8, 1, 64, micro, logits, "go"), "%s, micro %d", logits, micro)
		}
	}
	require.ErrorContains(t, run(1, 8, 1, 64, 0, "fused", "go"), "-logits")
	require.ErrorContains(t, run(0, 8, 1, 64, 0, "whole", "go"), "at least 1 layer")
	require.ErrorContains(t, run(1, 8, 1, 64, -1, "whole", "go"), "-micro -1")
	hwm, err := peakRSS()
	require.NoError(t, err)
	require.Greater(t, hwm, int64(1<<20), "VmHWM of a Go test process is more than 1 MB")
}
