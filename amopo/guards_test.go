package amopo

import (
	"math"
	"testing"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/require"
)

// guardCase is a [B=2, K=2, 2, T=3] batch whose pair (0, 1) has an empty chosen side and
// whose pair (1, 0) has a NaN log-prob on a response token; padding holds NaN and -Inf
// everywhere, which must be ignored.
func guardCase() (logps, mask []float64) {
	const b, k, t = 2, 2, 3
	logps = make([]float64, b*k*2*t)
	mask = make([]float64, len(logps))
	for i := range logps {
		logps[i] = math.NaN() // padding garbage
		if i%2 == 1 {
			logps[i] = math.Inf(-1)
		}
	}
	set := func(bi, ki, side int, vals ...float64) {
		base := ((bi*k+ki)*2 + side) * t
		for j, v := range vals {
			logps[base+j], mask[base+j] = v, 1
		}
	}
	set(0, 0, 0, -0.5, -1)
	set(0, 0, 1, -2)
	// (0, 1): chosen side empty
	set(0, 1, 1, -1, -1, -1)
	set(1, 0, 0, -0.3, math.NaN())
	set(1, 0, 1, -1.5)
	set(1, 1, 0, -0.1)
	set(1, 1, 1, -3, -0.2)
	return logps, mask
}

func TestInvalidPairsAreCountedNotNaN(t *testing.T) {
	be := newBackend(t)
	logps, mask := guardCase()
	for _, loss := range []spec.LossName{spec.AMoPO, spec.ORPO, spec.ContrastiveCPO} {
		p := spec.Defaults(loss)
		p.Dimensions = []string{"a", "b"}
		p.Policy = spec.Gaussian
		outs := MustExecOnceN(be, func(lp, m, noise *Node) []*Node {
			out := New(Inputs{Logps: lp, Mask: m, Noise: noise}).Params(p).Done()
			return []*Node{out.Loss, Gradient(out.Loss, lp)[0], out.InvalidPairs, out.PairLosses}
		}, tensors.FromFlatDataAndDimensions(logps, 2, 2, 2, 3), tensors.FromFlatDataAndDimensions(mask, 2, 2, 2, 3),
			NoiseTensor(1, 0, 2, 2))
		lossValue := tensors.ToScalar[float64](outs[0])
		require.False(t, math.IsNaN(lossValue) || math.IsInf(lossValue, 0), "%s: loss %v", loss, lossValue)
		for i, g := range tensors.MustCopyFlatData[float64](outs[1]) {
			require.False(t, math.IsNaN(g) || math.IsInf(g, 0), "%s: gradient[%d] = %v", loss, i, g)
		}
		require.Equal(t, int32(2), tensors.ToScalar[int32](outs[2]), "%s: the empty side and the NaN pair", loss)
		pairLosses := tensors.MustCopyFlatData[float64](outs[3])
		require.Zero(t, pairLosses[1], "%s: pair (0,1) is left out", loss)
		require.Zero(t, pairLosses[2], "%s: pair (1,0) is left out", loss)
		require.Positive(t, pairLosses[0])
		require.Positive(t, pairLosses[3])
	}
}

func TestShapeAndParameterErrorsPanicWithContext(t *testing.T) {
	be := newBackend(t)
	run := func(p spec.Params, in func(lp, m, noise *Node) Inputs) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err, _ = r.(error)
				require.NotNil(t, err, "panics carry an error: %v", r)
			}
		}()
		_ = MustExecOnce(be, func(lp, m, noise *Node) *Node {
			return New(in(lp, m, noise)).Params(p).Done().Loss
		}, tensors.FromScalarAndDimensions(-1.0, 2, 3, 2, 4), tensors.FromScalarAndDimensions(1.0, 2, 3, 2, 4),
			tensors.FromScalarAndDimensions(0.5, 2, 3, 2))
		return nil
	}
	plain := func(lp, m, noise *Node) Inputs { return Inputs{Logps: lp, Mask: m, Noise: noise} }
	p := spec.Defaults(spec.AMoPO) // K = 4 default dimensions, inputs have K = 3
	require.ErrorContains(t, run(p, plain), "K = 3 dimensions but the parameters name 4")

	p.Dimensions = []string{"a", "b", "c"}
	require.NoError(t, run(p, plain))
	require.ErrorContains(t, run(p, func(lp, m, _ *Node) Inputs { return Inputs{Logps: lp, Mask: m} }),
		`policy "gaussian" needs Inputs.Noise`)
	require.ErrorContains(t, run(p, func(lp, _, noise *Node) Inputs {
		return Inputs{Logps: lp, Mask: Reshape(ConvertDType(lp, dtypes.Float32), 2, 3, 8), Noise: noise}
	}), "Inputs.Mask shape")

	dpo := spec.Defaults(spec.DPO)
	dpo.Dimensions = p.Dimensions
	require.ErrorContains(t, run(dpo, plain), `loss "dpo" needs Inputs.RefSums`)

	fixed := p
	fixed.Policy, fixed.Weights = spec.Fixed, []float64{1, 1}
	require.ErrorContains(t, run(fixed, plain), "weights: the fixed policy needs one weight per dimension: got 2 for K = 3")
}

