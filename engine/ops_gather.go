package engine

import (
	"github.com/amopo-engine/amopo/engine/internal/layout"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/shapeinference"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/pkg/errors"
)

// maxScatterRank is the largest operand rank of ScatterSum (scatter.wgsl's coordinates).
const maxScatterRank = 8

// indexStrides returns the dense strides of an index tensor in 32-bit words, and the
// word multiplier: int64 indices are read by their low word (little-endian).
func indexStrides(dims []int, dtype dtypes.DType) ([]int, error) {
	strides := layout.DenseStrides(dims)
	switch dtype {
	case dtypes.Int32:
	case dtypes.Int64:
		for i := range strides {
			strides[i] *= 2
		}
	default:
		return nil, errors.Errorf("webgpu backend: indices of dtype %s not supported (int32 and int64 are)", dtype)
	}
	return strides, nil
}

// Gather implements backends.Builder for 32-bit operands and int32/int64 indices.
func (b *Builder) Gather(operandOp, startIndicesOp backends.Op, indexVectorAxis int,
	offsetOutputAxes, collapsedSliceAxes, startIndexMap, sliceSizes []int, indicesAreSorted bool) (backends.Op, error) {
	op := backends.OpTypeGather
	nodes, err := b.checkOps(op, operandOp, startIndicesOp)
	if err != nil {
		return nil, err
	}
	operand, indices := nodes[0].shape, nodes[1].shape
	shape, err := shapeinference.Gather(operand, indices, indexVectorAxis, offsetOutputAxes, collapsedSliceAxes,
		startIndexMap, sliceSizes, indicesAreSorted)
	if err != nil {
		return nil, err
	}
	if wordsPerElement(operand.DType) != 1 {
		return nil, dtypeNotImplemented(op, operand.DType)
	}
	if indices.DType != dtypes.Int32 && indices.DType != dtypes.Int64 {
		return nil, dtypeNotImplemented(op, indices.DType)
	}
	offsetOutputAxes, collapsedSliceAxes = slices.Clone(offsetOutputAxes), slices.Clone(collapsedSliceAxes)
	startIndexMap, sliceSizes = slices.Clone(startIndexMap), slices.Clone(sliceSizes)
	return b.newNode(op, shape, func(c *compiler, n *Node, args []int) (int, error) {
		opDims := operand.Dimensions
		opStrides := layout.DenseStrides(opDims)
		idxStrides, err := indexStrides(indices.Dimensions, indices.DType)
		if err != nil {
			return 0, err
		}
		var batchIdxAxes []int // axes of the indices that are batch axes, in order
		for a := range indices.Rank() {
			if a != indexVectorAxis {
				batchIdxAxes = append(batchIdxAxes, a)
			}
		}
		var offsetOpAxes []int // operand axes that are not collapsed, in order
		for a := range operand.Rank() {
			if !slices.Contains(collapsedSliceAxes, a) {
				offsetOpAxes = append(offsetOpAxes, a)
			}
		}
		ivStride := 0
		if indexVectorAxis < indices.Rank() {
			ivStride = idxStrides[indexVectorAxis]
		}
		params := []uint32{uint32(n.shape.Size()), uint32(n.shape.Rank()), uint32(len(startIndexMap)), uint32(ivStride)}
		batch := 0
		for d, dim := range n.shape.Dimensions {
			idxStride, opStride := 0, 0
			if k := slices.Index(offsetOutputAxes, d); k >= 0 {
				opStride = opStrides[offsetOpAxes[k]]
			} else {
				idxStride = idxStrides[batchIdxAxes[batch]]
				batch++
			}
			params = append(params, u32s([]int{dim, idxStride, opStride})...)
		}
		for _, a := range startIndexMap {
			params = append(params, u32s([]int{opDims[a] - sliceSizes[a], opStrides[a]})...)
		}
		out := c.temp(n.shape)
		spec := kernelSpec{file: "gather", readOnly: []bool{true, true, false}}
		return out, c.launch1D(spec, append(args, out), params, n.shape.Size())
	}, nodes...), nil
}

