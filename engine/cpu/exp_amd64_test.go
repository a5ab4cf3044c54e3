//go:build amd64 && !purego

package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestExpVectorInUse fails if a CPU with AVX2 and FMA computes exp with the scalar exp32
// (the vector path silently off), or the vector path leaves more than the tail of 3.
func TestExpVectorInUse(t *testing.T) {
	if !(cpu.X86.HasAVX2 && cpu.X86.HasFMA) {
		t.Skip("no AVX2+FMA: exp32 is right here")
	}
	if !vectorExp {
		t.Fatal("the CPU has AVX2 and FMA, but vectorExp is false")
	}
	xs := make([]float32, 1003)
	if n := expVector(make([]float32, len(xs)), xs); n != 1000 {
		t.Fatalf("expVector did %d of 1003 values, want 1000", n)
	}
}

// TestLogisticVector: logisticAVX2 does all but the tail of 3, and gives bit for bit Go's
// float32 formula (1/(1+e) for x >= 0, e/(1+e) below, e = e^-|x| from expSlice), also at
// ±0, ±Inf, NaN and where e^-|x| is denormal or 0.
func TestLogisticVector(t *testing.T) {
	if !vectorExp {
		t.Skip("no AVX2+FMA: logisticSlice's Go loop is right here")
	}
	rng := rand.New(rand.NewPCG(43, 44))
	xs := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 90, -90, 104, -104, 200, -200,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-30, -1e-30}
	for len(xs) < 100_003 {
		xs = append(xs, float32(rng.NormFloat64()*20))
	}
	got := make([]float32, len(xs))
	if n := logisticVector(got, xs); n != len(xs)&^3 {
		t.Fatalf("logisticVector did %d of %d values", n, len(xs))
	}
	e := make([]float32, len(xs))
	for i, x := range xs {
		e[i] = -float32(math.Abs(float64(x)))
	}
	expSlice(e, e)
	for i, x := range xs[:len(xs)&^3] {
		want := e[i] / (1 + e[i])
		if x >= 0 {
			want = 1 / (1 + e[i])
		}
		if math.Float32bits(got[i]) != math.Float32bits(want) && !(math.IsNaN(float64(want)) && math.IsNaN(float64(got[i]))) {
			t.Fatalf("logistic(%g) = %g, Go's formula %g", x, got[i], want)
		}
	}
}
