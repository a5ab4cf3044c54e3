package layout

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDenseStrides(t *testing.T) {
	require.Equal(t, []int{12, 4, 1}, DenseStrides([]int{2, 3, 4}))
	require.Equal(t, []int{}, DenseStrides([]int{}))
}

// TestMerge: contiguous axes in order merge (size-1 axes anywhere), axes out of order or
// with a gap do not, and the size is the product either way.
func TestMergeAxes(t *testing.T) {
	dims := []int{2, 3, 1, 4}
	st := DenseStrides(dims)
	for _, c := range []struct {
		axes         []int
		size, stride int
		ok           bool
	}{
		{[]int{1, 2, 3}, 12, 1, true},
		{[]int{0, 1}, 6, 4, true},
		{[]int{2}, 1, 0, true},
		{[]int{}, 1, 0, true},
		{[]int{3, 1}, 12, 4, false},
		{[]int{0, 3}, 8, 1, false},
	} {
		size, stride, ok := MergeAxes(dims, st, c.axes)
		require.Equal(t, c.size, size, "%v", c.axes)
		require.Equal(t, c.ok, ok, "%v", c.axes)
		if ok {
			require.Equal(t, c.stride, stride, "%v", c.axes)
		}
	}
}