// ScatterSum implements backends.Builder for float32/int32/uint32 and int32/int64
// indices: a copy of the operand, then an atomic add per update element (updates that
// fall outside the operand are skipped).
func (b *Builder) ScatterSum(operandOp, scatterIndicesOp, updatesOp backends.Op, indexVectorAxis int,
	updateWindowAxes, insertedWindowAxes, scatterAxesToOperandAxes []int, indicesAreSorted, uniqueIndices bool) (backends.Op, error) {
	op := backends.OpTypeScatterSum
	nodes, err := b.checkOps(op, operandOp, scatterIndicesOp, updatesOp)
	if err != nil {
		return nil, err
	}
	operand, indices, updates := nodes[0].shape, nodes[1].shape, nodes[2].shape
	shape, err := shapeinference.ScatterOp(operand, indices, updates, indexVectorAxis, updateWindowAxes,
		insertedWindowAxes, scatterAxesToOperandAxes)
	if err != nil {
		return nil, err
	}
	add := map[dtypes.DType]string{
		dF32: `var old = atomicLoad(&out[off]);
  loop {
    let r = atomicCompareExchangeWeak(&out[off], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) { break; }
    old = r.old_value;
  }`,
		dI32: "atomicAdd(&out[off], bitcast<u32>(v));",
		dU32: "atomicAdd(&out[off], v);",
	}[operand.DType]
	if add == "" {
		return nil, dtypeNotImplemented(op, operand.DType)
	}
	if indices.DType != dtypes.Int32 && indices.DType != dtypes.Int64 {
		return nil, dtypeNotImplemented(op, indices.DType)
	}
	if operand.Rank() > maxScatterRank {
		return nil, errors.Errorf("webgpu backend: ScatterSum: operand rank %d > %d not supported", operand.Rank(), maxScatterRank)
	}
	updateWindowAxes, insertedWindowAxes = slices.Clone(updateWindowAxes), slices.Clone(insertedWindowAxes)
	scatterAxesToOperandAxes = slices.Clone(scatterAxesToOperandAxes)
	spec := kernelSpec{file: "scatter", subst: map[string]string{"T": wgslType(operand.DType), "ADD": add},
		readOnly: []bool{true, true, false}}
	return b.newNode(op, shape, func(c *compiler, n *Node, args []int) (int, error) {
		idxStrides, err := indexStrides(indices.Dimensions, indices.DType)
		if err != nil {
			return 0, err
		}
		var batchIdxAxes []int
		for a := range indices.Rank() {
			if a != indexVectorAxis {
				batchIdxAxes = append(batchIdxAxes, a)
			}
		}
		var windowOpAxes []int // operand axes that are not inserted, in order
		for a := range operand.Rank() {
			if !slices.Contains(insertedWindowAxes, a) {
				windowOpAxes = append(windowOpAxes, a)
			}
		}
		ivStride := 0
		if indexVectorAxis < indices.Rank() {
			ivStride = idxStrides[indexVectorAxis]
		}
		params := []uint32{uint32(updates.Size()), uint32(updates.Rank()), uint32(len(scatterAxesToOperandAxes)),
			uint32(ivStride), uint32(operand.Rank())}
		params = append(params, u32s(operand.Dimensions)...)
		params = append(params, u32s(layout.DenseStrides(operand.Dimensions))...)
		batch := 0
		for d, dim := range updates.Dimensions {
			if k := slices.Index(updateWindowAxes, d); k >= 0 {
				params = append(params, uint32(dim), 0, uint32(windowOpAxes[k]))
			} else {
				params = append(params, uint32(dim), uint32(idxStrides[batchIdxAxes[batch]]), 0xffffffff)
				batch++
			}
		}
		params = append(params, u32s(scatterAxesToOperandAxes)...)
		out := c.temp(n.shape)
		if err := c.copyWords(args[0], out, int(deviceBytes(n.shape)/4)); err != nil {
			return 0, err
		}
		return out, c.launch1D(spec, []int{args[2], args[1], out}, params, updates.Size())
	}, nodes...), nil
}
