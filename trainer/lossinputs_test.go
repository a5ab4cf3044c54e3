package trainer

import (
	"math"
	"testing"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/data"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/require"
)

// TestBaselineInputsReachTheLoss runs one pair through the step graph (no update) with
// DPO, controllable CPO and MODPO on the same log-probs and reference sums. Controllable
// CPO is DPO with its reference read from the control-token prompt, so with the same sums
// its loss is DPO's (the graph would panic had the trainer passed them as RefSums).
// MODPO with w = [1, w1] is -logsig(beta*(h_w - h_l) - w1*(m_w - m_l)): checked in float64
// from DPO's logged margin beta*(h_w - h_l), so margin rewards that did not reach the
// graph, or reached it on the wrong side, would show.
func TestBaselineInputsReachTheLoss(t *testing.T) {
	be := toyBackend(t)
	b, err := toySource{batches: 1, b: 1, k: 1, s: 8, seed: 3}.Batch(0, 0)
	require.NoError(t, err)
	b.RefSums = tensors.FromFlatDataAndDimensions([]float32{-3, -5}, 1, 1, 2)
	b.MarginRewards = tensors.FromFlatDataAndDimensions([]float32{2, 0.5}, 1, 1, 2, 1)
	noise := tensors.FromScalarAndDimensions(float32(0), 1, 1, 2)
	metrics := func(name spec.LossName, w []float64) map[string]float64 {
		p := spec.Defaults(name)
		p.Dimensions, p.Beta = []string{"general"}, 0.3
		if w != nil {
			p.ObjectiveWeights = w
		}
		require.NoError(t, p.Validate())
		st, err := NewStepper(be, toyContext(t, 7), toyModel, EvalStep, p, DefaultOptimizer(0.01), 1, 1)
		require.NoError(t, err)
		m, err := st.Run(b, noise, false)
		require.NoError(t, err)
		return m
	}
	dpo := metrics(spec.DPO, nil)
	require.InDelta(t, dpo["loss"], metrics(spec.ControllableCPO, nil)["loss"], 1e-6)
	margin := dpo["rewards/margins"]
	require.InDelta(t, -math.Log(1/(1+math.Exp(-margin))), dpo["loss"], 1e-5)
	w1 := 0.5
	want := -math.Log(1 / (1 + math.Exp(-(margin - w1*(2-0.5)))))
	require.InDelta(t, want, metrics(spec.MODPO, []float64{1, w1})["loss"], 1e-5)

	// A batch without the inputs a loss needs is refused by name.
	p := spec.Defaults(spec.MODPO)
	p.Dimensions = []string{"general"}
	require.NoError(t, p.Validate())
	st, err := NewStepper(be, toyContext(t, 7), toyModel, EvalStep, p, DefaultOptimizer(0.01), 1, 1)
	require.NoError(t, err)
	b.MarginRewards = nil
	_, err = st.Run(b, noise, false)
	require.ErrorContains(t, err, "margin rewards")
}

// TestMarginRewardsLayout: per template, the chosen response's other-objective scores,
// then the rejected one's; a missing score is an error naming it.
func TestMarginRewardsLayout(t *testing.T) {
	pairs := []data.Pair{{Prompt: "q",
		Chosen:   data.Response{Text: "a", Scores: data.Scores{"h": 4, "c": 3, "i": 2}},
		Rejected: data.Response{Text: "b", Scores: data.Scores{"h": 1, "c": 0, "i": 1}}}}
	m, err := MarginRewardsFromScores(pairs, 2, []string{"c", "i"})
	require.NoError(t, err)
	require.Equal(t, [][]float32{{3, 2, 0, 1, 3, 2, 0, 1}}, m)
	delete(pairs[0].Rejected.Scores, "i")
	_, err = MarginRewardsFromScores(pairs, 1, []string{"c", "i"})
	require.ErrorContains(t, err, `rejected response has no "i" score`)

	src := &PairSource{Examples: make([]data.Example, 1)}
	src.Examples[0].Seqs = make([][2]data.Sequence, 1)
	require.ErrorContains(t, src.SetMarginRewards([][]float32{{1, 2, 3}}, 2), "want K*2*M = 4")
	require.ErrorContains(t, src.SetMarginRewards(nil, 2), "0 margin-reward rows for 1 pairs")
	require.NoError(t, src.SetMarginRewards([][]float32{{1, 2, 3, 4}}, 2))
}
