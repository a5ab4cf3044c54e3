package amopo

import (
	"math"
	"testing"

	"github.com/amopo-engine/amopo/amopo/spec"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/require"
)

// baselineInputs are [B=2, K=1, 2, T=2] log-probs with the reference sums and MODPO's
// margin rewards (M = 1) a test may route to any input.
type baselineInputs struct{ lp, m, ref, margins *Node }

func runBaseline(t *testing.T, p spec.Params, in func(x baselineInputs) Inputs) (outs []*tensors.Tensor, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			err, _ = r.(error)
			require.NotNil(t, err, "panics carry an error: %v", r)
		}
	}()
	margins := []float64{1, 0, math.NaN(), 0} // pair 1's chosen margin reward is NaN
	outs = MustExecOnceN(newBackend(t), func(lp, m, ref, mr *Node) []*Node {
		out := New(in(baselineInputs{lp, m, ref, mr})).Params(p).Done()
		return []*Node{out.Loss, Gradient(out.Loss, lp)[0], out.InvalidPairs}
	}, tensors.FromFlatDataAndDimensions([]float64{-1, -2, -3, -1, -0.5, -0.5, -2, -2}, 2, 1, 2, 2),
		tensors.FromScalarAndDimensions(1.0, 2, 1, 2, 2),
		tensors.FromFlatDataAndDimensions([]float64{-2, -3, -1, -4}, 2, 1, 2),
		tensors.FromFlatDataAndDimensions(margins, 2, 1, 2, 1))
	return outs, nil
}

// TestControllableCPOTakesOnlyTheControlReference: the reference on (c, x) comes through
// ControlRefSums; a missing one, or DPO's RefSums, is refused with the reason.
func TestControllableCPOTakesOnlyTheControlReference(t *testing.T) {
	p := spec.Defaults(spec.ControllableCPO)
	_, err := runBaseline(t, p, func(x baselineInputs) Inputs { return Inputs{Logps: x.lp, Mask: x.m, RefSums: x.ref} })
	require.ErrorContains(t, err, `loss "controllable-cpo" needs Inputs.ControlRefSums [2 1 2]`)
	_, err = runBaseline(t, p, func(x baselineInputs) Inputs {
		return Inputs{Logps: x.lp, Mask: x.m, RefSums: x.ref, ControlRefSums: x.ref}
	})
	require.ErrorContains(t, err, "Inputs.RefSums (the reference on the policy's prompt) would make it DPO")
	outs, err := runBaseline(t, p, func(x baselineInputs) Inputs { return Inputs{Logps: x.lp, Mask: x.m, ControlRefSums: x.ref} })
	require.NoError(t, err)
	// Pair 0: h_w = -3 - (-2) = -1, h_l = -4 - (-3) = -1; pair 1: h_w = -1 + 1 = 0, h_l = -4 + 4 = 0:
	// both margins 0, so the loss is log 2.
	require.InDelta(t, math.Log(2), tensors.ToScalar[float64](outs[0]), 1e-15)
}

// TestMODPOMarginRewardsAreCheckedAndGuarded: missing or mis-shaped margin rewards are
// refused; a pair with a non-finite margin reward is left out and counted, never NaN.
func TestMODPOMarginRewardsAreCheckedAndGuarded(t *testing.T) {
	p := spec.Defaults(spec.MODPO)
	_, err := runBaseline(t, p, func(x baselineInputs) Inputs { return Inputs{Logps: x.lp, Mask: x.m, RefSums: x.ref} })
	require.ErrorContains(t, err, `loss "modpo" needs Inputs.MarginRewards [2 1 2 1]`)
	three := New(Inputs{}).Loss(spec.MODPO).Dimensions("general").ObjectiveWeights(0.5, 0.25, 0.25).params
	require.Equal(t, 2, three.MarginRewardCount())
	_, err = runBaseline(t, three, func(x baselineInputs) Inputs {
		return Inputs{Logps: x.lp, Mask: x.m, RefSums: x.ref, MarginRewards: x.margins}
	})
	require.ErrorContains(t, err, "Inputs.MarginRewards must be a float [2 1 2 2] (M = len(ObjectiveWeights) - 1 = 2)")

	outs, err := runBaseline(t, p, func(x baselineInputs) Inputs {
		return Inputs{Logps: x.lp, Mask: x.m, RefSums: x.ref, MarginRewards: x.margins}
	})
	require.NoError(t, err)
	require.Equal(t, int32(1), tensors.ToScalar[int32](outs[2]), "the pair with a NaN margin reward")
	// Pair 0 alone (B = 2 in the mean): r = (0.2*h - 0.5*mr)/0.5 with h_w = h_l = -1, mr_w = 1,
	// mr_l = 0: r_w - r_l = -1; loss = -logsig(-1)/2.
	require.InDelta(t, math.Log1p(math.E)/2, tensors.ToScalar[float64](outs[0]), 1e-15)
	for i, g := range tensors.MustCopyFlatData[float64](outs[1]) {
		require.False(t, math.IsNaN(g) || math.IsInf(g, 0), "gradient[%d] = %v", i, g)
		if i >= 4 {
			require.Zero(t, g, "the left-out pair gets no gradient")
		}
	}
}
