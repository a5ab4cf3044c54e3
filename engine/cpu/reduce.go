package cpu

import (
	"math"
	"runtime"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

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