func TestMetricsNamesAndValues(t *testing.T) {
	be := newBackend(t)
	p := spec.Defaults(spec.AMoPO)
	p.Dimensions = []string{"helpfulness", "correctness"}
	p.Policy, p.Weights = spec.Fixed, []float64{1, 3}
	batch := []spec.Pair{
		{Chosen: [][]float64{{-1}, {-2, -2}}, Rejected: [][]float64{{-3}, {-1}}},
		{Chosen: [][]float64{{-0.5}, {-1}}, Rejected: [][]float64{{-0.5}, {-4, -2}}},
	}
	packed, err := Pack(&p, batch)
	require.NoError(t, err)
	var names []string
	outs := MustExecOnceN(be, func(lp, m *Node) []*Node {
		metrics := New(Inputs{Logps: lp, Mask: m}).Params(p).Done().Metrics()
		var nodes []*Node
		for name, node := range metrics {
			names = append(names, name)
			nodes = append(nodes, node)
		}
		return nodes
	}, packed.Logps, packed.Mask)
	got := map[string]float64{}
	for i, name := range names {
		if outs[i].DType() == dtypes.Int32 {
			got[name] = float64(tensors.ToScalar[int32](outs[i]))
		} else {
			got[name] = tensors.ToScalar[float64](outs[i])
		}
	}
	// Rewards are beta * mean log-prob: margins per pair (beta 0.8):
	// helpfulness: 0.8*(-1+3) = 1.6, 0.8*(0) = 0; correctness: 0.8*(-2+1) = -0.8, 0.8*(-1+3) = 1.6.
	require.InDelta(t, (1.6+0+(-0.8)+1.6)/4, got["rewards/margins"], 1e-12)
	require.InDelta(t, 0.8, got["rewards/helpfulness_margins"], 1e-12)
	require.InDelta(t, 0.4, got["rewards/correctness_margins"], 1e-12)
	require.InDelta(t, 0.5, got["rewards/helpfulness_accuracies"], 1e-12, "a tie is not a win")
	require.InDelta(t, 0.5, got["rewards/correctness_accuracies"], 1e-12)
	require.InDelta(t, 0.5, got["rewards/accuracies"], 1e-12)
	require.InDelta(t, 0.25, got["weights/helpfulness_alpha"], 1e-12)
	require.InDelta(t, 0.75, got["weights/correctness_alpha"], 1e-12)
	require.InDelta(t, 0.8*(-1-2-0.5-1)/4, got["rewards/chosen"], 1e-12)
	require.InDelta(t, (-1-2-0.5-1)/4, got["logps/chosen"], 1e-12)
	require.InDelta(t, (1+2+0.5+1)/4, got["nll_loss"], 1e-12)
	require.Zero(t, got["pairs/invalid"])
	for _, name := range []string{"loss", "rewards/rejected", "logps/rejected", "weights/nonfinite",
		"weights/helpfulness_mu", "weights/correctness_sigma"} {
		require.Contains(t, got, name)
	}
}

func TestCheckMaskNamesTheEmptySide(t *testing.T) {
	_, mask := guardCase()
	dims := []string{"helpfulness", "correctness"}
	err := CheckMask(tensors.FromFlatDataAndDimensions(mask, 2, 2, 2, 3), dims)
	require.EqualError(t, err, `amopo.CheckMask: pair 0, dimension "correctness": the chosen response has no token`)
	asBool := make([]bool, len(mask))
	for i := range mask {
		asBool[i] = mask[i] != 0
	}
	require.Error(t, CheckMask(tensors.FromFlatDataAndDimensions(asBool, 2, 2, 2, 3), dims))
	full := tensors.FromScalarAndDimensions(int32(1), 2, 2, 2, 3)
	require.NoError(t, CheckMask(full, dims))
	require.ErrorContains(t, CheckMask(full, dims[:1]), "K = 2 dimensions but 1 are named")
	require.ErrorContains(t, CheckMask(tensors.FromScalarAndDimensions(int32(1), 2, 2, 3), dims), "must be [B, K, 2, T]")
}
