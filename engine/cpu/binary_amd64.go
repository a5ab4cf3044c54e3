//go:build amd64 && !purego

package cpu

import (
	"github.com/gomlx/gomlx/backends"
	"golang.org/x/sys/cpu"
)

// The AVX loops of binary_amd64.s (gen_binary.go): out[i] = l[i] op r[i] (VV), l[i] op
// r[0] (VS) or l[0] op r[i] (SV), for i < n &^ 15.
//
//go:noescape
func addVV(out, l, r *float32, n int)

//go:noescape
func addVS(out, l, r *float32, n int)

//go:noescape
func addSV(out, l, r *float32, n int)

//go:noescape
func subVV(out, l, r *float32, n int)

//go:noescape
func subVS(out, l, r *float32, n int)

//go:noescape
func subSV(out, l, r *float32, n int)

//go:noescape
func mulVV(out, l, r *float32, n int)

//go:noescape
func mulVS(out, l, r *float32, n int)

//go:noescape
func mulSV(out, l, r *float32, n int)

//go:noescape
func divVV(out, l, r *float32, n int)

//go:noescape
func divVS(out, l, r *float32, n int)

//go:noescape
func divSV(out, l, r *float32, n int)

// vectorBinary reports whether the AVX loops can run here.
var vectorBinary = cpu.X86.HasAVX

// binaryLoops[op][layout] is the loop for layouts VV, VS, SV.
var binaryLoops = map[backends.OpType][3]func(out, l, r *float32, n int){
	backends.OpTypeAdd: {addVV, addVS, addSV},
	backends.OpTypeSub: {subVV, subVS, subSV},
	backends.OpTypeMul: {mulVV, mulVS, mulSV},
	backends.OpTypeDiv: {divVV, divVS, divSV},
}

// binaryVector computes the first len(out) &^ 15 elements of binaryRow (strides ls, rs
// of 1, or 0 for a repeated value; not both 0) with the AVX loops, and returns how many
// it did: the same IEEE operation per element, so the same values.
func binaryVector(op backends.OpType, out, l []float32, ls int, r []float32, rs int) int {
	n := len(out) &^ 15
	if !vectorBinary || n == 0 || (ls == 0 && rs == 0) {
		return 0
	}
	layout := 0
	switch {
	case ls == 1 && rs == 1:
		_, _ = l[n-1], r[n-1]
	case ls == 1:
		_, _ = l[n-1], r[0]
		layout = 1
	default:
		_, _ = l[0], r[n-1]
		layout = 2
	}
	loops, ok := binaryLoops[op]
	if !ok {
		return 0
	}
	loops[layout](&out[0], &l[0], &r[0], n)
	return n
}
