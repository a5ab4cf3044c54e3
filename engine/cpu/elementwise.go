package cpu

import (
	"math"
	"runtime"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// GoMLX's executors for the ops of this file, for the cases these leave to them.
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

// execBinary computes float32 Add, Sub, Mul and Div with simplego's broadcasting (equal
// ranks, dimensions equal or 1; or a one-element operand) on every core: the same
// float32 operation per element, so the same values. Other cases go to GoMLX's executor.
func execBinary(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error) {
	op := nodeOpType(node)
	original := map[backends.OpType]executor{backends.OpTypeAdd: gomlxAdd, backends.OpTypeSub: gomlxSub,
		backends.OpTypeMul: gomlxMul, backends.OpTypeDiv: gomlxDiv}[op]
	outShape := nodeShape(node)
	flats, dims, ok := float32Inputs(backend, inputs)
	if !ok || len(flats) != 2 || outShape.DType != dtypes.Float32 {
		return original(backend, node, inputs, inputsOwned)
	}
	outDims := outShape.Dimensions
	rank := len(outDims)
	var strides [2][]int // per operand and output axis; 0 where broadcast
	for k, d := range dims {
		strides[k] = make([]int, rank)
		if len(flats[k]) == 1 {
			continue // a one-element operand: every stride 0
		}
		if len(d) != rank {
			return original(backend, node, inputs, inputsOwned)
		}
		step := 1
		for a := rank - 1; a >= 0; a-- {
			switch d[a] {
			case outDims[a]:
				strides[k][a] = step
			case 1:
			default:
				return original(backend, node, inputs, inputsOwned)
			}
			step *= d[a]
		}
	}
	out, dst, err := reuseOrNewOutput(backend, node, inputs, inputsOwned, flats, dims)
	if err != nil {
		return nil, err
	}
	forRows(outDims, strides[:], func(row []int, offsets []int, inner []int) {
		binaryRow(op, dst[row[0]:row[1]], flats[0][offsets[0]:], inner[0], flats[1][offsets[1]:], inner[1])
	})
	calls[op].Add(1)
	return out, nil
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

// execBroadcastInDim broadcasts a float32 operand to the node's shape (data: the output
// axis of each operand axis), row by row on every core: copies of simplego's values.
func execBroadcastInDim(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error) {
	axes, isAxes := nodeData(node).([]int)
	flats, dims, ok := float32Inputs(backend, inputs)
	outDims := nodeShape(node).Dimensions
	if !ok || !isAxes || len(flats) != 1 || nodeShape(node).DType != dtypes.Float32 || (len(flats[0]) > 1 && len(axes) != len(dims[0])) {
		return gomlxBroadcastInDim(backend, node, inputs, inputsOwned)
	}
	strides := make([]int, len(outDims))
	if len(flats[0]) > 1 {
		step := 1
		for i := len(axes) - 1; i >= 0; i-- {
			a := axes[i]
			if a < 0 || a >= len(outDims) || (dims[0][i] != outDims[a] && dims[0][i] != 1) {
				return gomlxBroadcastInDim(backend, node, inputs, inputsOwned)
			}
			if dims[0][i] != 1 {
				strides[a] = step
			}
			step *= dims[0][i]
		}
	}
	out, dst, err := newFloat32Output(backend, node)
	if err != nil {
		return nil, err
	}
	src := flats[0]
	forRows(outDims, [][]int{strides}, func(row, offsets, inner []int) {
		d := dst[row[0]:row[1]]
		if inner[0] == 1 {
			copy(d, src[offsets[0]:offsets[0]+len(d)])
			return
		}
		v := src[offsets[0]]
		for i := range d {
			d[i] = v
		}
	})
	calls[backends.OpTypeBroadcastInDim].Add(1)
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

// binaryRow computes out[i] = l[i*ls] op r[i*rs], strides 0 or 1.
func binaryRow(op backends.OpType, out, l []float32, ls int, r []float32, rs int) {
	n := len(out)
	switch {
	case ls == 1 && rs == 1:
		l, r = l[:n], r[:n]
		switch op {
		case backends.OpTypeAdd:
			for i := range out {
				out[i] = l[i] + r[i]
			}
		case backends.OpTypeSub:
			for i := range out {
				out[i] = l[i] - r[i]
			}
		case backends.OpTypeMul:
			for i := range out {
				out[i] = l[i] * r[i]
			}
		case backends.OpTypeDiv:
			for i := range out {
				out[i] = l[i] / r[i]
			}
		}
	case ls == 1:
		l, c := l[:n], r[0]
		switch op {
		case backends.OpTypeAdd:
			for i := range out {
				out[i] = l[i] + c
			}
		case backends.OpTypeSub:
			for i := range out {
				out[i] = l[i] - c
			}
		case backends.OpTypeMul:
			for i := range out {
				out[i] = l[i] * c
			}
		case backends.OpTypeDiv:
			for i := range out {
				out[i] = l[i] / c
			}
		}
	case rs == 1:
		c, r := l[0], r[:n]
		switch op {
		case backends.OpTypeAdd:
			for i := range out {
				out[i] = c + r[i]
			}
		case backends.OpTypeSub:
			for i := range out {
				out[i] = c - r[i]
			}
		case backends.OpTypeMul:
			for i := range out {
				out[i] = c * r[i]
			}
		case backends.OpTypeDiv:
			for i := range out {
				out[i] = c / r[i]
			}
		}
	default:
		var v float32
		switch op {
		case backends.OpTypeAdd:
			v = l[0] + r[0]
		case backends.OpTypeSub:
			v = l[0] - r[0]
		case backends.OpTypeMul:
			v = l[0] * r[0]
		case backends.OpTypeDiv:
			v = l[0] / r[0]
		}
		for i := range out {
			out[i] = v
		}
	}
}

// execReduce computes float32 ReduceSum and ReduceMax over a run of adjacent axes (the
// operand seen as [outer, reduced, inner]) on every core; other cases go to GoMLX's.
// Max gives simplego's values (max is exact; Go's max keeps NaNs as its loop does). Sum
// adds in simplego's order where inner > 1; along a contiguous row (inner = 1) it keeps
// four partial sums, so it differs from simplego's sequential sum within rounding.
func execReduce(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error) {
	op := nodeOpType(node)
	original := gomlxReduceSum
	if op == backends.OpTypeReduceMax {
		original = gomlxReduceMax
	}
	axes, isAxes := nodeData(node).([]int)
	flats, dims, ok := float32Inputs(backend, inputs)
	if !ok || !isAxes || len(flats) != 1 || len(axes) == 0 || nodeShape(node).DType != dtypes.Float32 {
		return original(backend, node, inputs, inputsOwned)
	}
	sorted := slices.Clone(axes)
	slices.Sort(sorted)
	for i := 1; i < len(sorted); i++ {
		if sorted[i] != sorted[i-1]+1 {
			return original(backend, node, inputs, inputsOwned)
		}
	}
	d := dims[0]
	outer, reduced, inner := 1, 1, 1
	for a, n := range d {
		switch {
		case a < sorted[0]:
			outer *= n
		case a <= sorted[len(sorted)-1]:
			reduced *= n
		default:
			inner *= n
		}
	}
	out, dst, err := newFloat32Output(backend, node)
	if err != nil {
		return nil, err
	}
	src := flats[0]
	initial := float32(0)
	if op == backends.OpTypeReduceMax {
		initial = float32(math.Inf(-1))
	}
	// Tasks: blocks of outer rows, or of inner columns when there is one outer row.
	work := outer * reduced * inner
	workers := runtime.GOMAXPROCS(0)
	if work < 2*elementChunk {
		workers = 1
	}
	if outer == 1 && inner > 1 {
		cols := max(1, elementChunk/max(reduced, 1))
		parallelFor((inner+cols-1)/cols, workers, func(t int) {
			lo, hi := t*cols, min((t+1)*cols, inner)
			reduceColumns(op, dst[lo:hi], src[lo:], reduced, inner, initial)
		})
	} else {
		rowsPerTask := max(1, elementChunk/max(reduced*inner, 1))
		parallelFor((outer+rowsPerTask-1)/rowsPerTask, workers, func(t int) {
			for o := t * rowsPerTask; o < min((t+1)*rowsPerTask, outer); o++ {
				block := src[o*reduced*inner : (o+1)*reduced*inner]
				if inner == 1 {
					dst[o] = reduceRow(op, block, initial)
				} else {
					reduceColumns(op, dst[o*inner:(o+1)*inner], block, reduced, inner, initial)
				}
			}
		})
	}
	calls[op].Add(1)
	return out, nil
}

// reduceColumns reduces out[j] over x[r*stride + j], r < reduced, in the order of r.
func reduceColumns(op backends.OpType, out, x []float32, reduced, stride int, initial float32) {
	for j := range out {
		out[j] = initial
	}
	for r := 0; r < reduced; r++ {
		row := x[r*stride : r*stride+len(out)]
		if op == backends.OpTypeReduceMax {
			for j, v := range row {
				out[j] = max(out[j], v)
			}
		} else {
			for j, v := range row {
				out[j] += v
			}
		}
	}
}

// reduceRow reduces a contiguous row (four partial results, for the adder's latency).
func reduceRow(op backends.OpType, x []float32, initial float32) float32 {
	a0, a1, a2, a3 := initial, initial, initial, initial
	i := 0
	if op == backends.OpTypeReduceMax {
		for ; i+4 <= len(x); i += 4 {
			a0, a1, a2, a3 = max(a0, x[i]), max(a1, x[i+1]), max(a2, x[i+2]), max(a3, x[i+3])
		}
		for ; i < len(x); i++ {
			a0 = max(a0, x[i])
		}
		return max(max(a0, a1), max(a2, a3))
	}
	for ; i+4 <= len(x); i += 4 {
		a0, a1, a2, a3 = a0+x[i], a1+x[i+1], a2+x[i+2], a3+x[i+3]
	}
	for ; i < len(x); i++ {
		a0 += x[i]
	}
	return (a0 + a1) + (a2 + a3)
}
