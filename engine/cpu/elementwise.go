package cpu

import (
	"runtime"
	"slices"

	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

var gomlxReduceSum, gomlxReduceMax, gomlxAdd, gomlxSub, gomlxMul, gomlxDiv, gomlxExp,
	gomlxBroadcastInDim, gomlxLogistic executor

// elementChunk is the number of elements per parallel task of element-wise ops: below
// it (or two of it), an op runs on the calling goroutine.
const elementChunk = 1 << 15

// float32Inputs returns the inputs' flat float32 data, or ok false if one is not float32.
func float32Inputs(backend *simplego.Backend, inputs []*simplego.Buffer) (flats [][]float32, dims [][]int, ok bool) {
	for _, in := range inputs {
		shape, err := backend.BufferShape(in)
		if err != nil || shape.DType != dtypes.Float32 {
			return nil, nil, false
		}
		flat, err := backend.BufferData(in)
		if err != nil {
			return nil, nil, false
		}
		flats, dims = append(flats, flat.([]float32)), append(dims, shape.Dimensions)
	}
	return flats, dims, true
}

// reuseOrNewOutput returns, as simplego's element-wise executors do, an input the op
// owns (its last use) whose shape is the output's, to be overwritten in place (its slot
// in inputs set to nil, which tells simplego not to free it), else a new pool buffer.
// In-place is safe for element-wise ops: out[i] depends on element i of that input only.
func reuseOrNewOutput(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool,
	flats [][]float32, dims [][]int) (*simplego.Buffer, []float32, error) {
	outShape := nodeShape(node)
	for k := len(inputs) - 1; k >= 0; k-- {
		if inputsOwned[k] && slices.Equal(dims[k], outShape.Dimensions) {
			out := inputs[k]
			inputs[k] = nil
			return out, flats[k], nil
		}
	}
	return newFloat32Output(backend, node)
}

// newFloat32Output is a pool buffer of the node's shape and its data.
func newFloat32Output(backend *simplego.Backend, node *simplego.Node) (*simplego.Buffer, []float32, error) {
	out := backend.NewBuffer(nodeShape(node))
	flat, err := backend.BufferData(out)
	if err != nil {
		return nil, nil, err
	}
	return out, flat.([]float32), nil
}

// parallelChunks calls fn over [0, n) in chunks of elementChunk, on every core when n is
// large enough.
func parallelChunks(n int, fn func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if n < 2*elementChunk {
		workers = 1
	}
	parallelFor((n+elementChunk-1)/elementChunk, workers, func(c int) {
		fn(c*elementChunk, min((c+1)*elementChunk, n))
	})
}

// forRows cuts an output of dimensions outDims into rows along its last axis and calls
// fn for each with the row's span [start, end) in the output, each operand's offset (from
// its per-axis strides, 0 on broadcast axes) and its stride along the row; rows are
// shared out over the cores when there are enough elements.
func forRows(outDims []int, strides [][]int, fn func(row, offsets, inner []int)) {
	rank := len(outDims)
	size, innerLen := 1, 1
	for _, d := range outDims {
		size *= d
	}
	if rank > 0 {
		innerLen = outDims[rank-1]
	}
	if size == 0 {
		return
	}
	rows := size / innerLen
	inner := make([]int, len(strides))
	for k := range strides {
		if rank > 0 {
			inner[k] = strides[k][rank-1]
		}
	}
	rowsPerTask := max(1, elementChunk/innerLen)
	workers := runtime.GOMAXPROCS(0)
	if size < 2*elementChunk {
		workers = 1
	}
	parallelFor((rows+rowsPerTask-1)/rowsPerTask, workers, func(t int) {
		offsets := make([]int, len(strides))
		span := make([]int, 2)
		for row := t * rowsPerTask; row < min((t+1)*rowsPerTask, rows); row++ {
			clear(offsets)
			rem := row
			for a := rank - 2; a >= 0; a-- { // the row's index along each axis
				i := rem % outDims[a]
				rem /= outDims[a]
				for k := range strides {
					offsets[k] += i * strides[k][a]
				}
			}
			span[0], span[1] = row*innerLen, (row+1)*innerLen
			fn(span, offsets, inner)
		}
	})
}
