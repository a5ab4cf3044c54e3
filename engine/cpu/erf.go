package cpu

import (
	"math"
	"runtime"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// gomlxErf is simplego's Erf executor, kept for the dtypes execErf leaves to it.
var gomlxErf executor

// erfChunk is the number of elements per parallel task.
const erfChunk = 1 << 14

// execErf replaces simplego's Erf for float32/float64. simplego's splits large inputs
// into tasks of its worker pool and waits for them from inside an op that itself holds a
// slot of that pool: with every slot held by such waiting ops, its parallel executor
// deadlocks (platform facts, trap 3; its DotGeneral did the same, see execDotGeneral).
// This one computes the same values, T(math.Erf(float64(x))), on goroutines of its own.
func execErf(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error) {
	outShape := nodeShape(node)
	if len(inputs) != 1 || (outShape.DType != dtypes.Float32 && outShape.DType != dtypes.Float64) {
		return gomlxErf(backend, node, inputs, inputsOwned)
	}
	in, err := backend.BufferData(inputs[0])
	if err != nil {
		return nil, err
	}
	out := backend.NewBuffer(outShape)
	flat, err := backend.BufferData(out)
	if err != nil {
		return nil, err
	}
	switch x := in.(type) {
	case []float32:
		erfParallel(x, flat.([]float32))
	case []float64:
		erfParallel(x, flat.([]float64))
	default:
		_ = backend.BufferFinalize(out)
		return gomlxErf(backend, node, inputs, inputsOwned)
	}
	calls[backends.OpTypeErf].Add(1)
	return out, nil
}

func erfParallel[T float32 | float64](in, out []T) {
	parallelFor((len(in)+erfChunk-1)/erfChunk, runtime.GOMAXPROCS(0), func(c int) {
		for i := c * erfChunk; i < min((c+1)*erfChunk, len(in)); i++ {
			out[i] = T(math.Erf(float64(in[i])))
		}
	})
}
