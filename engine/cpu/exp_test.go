package cpu

import (
	"math"
	"math/rand/v2"
	"slices"
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

// TestExpSlice compares expSlice (expAVX2 where the CPU has it, exp32 for the tail) with
// math.Exp as TestExp32 does: within one ulp everywhere, equal nearly always, with
// infinities, zeros, NaN and the float32 denormal range at odd positions of the slice.
func TestExpSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	xs := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 88.69, 88.7, 88.72, 89, -87.29, -87.3, -100, -103.9, -104, -1e30, 1e30,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), float32(math.NaN()), 200, -200, -1e-30}
	for range 2_000_001 {
		xs = append(xs, float32(rng.Float64()*220-115))
	}
	got := make([]float32, len(xs))
	expSlice(got, xs)
	differ := 0
	for i, x := range xs {
		want := float32(math.Exp(float64(x)))
		if math.IsNaN(float64(want)) {
			if !math.IsNaN(float64(got[i])) {
				t.Fatalf("expSlice at %d: e^%g = %g, want NaN", i, x, got[i])
			}
			continue
		}
		if d := ulps(got[i], want); d > 1 {
			t.Fatalf("expSlice at %d: e^%g = %g, math.Exp %g: %d ulps apart", i, x, got[i], want, d)
		} else if d == 1 {
			differ++
		}
	}
	if frac := float64(differ) / float64(len(xs)); frac > 1e-3 {
		t.Fatalf("expSlice differs from math.Exp by one ulp in %.2g of the cases", frac)
	}
	// In place, as execExp runs on a buffer it owns.
	in := slices.Clone(xs[:1001])
	expSlice(in, in)
	for i := range in {
		if math.Float32bits(in[i]) != math.Float32bits(got[i]) && !math.IsNaN(float64(in[i])) {
			t.Fatalf("in place at %d: %g, out of place %g", i, in[i], got[i])
		}
	}
}

// BenchmarkExpSlice is expSlice over 64 Ki values (the vector path where the CPU has it).
func BenchmarkExpSlice(b *testing.B) {
	xs := make([]float32, 1<<16)
	for i := range xs {
		xs[i] = float32(i%200) - 150
	}
	out := make([]float32, len(xs))
	b.SetBytes(int64(4 * len(xs)))
	for b.Loop() {
		expSlice(out, xs)
	}
}
