package ref

import (
	"math/rand/v2"
	"testing"

	"github.com/amopo-engine/amopo/amopo/internal/testpairs"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/stretchr/testify/require"
)

// TestHandMODPO: K = 1, beta 0.2, w = [0.6, 0.3, 0.1] (two other objectives), summed
// log-probs, computed with python3 (standard library) as in the authors' modpo_loss:
//
//	cw, cl, rw, rl = [-1.0, -2.0, -0.5], [-3.0, -1.5], [-1.5, -2.0, -1.0], [-2.0, -1.0]
//	mw, ml = [0.7, -1.0], [0.2, 0.4]                       # margin rewards
//	hw, hl = sum(cw) - sum(rw), sum(cl) - sum(rl)          # 1.0, -1.5
//	Rw = (0.2*hw - (0.3*mw[0] + 0.1*mw[1])) / 0.6          # 0.15
//	Rl = (0.2*hl - (0.3*ml[0] + 0.1*ml[1])) / 0.6          # -0.6666...
//	loss = -logsig(Rw - Rl)                                # 0.36596322074105603
//	d loss / d chosen token = -sigmoid(-(Rw - Rl)) * 0.2/0.6   # -0.10215723060069298
func TestHandMODPO(t *testing.T) {
	p := spec.Defaults(spec.MODPO)
	require.Equal(t, []float64{0.5, 0.5}, p.ObjectiveWeights, "the paper's w = 0.5")
	require.Equal(t, 0.2, p.Beta, "the paper's beta = 0.2")
	p.ObjectiveWeights = []float64{0.6, 0.3, 0.1}
	batch := []spec.Pair{{
		Chosen: [][]float64{{-1.0, -2.0, -0.5}}, Rejected: [][]float64{{-3.0, -1.5}},
		RefChosen: [][]float64{{-1.5, -2.0, -1.0}}, RefRejected: [][]float64{{-2.0, -1.0}},
		MarginChosen: [][]float64{{0.7, -1.0}}, MarginRejected: [][]float64{{0.2, 0.4}},
	}}
	out, err := Compute(&p, batch)
	require.NoError(t, err)
	require.InDelta(t, 0.36596322074105603, out.Loss, handTol)
	require.InDelta(t, 0.15, out.ChosenRewards[0][0], handTol)
	require.InDelta(t, -2.0/3, out.RejectedRewards[0][0], handTol)
	grads, err := Gradient(&p, batch, out.Alpha)
	require.NoError(t, err)
	for _, g := range grads[0].Chosen[0] {
		require.InDelta(t, -0.10215723060069298, g, handTol)
	}
}

// TestBaselinesReduceToTheirParents holds the new losses to the family's older members
// where the definitions say they coincide, exactly (same operations):
//   - controllable-cpo is DPO's arithmetic (only its reference's prompt differs);
//   - modpo with w = [1, 0] (the margin rewards weighted 0) is DPO;
//   - amopo-ref with an all-zero reference (log 1) is AMoPO.
func TestBaselinesReduceToTheirParents(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	batch := testpairs.Random(rng, 3, 1, -6, -0.05)
	dpo := spec.Defaults(spec.DPO)
	want, err := Compute(&dpo, batch)
	require.NoError(t, err)

	ccpo := spec.Defaults(spec.ControllableCPO)
	got, err := Compute(&ccpo, batch)
	require.NoError(t, err)
	require.Equal(t, want.Losses, got.Losses, "controllable-cpo vs dpo")

	modpo := spec.Defaults(spec.MODPO)
	modpo.ObjectiveWeights = []float64{1, 0, 0}
	got, err = Compute(&modpo, batch)
	require.NoError(t, err)
	require.Equal(t, want.Losses, got.Losses, "modpo with w = [1, 0, 0] vs dpo")
	modpo.ObjectiveWeights = []float64{1, 0.5, 0}
	got, err = Compute(&modpo, batch)
	require.NoError(t, err)
	require.NotEqual(t, want.Losses, got.Losses, "a weighted margin reward changes the loss")

	batch4 := testpairs.Random(rng, 3, 4, -6, -0.05)
	for b := range batch4 {
		for k := range 4 {
			batch4[b].RefChosen[k] = make([]float64, len(batch4[b].Chosen[k]))
			batch4[b].RefRejected[k] = make([]float64, len(batch4[b].Rejected[k]))
		}
	}
	amopo := spec.Defaults(spec.AMoPO)
	amopo.Seed = 5
	want, err = Compute(&amopo, batch4)
	require.NoError(t, err)
	withRef := spec.Defaults(spec.AMoPORef)
	withRef.Seed = 5
	got, err = Compute(&withRef, batch4)
	require.NoError(t, err)
	require.Equal(t, want.Loss, got.Loss, "amopo-ref with log pi_ref = 0 vs amopo")
	require.Equal(t, want.Alpha, got.Alpha, "the weights come from the policy's tokens only")
}
