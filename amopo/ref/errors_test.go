package ref

import (
	"math"
	"testing"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/stretchr/testify/require"
)

// requireAllFail checks that every entry point returns an error containing want.
func requireAllFail(t *testing.T, p *spec.Params, batch []spec.Pair, want string) {
	t.Helper()
	alpha := newMatrix(len(batch), p.K())
	_, err := Compute(p, batch)
	require.ErrorContains(t, err, want, "Compute")
	_, _, _, _, _, err = Weights(p, batch)
	require.ErrorContains(t, err, want, "Weights")
	_, _, err = LossWithWeights(p, batch, alpha)
	require.ErrorContains(t, err, want, "LossWithWeights")
	_, err = Gradient(p, batch, alpha)
	require.ErrorContains(t, err, want, "Gradient")
}

func goodPair() spec.Pair {
	return spec.Pair{
		Chosen:   [][]float64{{-1, -2}, {-0.5}, {-1}, {-3, -1}},
		Rejected: [][]float64{{-2}, {-1, -1}, {-2, -2}, {-4}},
	}
}

func TestErrors(t *testing.T) {
	p := paramsK4(spec.AMoPO)

	t.Run("empty response", func(t *testing.T) {
		bad := goodPair()
		bad.Rejected[2] = []float64{}
		requireAllFail(t, &p, []spec.Pair{goodPair(), bad}, `pairs[1].rejected_logps[2]: empty response for dimension "correctness"`)
	})
	t.Run("K mismatch", func(t *testing.T) {
		bad := goodPair()
		bad.Chosen = bad.Chosen[:3]
		requireAllFail(t, &p, []spec.Pair{bad}, "pairs[0].chosen_logps: 3 arrays for K = 4 dimensions")
	})
	t.Run("missing reference for dpo", func(t *testing.T) {
		d := paramsK4(spec.DPO)
		requireAllFail(t, &d, []spec.Pair{goodPair()}, `pairs[0].ref_chosen_logps: missing (loss "dpo" needs it)`)
	})
	t.Run("NaN log-prob", func(t *testing.T) {
		bad := goodPair()
		bad.Chosen[3][1] = math.NaN()
		requireAllFail(t, &p, []spec.Pair{bad}, "pairs[0].chosen_logps[3][1]: log-prob must be finite, got NaN")
	})
	t.Run("positive log-prob", func(t *testing.T) {
		bad := goodPair()
		bad.Rejected[0][0] = 0.1
		requireAllFail(t, &p, []spec.Pair{bad}, "pairs[0].rejected_logps[0][0]: log-prob must be <= 0")
	})
	t.Run("empty batch", func(t *testing.T) {
		requireAllFail(t, &p, nil, "pairs: the batch is empty")
	})
	t.Run("invalid params", func(t *testing.T) {
		q := p
		q.Beta = math.Inf(1)
		requireAllFail(t, &q, []spec.Pair{goodPair()}, "beta: must be finite")
	})
	t.Run("alpha shape", func(t *testing.T) {
		batch := []spec.Pair{goodPair()}
		_, _, err := LossWithWeights(&p, batch, [][]float64{{1, 1, 1}})
		require.ErrorContains(t, err, "alpha[0]: 3 weights for K = 4")
		_, err = Gradient(&p, batch, [][]float64{{1, 1, 1, 1}, {1, 1, 1, 1}})
		require.ErrorContains(t, err, "alpha: 2 rows for a batch of 1 pairs")
		_, err = Gradient(&p, batch, [][]float64{{1, math.NaN(), 1, 1}})
		require.ErrorContains(t, err, "alpha[0][1]: must be finite")
	})
	t.Run("loss not finite", func(t *testing.T) {
		// Cal-DPO's targets +-1/(2 beta) overflow to +-Inf for a subnormal beta.
		q := paramsK4(spec.CalDPO)
		q.Beta = 1e-320
		pair := goodPair()
		pair.RefChosen, pair.RefRejected = goodPair().Chosen, goodPair().Rejected
		_, err := Compute(&q, []spec.Pair{pair})
		require.ErrorContains(t, err, `losses[0] (dimension "general") is +Inf: it overflows float64 with loss cal-dpo, beta 1e-320`)
		_, _, err = LossWithWeights(&q, []spec.Pair{pair}, [][]float64{{1, 1, 1, 1}})
		require.ErrorContains(t, err, "loss: not finite")
		_, err = Gradient(&q, []spec.Pair{pair}, [][]float64{{1, 1, 1, 1}})
		require.ErrorContains(t, err, "gradient: not finite")
	})
}
