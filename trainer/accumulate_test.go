package trainer

import (
	"testing"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/require"
)

// TestGradientAccumulationOverSeveralUpdates: three optimizer steps of two accumulated
// micro-batches each equal three steps on the concatenated batches. With one update (as
// TestGradientAccumulationEqualsOneBigBatch does) accumulators that are not reset after
// the update would go unseen: here the second update would carry the first's gradients.
func TestGradientAccumulationOverSeveralUpdates(t *testing.T) {
	be := toyBackend(t)
	p := prefParams(t)
	p.Policy, p.Weights = spec.Fixed, []float64{1, 2} // the noise differs between the two ways
	src := toySource{batches: 6, b: 2, k: 2, s: 8, seed: 9}
	var micro, big []*Batch
	for i := 0; i < src.batches; i += 2 {
		b0, err := src.Batch(0, i)
		require.NoError(t, err)
		b1, err := src.Batch(0, i+1)
		require.NoError(t, err)
		micro, big = append(micro, b0, b1), append(big, concatBatches(t, b0, b1))
	}
	opt := DefaultOptimizer(0.05)
	opt.WarmupSteps = 0
	// weightsAfter runs the batches, accum micro-batches per update, and returns the head's
	// weights after each update.
	weightsAfter := func(accum int, batches []*Batch) [][]float64 {
		ctx := toyContext(t, 7)
		st, err := NewStepper(be, ctx, toyModel, PreferenceStep, p, opt, 10, accum)
		require.NoError(t, err)
		var out [][]float64
		for i, b := range batches {
			apply := (i+1)%accum == 0
			_, err := st.Run(b, tensors.FromScalarAndDimensions(float32(0), b.Tokens.Shape().Dimensions[0], 2, 2), apply)
			require.NoError(t, err)
			if apply {
				out = append(out, toF64(tensors.MustCopyFlatData[float32](ctx.InspectVariable("/model/head/dense", "weights").MustValue())))
			}
		}
		return out
	}
	want := weightsAfter(1, big)
	got := weightsAfter(2, micro)
	require.Len(t, got, 3)
	for step := range want {
		require.InDeltaSlice(t, want[step], got[step], 1e-6, "after update %d", step+1)
		if step > 0 {
			require.NotEqual(t, want[step-1], want[step], "each update moves the weights")
		}
	}
}
