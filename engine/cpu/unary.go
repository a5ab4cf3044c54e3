package cpu

import (
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
		for i, v := range in[lo:hi] {
			dst[lo+i] = exp32(v)
		}
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
	parallelChunks(len(dst), func(lo, hi int) {
		for i, x := range in[lo:hi] {
			// 1/(1+e^-x) in float32 with exp32: within 2 ulp of simplego's float64 formula.
			if x >= 0 {
				dst[lo+i] = 1 / (1 + exp32(-x))
			} else {
				e := exp32(x)
				dst[lo+i] = e / (1 + e)
			}
		}
	})
	calls[backends.OpTypeLogistic].Add(1)
	return out, nil
}
