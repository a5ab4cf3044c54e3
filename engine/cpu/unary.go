package cpu

import (
	"math"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// execExp computes float32 Exp on every core with exp32 (simplego's value,
// float32(math.Exp(float64(x))), to within one ulp); other dtypes go to GoMLX's executor.
func execExp(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error) {
	flats, dims, ok := float32Inputs(backend, inputs)
	if !ok || len(flats) != 1 || nodeShape(node).DType != dtypes.Float32 {
		return gomlxExp(backend, node, inputs, inputsOwned)
	}
	out, dst, err := reuseOrNewOutput(backend, node, inputs, inputsOwned, flats, dims)
	if err != nil {
		return nil, err
	}
	in := flats[0]
	parallelChunks(len(dst), func(lo, hi int) {
		expSlice(dst[lo:hi], in[lo:hi])
	})
	calls[backends.OpTypeExp].Add(1)
	return out, nil
}

// execLogistic computes float32 Logistic with simplego's formula (1/(1+e^-x), or
// e^x/(1+e^x) for x < 0), in float32 with exp32, on every core.
func execLogistic(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error) {
	flats, dims, ok := float32Inputs(backend, inputs)
	if !ok || len(flats) != 1 || nodeShape(node).DType != dtypes.Float32 {
		return gomlxLogistic(backend, node, inputs, inputsOwned)
	}
	out, dst, err := reuseOrNewOutput(backend, node, inputs, inputsOwned, flats, dims)
	if err != nil {
		return nil, err
	}
	in := flats[0]
	parallelChunks(len(dst), func(lo, hi int) { logisticSlice(dst[lo:hi], in[lo:hi]) })
	calls[backends.OpTypeLogistic].Add(1)
	return out, nil
}

// logisticSlice sets dst[i] = 1/(1+e^-src[i]) (dst may be src) as 1/(1+e) for x >= 0 and
// e/(1+e) below, e = e^-|x|: with logisticAVX2 where the CPU has it, the rest a block at
// a time with expSlice; within 2 ulp of simplego's float64 formula.
func logisticSlice(dst, src []float32) {
	dst = dst[:len(src)]
	var e [256]float32
	for b := logisticVector(dst, src); b < len(src); b += len(e) {
		xs := src[b:min(b+len(e), len(src))]
		for i, x := range xs {
			e[i] = math.Float32frombits(math.Float32bits(x) | 1<<31) // -|x|
		}
		expSlice(e[:len(xs)], e[:len(xs)])
		for i, x := range xs {
			if x >= 0 {
				dst[b+i] = 1 / (1 + e[i])
			} else {
				dst[b+i] = e[i] / (1 + e[i])
			}
		}
	}
}
