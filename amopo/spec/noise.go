package spec

import "math"

// NoiseSlots is the size of the last axis of the noise tensor: slot 0 drives the pooled
// gaussian policy and the chosen draw of gaussian-split, slot 1 the rejected draw.
const NoiseSlots = 2

// StandardNormal returns one N(0,1) draw that depends only on (seed, step, example,
// dim, slot). It is counter-based (SplitMix64 hashing, then Box-Muller), so every
// backend, the float64 reference, a resumed run and the wasm page draw the very same
// numbers, whatever the order in which they ask for them.
func StandardNormal(seed, step uint64, example, dim, slot int) float64 {
	h := splitMix64(seed)
	h = splitMix64(h ^ step)
	h = splitMix64(h ^ uint64(example))
	h = splitMix64(h ^ uint64(dim))
	h = splitMix64(h ^ uint64(slot))
	h2 := splitMix64(h ^ 0x6a09e667f3bcc909)
	u1 := float64((h>>11)+1) / (1 << 53) // (0, 1]: the log below stays finite
	u2 := float64(h2>>11) / (1 << 53)    // [0, 1)
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// Noise returns the standard normal draws of a batch of B examples and K dimensions,
// row-major with shape [B, K, NoiseSlots]: the noise input of the sampled policies.
func Noise(seed, step uint64, batch, k int) []float64 {
	out := make([]float64, 0, batch*k*NoiseSlots)
	for b := 0; b < batch; b++ {
		for d := 0; d < k; d++ {
			for s := 0; s < NoiseSlots; s++ {
				out = append(out, StandardNormal(seed, step, b, d, s))
			}
		}
	}
	return out
}

func splitMix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
