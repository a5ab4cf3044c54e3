package trainer

import (
	"math"
	"testing"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/dtypes/bfloat16"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
)

// TestMixedPrecisionKeepsSmallUpdates: at a fine-tuning learning rate, AdamW's updates
// (~lr per step) are far below bf16's resolution at the weights' size (~1/256 of it), so
// bf16 weights cannot take them: they stay put or jump by whole bf16 steps (the pure-Go
// backend's float32 -> bf16 conversion truncates, so they drift towards zero by a step at
// every update that points there). model.dtype bf16 (float32 master weights, bf16
// compute) takes the float32 model's updates to within bf16 compute noise, and its loss
// stays within bf16 rounding of the float32 model's.
func TestMixedPrecisionKeepsSmallUpdates(t *testing.T) {
	be := toyBackend(t)
	p := spec.Defaults(spec.AMoPO)
	opt := DefaultOptimizer(1e-6)
	opt.WarmupSteps = 0
	batch := RandomPreferenceBatch(259, 1, p.K(), 16)
	const name = "model.layers.0.mlp.up_proj.weight"
	run := func(weights dtypes.DType, precision string) (delta []float64, firstLoss float64) {
		mcfg, err := PresetConfig("tiny", 259)
		require.NoError(t, err)
		_, err = SetPrecision(mcfg, precision)
		require.NoError(t, err)
		ctx := context.New()
		require.NoError(t, llm.InitRandom(ctx.In("model"), mcfg, 3, weights))
		read := func() []float64 {
			v := llm.Variable(ctx.In("model"), name)
			require.NotNil(t, v)
			return hostFloats(t, v.MustValue())
		}
		before := read()
		model := func(ctx *context.Context, tokens, attention, positions *Node) *Node {
			return llm.Forward(ctx, mcfg, tokens, attention, positions)
		}
		st, err := NewStepper(be, ctx, model, PreferenceStep, p, opt, 10, 1)
		require.NoError(t, err)
		for i := range 3 {
			m, err := st.Run(batch, amopo.NoiseTensor(1, uint64(i), 1, p.K()), true)
			require.NoError(t, err)
			if i == 0 {
				firstLoss = m["loss"]
			}
		}
		after := read()
		delta = make([]float64, len(before))
		for i := range before {
			delta[i] = after[i] - before[i]
		}
		return delta, firstLoss
	}
	// How far a run's updates are from the float32 model's, relative to their size.
	full, fullLoss := run(dtypes.Float32, "f32")
	deviation := func(delta []float64) float64 {
		var diff, size float64
		for i := range delta {
			diff += math.Abs(delta[i] - full[i])
			size += math.Abs(full[i])
		}
		return diff / size
	}
	mixed, mixedLoss := run(dtypes.Float32, "bf16")
	pure, _ := run(dtypes.BFloat16, "f32") // bf16 weights, computing in their dtype
	t.Logf("update deviation from float32: mixed precision %.3f, bf16 weights %.1f", deviation(mixed), deviation(pure))
	require.Less(t, deviation(mixed), 0.5, "mixed precision takes the float32 model's updates")
	require.Greater(t, deviation(pure), 5.0, "bf16 weights cannot take updates of ~lr")
	require.InEpsilon(t, fullLoss, mixedLoss, 0.02, "bf16 compute, same model")
}

// hostFloats reads a float32 or bfloat16 tensor as float64s.
func hostFloats(t *testing.T, x *tensors.Tensor) []float64 {
	switch x.DType() {
	case dtypes.Float32:
		return toF64(tensors.MustCopyFlatData[float32](x))
	case dtypes.BFloat16:
		var out []float64
		for _, v := range tensors.MustCopyFlatData[bfloat16.BFloat16](x) {
			out = append(out, float64(v.Float32()))
		}
		return out
	}
	t.Fatalf("dtype %s", x.DType())
	return nil
}
