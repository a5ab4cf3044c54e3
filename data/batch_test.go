package data

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCollateShapesMasksAndPositions(t *testing.T) {
	e := byteEncoder(t, EncodeConfig{MaxLength: 64})
	pairs := []Pair{
		{Prompt: "ab", Chosen: Response{"c", Scores{"helpfulness": 4}}, Rejected: Response{"dddd", Scores{"helpfulness": 1}}},
		{Prompt: "abcdef", Chosen: Response{"g", Scores{"helpfulness": 2}}, Rejected: Response{"h", Scores{"helpfulness": 0}}},
	}
	var exs []Example
	for i := range pairs {
		ex, err := e.Encode(&pairs[i])
		require.NoError(t, err)
		exs = append(exs, ex)
	}
	b, err := Collate(exs, []int{1, 0}, BytePad, 4)
	require.NoError(t, err)
	// Longest: "#2 abcdef" + "g" + EOS = 11 tokens, rounded up to 12.
	require.Equal(t, []int{2, 2, 2, 12}, b.Dims())
	for _, a := range [][]int32{b.Tokens, b.ResponseMask, b.AttentionMask, b.PositionIDs} {
		require.Len(t, a, 2*2*2*12)
	}
	require.Equal(t, []int{1, 0}, b.Index)

	row := func(a []int32, i, k, side int) []int32 {
		off := b.Offset(i, k, side, 0)
		return a[off : off+b.S]
	}
	// Batch row 1 is pair 0; under template 0 its rejected side is "ab" + "dddd" + EOS.
	const P = BytePad
	require.Equal(t, []int32{'a', 'b', 'd', 'd', 'd', 'd', ByteEOS, P, P, P, P, P}, row(b.Tokens, 1, 0, 1))
	require.Equal(t, []int32{0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0}, row(b.ResponseMask, 1, 0, 1))
	require.Equal(t, []int32{1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0}, row(b.AttentionMask, 1, 0, 1))
	require.Equal(t, []int32{0, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6}, row(b.PositionIDs, 1, 0, 1),
		"cumsum(mask)-1: the real tokens count from 0 under right padding")
	// Chosen side of template 1 of pair 1: "#2 abcdef" + "g" + EOS.
	require.Equal(t, []int32{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0}, row(b.ResponseMask, 0, 1, 0))

	// Every position id is cumsum(attention)-1 clamped at 0.
	for i := 0; i < len(b.Tokens); i += b.S {
		sum := int32(0)
		for t2 := 0; t2 < b.S; t2++ {
			sum += b.AttentionMask[i+t2]
			require.Equal(t, max(sum-1, 0), b.PositionIDs[i+t2])
		}
	}

	_, err = Collate(exs, nil, BytePad, 1)
	require.ErrorContains(t, err, "empty batch")
	_, err = Collate(exs, []int{2}, BytePad, 1)
	require.ErrorContains(t, err, "out of range")
}

func TestPlanBucketsAndIsSeeded(t *testing.T) {
	lengths := make([]int, 103)
	for i := range lengths {
		lengths[i] = (i * 37) % 50
	}
	cfg := BatchConfig{BatchSize: 8, Seed: 42, Window: 4}
	a, err := Plan(lengths, cfg, 0)
	require.NoError(t, err)
	b, err := Plan(lengths, cfg, 0)
	require.NoError(t, err)
	require.Equal(t, a, b, "same seed and epoch, same batches")
	c, err := Plan(lengths, cfg, 1)
	require.NoError(t, err)
	require.NotEqual(t, a, c, "another epoch reshuffles")

	var all []int
	spread := 0
	for _, batch := range a {
		all = append(all, batch...)
		lo, hi := 1<<30, -1
		for _, i := range batch {
			lo, hi = min(lo, lengths[i]), max(hi, lengths[i])
		}
		spread += hi - lo
	}
	sort.Ints(all)
	for i := range all {
		require.Equal(t, i, all[i], "every example exactly once")
	}
	require.Len(t, a, 13)
	// Sorting inside windows of 32 keeps batches far tighter than random ones (spread ~43).
	require.Less(t, float64(spread)/float64(len(a)), 20.0)

	d, err := Plan(lengths, BatchConfig{BatchSize: 8, Seed: 42, DropLast: true}, 0)
	require.NoError(t, err)
	require.Len(t, d, 12)
	for _, batch := range d {
		require.Len(t, batch, 8)
	}
	_, err = Plan(lengths, BatchConfig{}, 0)
	require.ErrorContains(t, err, "batch size")
}
