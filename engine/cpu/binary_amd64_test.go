//go:build amd64 && !purego

package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"golang.org/x/sys/cpu"
)

// TestBinaryVectorInUse: on a CPU with AVX, binaryVector does all but the tail of 15 of
// every op and layout (so the AVX loops are not silently off), with exactly the values
// of the float32 operation, in place too.
func TestBinaryVectorInUse(t *testing.T) {
	if !cpu.X86.HasAVX {
		t.Skip("no AVX: binaryRow's Go loops are right here")
	}
	rng := rand.New(rand.NewPCG(41, 42))
	const n = 1000
	l, r := make([]float32, n), make([]float32, n)
	for i := range l {
		l[i], r[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())+3
	}
	ops := map[backends.OpType]func(a, b float32) float32{
		backends.OpTypeAdd: func(a, b float32) float32 { return a + b },
		backends.OpTypeSub: func(a, b float32) float32 { return a - b },
		backends.OpTypeMul: func(a, b float32) float32 { return a * b },
		backends.OpTypeDiv: func(a, b float32) float32 { return a / b },
	}
	for op, f := range ops {
		for _, s := range [][2]int{{1, 1}, {1, 0}, {0, 1}} {
			out := make([]float32, n)
			if done := binaryVector(op, out, l, s[0], r, s[1]); done != n&^15 {
				t.Fatalf("%s strides %v: the AVX loop did %d of %d", op, s, done, n)
			}
			inPlace := append([]float32(nil), l...)
			binaryRow(op, inPlace, inPlace, s[0], r, s[1])
			for i := range n {
				want := f(l[i*s[0]], r[i*s[1]])
				if math.Float32bits(out[i]) != math.Float32bits(want) && i < n&^15 {
					t.Fatalf("%s strides %v: out[%d] = %g, want %g", op, s, i, out[i], want)
				}
				if s[0] == 1 && math.Float32bits(inPlace[i]) != math.Float32bits(want) {
					t.Fatalf("%s strides %v in place: out[%d] = %g, want %g", op, s, i, inPlace[i], want)
				}
			}
		}
	}
}
