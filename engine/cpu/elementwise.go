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
// shared out over the cores when there are enough elements. Axes are first merged where
// every operand walks them as one (coalesceAxes), so that rows are as long as the
// layouts allow: an element-wise op on equal shapes is one row, cut into chunks.
func forRows(outDims []int, strides [][]int, fn func(row, offsets, inner []int)) {
	size := 1
	for _, d := range outDims {
		size *= d
	}
	if size == 0 {
		return
	}
	outDims, strides = coalesceAxes(outDims, strides)
	rank := len(outDims)
	innerLen := outDims[rank-1]
	rows := size / innerLen
	inner := make([]int, len(strides))
	for k := range strides {
		inner[k] = strides[k][rank-1]
	}
	// A task is rowsPerTask whole rows, or one piece of a row longer than a chunk.
	rowsPerTask, pieces, pieceLen := max(1, elementChunk/innerLen), 1, innerLen
	if innerLen > elementChunk {
		pieces = (innerLen + elementChunk - 1) / elementChunk
		pieceLen = (innerLen + pieces - 1) / pieces
	}
	tasks := (rows + rowsPerTask - 1) / rowsPerTask * pieces
	workers := runtime.GOMAXPROCS(0)
	if size < 2*elementChunk {
		workers = 1
	}
	parallelFor(tasks, workers, func(t int) {
		offsets := make([]int, len(strides))
		span := make([]int, 2)
		first, piece := (t/pieces)*rowsPerTask, t%pieces
		lo, hi := piece*pieceLen, min((piece+1)*pieceLen, innerLen)
		for row := first; row < min(first+rowsPerTask, rows); row++ {
			clear(offsets)
			rem := row
			for a := rank - 2; a >= 0; a-- { // the row's index along each axis
				i := rem % outDims[a]
				rem /= outDims[a]
				for k := range strides {
					offsets[k] += i * strides[k][a]
				}
			}
			for k := range offsets {
				offsets[k] += lo * inner[k]
			}
			span[0], span[1] = row*innerLen+lo, row*innerLen+hi
			fn(span, offsets, inner)
		}
	})
}

// coalesceAxes drops axes of length 1 and merges each axis into the next where, for
// every operand, a step along it is a whole run of the next (stride[a] = stride[a+1] x
// dims[a+1], which holds for contiguous axes and for two broadcast axes), so the
// operands are walked in the same order with fewer, longer rows. It returns at least
// one axis.
func coalesceAxes(dims []int, strides [][]int) ([]int, [][]int) {
	outDims := make([]int, 0, len(dims))
	outStrides := make([][]int, len(strides))
	for a, d := range dims {
		if d == 1 {
			continue
		}
		last := len(outDims) - 1
		merge := last >= 0
		for k := range strides {
			if merge && outStrides[k][last] != strides[k][a]*d {
				merge = false
			}
		}
		if merge {
			outDims[last] *= d
			for k := range strides {
				outStrides[k][last] = strides[k][a]
			}
			continue
		}
		outDims = append(outDims, d)
		for k := range strides {
			outStrides[k] = append(outStrides[k], strides[k][a])
		}
	}
	if len(outDims) == 0 { // a single element
		outDims = append(outDims, 1)
		for k := range strides {
			outStrides[k] = append(outStrides[k], 0)
		}
	}
	return outDims, outStrides
}
