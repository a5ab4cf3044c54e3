package ref

import (
	"math"
	"testing"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/stretchr/testify/require"
)

// TestComputeAtTheEdgeOfFloat64: fixed weights whose plain sum overflows are still 1:1,
// and a reward that overflows is an error naming it, not a 0 after Sanitize.
func TestComputeAtTheEdgeOfFloat64(t *testing.T) {
	pair := spec.Pair{Chosen: [][]float64{{-1}, {-1, -0.5}}, Rejected: [][]float64{{-2}, {-3}}}
	p := spec.Defaults(spec.AMoPO)
	p.Dimensions, p.Policy, p.Weights = []string{"a", "b"}, spec.Fixed, []float64{1e308, 1e308}
	out, err := Compute(&p, []spec.Pair{pair})
	require.NoError(t, err)
	require.Equal(t, []float64{0.5, 0.5}, out.Alpha[0])
	// Hand value: l_k = log1p(exp(-(beta*(s_w - s_l) - gamma))), weights 1/2 each.
	want := 0.0
	for k := range 2 {
		mean := func(xs []float64) float64 { return sum(xs) / float64(len(xs)) }
		x := 0.8*(mean(pair.Chosen[k])-mean(pair.Rejected[k])) - 2
		want += 0.5 * math.Log1p(math.Exp(-x))
	}
	require.InDelta(t, want, out.Loss, 1e-15)

	q := spec.Defaults(spec.SimPO)
	q.Dimensions, q.Beta = []string{"a", "b"}, 1e308
	_, err = Compute(&q, []spec.Pair{pair})
	require.ErrorContains(t, err, `rejected_rewards[0] (dimension "a") is -Inf: it overflows float64 with loss simpo, beta 1e+308`)
}
