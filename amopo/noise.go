package amopo

import (
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// NoiseTensor returns the [B, K, 2] float32 standard normal draws of step `step` of a run
// seeded with `seed` (spec.Noise): the Inputs.Noise of the sampled policies. It is made
// on the host, so every backend, the float64 reference and a resumed run draw the same.
func NoiseTensor(seed, step uint64, batch, k int) *tensors.Tensor {
	z := spec.Noise(seed, step, batch, k)
	f := make([]float32, len(z))
	for i, v := range z {
		f[i] = float32(v)
	}
	return tensors.FromFlatDataAndDimensions(f, batch, k, spec.NoiseSlots)
}
