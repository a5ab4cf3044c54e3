package cpu

import (
	"fmt"

	"github.com/amopo-engine/amopo/engine/internal/layout"
)

// operand is a row-major float32 tensor.
type operand struct {
	dims []int
	data []float32
}

// dotGeneralBatch describes DotGeneral(lhs, rhs) as a batch of matrix products, in the
// axis order of XLA's DotGeneral (and simplego's node): output [batch, lhs cross, rhs
// cross], batch axes in the order given, cross axes in their order in the operand,
// contracting axes in the order given. An operand whose batch, cross or contracting axes
// cannot be flattened into one stride each is first copied into that order.
func dotGeneralBatch(lhs operand, lhsContracting, lhsBatch []int, rhs operand, rhsContracting, rhsBatch []int) (Batch, error) {
	if len(lhsContracting) != len(rhsContracting) || len(lhsBatch) != len(rhsBatch) {
		return Batch{}, fmt.Errorf("lhs has %d contracting and %d batch axes, rhs %d and %d",
			len(lhsContracting), len(lhsBatch), len(rhsContracting), len(rhsBatch))
	}
	l, err := groupAxes(lhs, lhsBatch, lhsContracting)
	if err != nil {
		return Batch{}, fmt.Errorf("lhs: %w", err)
	}
	r, err := groupAxes(rhs, rhsBatch, rhsContracting)
	if err != nil {
		return Batch{}, fmt.Errorf("rhs: %w", err)
	}
	if l.batch != r.batch || l.contracting != r.contracting {
		return Batch{}, fmt.Errorf("batch sizes %d and %d, contracting sizes %d and %d do not match",
			l.batch, r.batch, l.contracting, r.contracting)
	}
	return Batch{
		Size: l.batch, M: l.cross, N: r.cross, K: l.contracting,
		A:        Matrix{Data: l.data, RowStride: l.crossStride, ColStride: l.contractingStride},
		AStride:  l.batchStride,
		AOffsets: l.batchOffsets,
		B:        Matrix{Data: r.data, RowStride: r.contractingStride, ColStride: r.crossStride},
		BStride:  r.batchStride,
		BOffsets: r.batchOffsets,
	}, nil
}

// grouped is an operand seen as [batch, cross, contracting] with one stride per group;
// batch axes that are not one flat run (attention's [batch, seq, heads, dim] with batch
// axes 0 and 2) get one offset per item instead.
type grouped struct {
	data                                        []float32
	batch, cross, contracting                   int
	batchStride, crossStride, contractingStride int
	batchOffsets                                []int
}

// groupAxes views x as [batch, cross, contracting]; when a group's axes are not laid out
// as one flat run, x is copied into that order first.
func groupAxes(x operand, batchAxes, contractingAxes []int) (grouped, error) {
	rank := len(x.dims)
	kind := make([]int, rank) // 0 cross, 1 batch, 2 contracting
	for k, list := range [][]int{batchAxes, contractingAxes} {
		for _, a := range list {
			if a < 0 || a >= rank || kind[a] != 0 {
				return grouped{}, fmt.Errorf("axis %d repeated or out of range for rank %d", a, rank)
			}
			kind[a] = k + 1
		}
	}
	var crossAxes []int
	for a := 0; a < rank; a++ {
		if kind[a] == 0 {
			crossAxes = append(crossAxes, a)
		}
	}
	strides := layout.DenseStrides(x.dims)
	size := 1
	for _, d := range x.dims {
		size *= d
	}
	if len(x.data) < size {
		return grouped{}, fmt.Errorf("%d values for dimensions %v", len(x.data), x.dims)
	}
	g := grouped{data: x.data}
	var ok [3]bool
	g.batch, g.batchStride, ok[0] = layout.MergeAxes(x.dims, strides, batchAxes)
	g.cross, g.crossStride, ok[1] = layout.MergeAxes(x.dims, strides, crossAxes)
	g.contracting, g.contractingStride, ok[2] = layout.MergeAxes(x.dims, strides, contractingAxes)
	if ok[1] && ok[2] {
		if !ok[0] {
			g.batchOffsets = axesOffsets(x.dims, strides, batchAxes)
		}
		return g, nil
	}
	order := append(append(append([]int{}, batchAxes...), crossAxes...), contractingAxes...)
	g.data = transposeCopy(x.data, x.dims, strides, order)
	g.batchStride, g.crossStride, g.contractingStride = g.cross*g.contracting, g.contracting, 1
	return g, nil
}

// axesOffsets lists the offsets of every index of the given axes (the last one fastest).
func axesOffsets(dims, strides, axes []int) []int {
	offsets := []int{0}
	for _, a := range axes {
		next := make([]int, 0, len(offsets)*dims[a])
		for _, o := range offsets {
			for i := 0; i < dims[a]; i++ {
				next = append(next, o+i*strides[a])
			}
		}
		offsets = next
	}
	return offsets
}

// transposeCopy returns x's elements in the axis order given (a permutation).
func transposeCopy(x []float32, dims, strides, order []int) []float32 {
	outDims, outStrides := make([]int, len(order)), make([]int, len(order))
	size := 1
	for j, a := range order {
		outDims[j], outStrides[j] = dims[a], strides[a]
		size *= dims[a]
	}
	out := make([]float32, size)
	permute(out, x, outDims, outStrides)
	return out
}
