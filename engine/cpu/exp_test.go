package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ulps is the distance between two float32s in units in the last place.
func ulps(a, b float32) int64 {
	ia, ib := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	if (ia < 0) != (ib < 0) || math.IsNaN(float64(a)) != math.IsNaN(float64(b)) {
		return math.MaxInt64
	}
	if ia > ib {
		return ia - ib
	}
	return ib - ia
}

// TestExp32 compares exp32 with math.Exp over the whole float32 range it computes itself
// and its edges: within one ulp of float32(math.Exp(float64(x))) everywhere, equal to it
// nearly always, and infinities, zeros and NaN as math.Exp gives them.
func TestExp32(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	xs := []float32{0, -0, 1, -1, 88.69, 88.7, 88.72, 89, -87.29, -87.3, -100, -104, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for range 2_000_000 {
		xs = append(xs, float32(rng.Float64()*180-90))
	}
	differ := 0
	for _, x := range xs {
		got, want := exp32(x), float32(math.Exp(float64(x)))
		if math.IsNaN(float64(want)) {
			if !math.IsNaN(float64(got)) {
				t.Fatalf("exp32(%g) = %g, want NaN", x, got)
			}
			continue
		}
		if d := ulps(got, want); d > 1 {
			t.Fatalf("exp32(%g) = %g, math.Exp %g: %d ulps apart", x, got, want, d)
		} else if d == 1 {
			differ++
		}
	}
	if frac := float64(differ) / float64(len(xs)); frac > 1e-3 {
		t.Fatalf("exp32 differs from math.Exp by one ulp in %.2g of the cases", frac)
	}
}

// BenchmarkExp32 compares exp32 with float32(math.Exp(float64(x))) (simplego's Exp).
func BenchmarkExp32(b *testing.B) {
	xs := make([]float32, 4096)
	for i := range xs {
		xs[i] = float32(i%200-100) * 0.37
	}
	var sink float32
	b.Run("exp32", func(b *testing.B) {
		for b.Loop() {
			for _, x := range xs {
				sink += exp32(x)
			}
		}
	})
	b.Run("math.Exp", func(b *testing.B) {
		for b.Loop() {
			for _, x := range xs {
				sink += float32(math.Exp(float64(x)))
			}
		}
	})
	_ = sink
}
