//go:build amd64 && !purego

package cpu

import (
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
