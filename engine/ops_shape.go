package engine

import (
	"github.com/amopo-engine/amopo/engine/internal/layout"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/shapeinference"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pkg/errors"
)

// stridedCopy launches copy.wgsl: for every coordinate c of dims,
// dst[outOff + c.os] = src[inOff + c.is], offsets and strides in elements of dtype.
func (c *compiler) stridedCopy(src, dst int, dtype dtypes.DType, dims []int, inOff int, is []int, outOff int, os []int) error {
	dims, is, os = append([]int(nil), dims...), append([]int(nil), is...), append([]int(nil), os...)
	if wordsPerElement(dtype) == 2 { // a trailing axis of two words
		for d := range is {
			is[d], os[d] = 2*is[d], 2*os[d]
		}
		dims, is, os = append(dims, 2), append(is, 1), append(os, 1)
		inOff, outOff = 2*inOff, 2*outOff
	}
	n := 1
	for _, d := range dims {
		n *= d
	}
	params := []uint32{uint32(n), uint32(len(dims)), uint32(int32(inOff)), uint32(int32(outOff))}
	params = append(params, u32s(dims)...)
	params = append(params, u32s(is)...)
	params = append(params, u32s(os)...)
	return c.launch1D(kernelSpec{file: "copy", readOnly: []bool{true, false}}, []int{src, dst}, params, n)
}

// Reshape implements backends.Builder: no copy.
func (b *Builder) Reshape(x backends.Op, dimensions ...int) (backends.Op, error) {
	nodes, err := b.checkOps(backends.OpTypeReshape, x)
	if err != nil {
		return nil, err
	}
	shape, err := shapeinference.ReshapeOp(nodes[0].shape, dimensions)
	if err != nil {
		return nil, err
	}
	return b.newNode(backends.OpTypeReshape, shape, alias, nodes[0]), nil
}

// Transpose implements backends.Builder.
func (b *Builder) Transpose(x backends.Op, permutation ...int) (backends.Op, error) {
	op := backends.OpTypeTranspose
	nodes, err := b.checkOps(op, x)
	if err != nil {
		return nil, err
	}
	shape, err := shapeinference.TransposeOp(nodes[0].shape, permutation)
	if err != nil {
		return nil, err
	}
	if wordsPerElement(shape.DType) == 0 {
		return nil, dtypeNotImplemented(op, shape.DType)
	}
	perm := append([]int(nil), permutation...)
	return b.newNode(op, shape, func(c *compiler, n *Node, args []int) (int, error) {
		in := layout.DenseStrides(n.inputs[0].shape.Dimensions)
		is := make([]int, len(perm))
		for d, p := range perm {
			is[d] = in[p]
		}
		out := c.temp(n.shape)
		return out, c.stridedCopy(args[0], out, n.shape.DType, n.shape.Dimensions, 0, is, 0, layout.DenseStrides(n.shape.Dimensions))
	}, nodes[0]), nil
}

// BroadcastInDim implements backends.Builder.
func (b *Builder) BroadcastInDim(x backends.Op, outputShape shapes.Shape, broadcastAxes []int) (backends.Op, error) {
	op := backends.OpTypeBroadcastInDim
	nodes, err := b.checkOps(op, x)
	if err != nil {
		return nil, err
	}
	if err := shapeinference.BroadcastInDimOp(nodes[0].shape, outputShape, broadcastAxes); err != nil {
		return nil, err
	}
	if wordsPerElement(outputShape.DType) == 0 {
		return nil, dtypeNotImplemented(op, outputShape.DType)
	}
	axes := append([]int(nil), broadcastAxes...)
	return b.newNode(op, outputShape.Clone(), func(c *compiler, n *Node, args []int) (int, error) {
		xDims := n.inputs[0].shape.Dimensions
		in := layout.DenseStrides(xDims)
		is := make([]int, n.shape.Rank())
		for i, axis := range axes {
			if xDims[i] != 1 {
				is[axis] = in[i]
			}
		}
		out := c.temp(n.shape)
		return out, c.stridedCopy(args[0], out, n.shape.DType, n.shape.Dimensions, 0, is, 0, layout.DenseStrides(n.shape.Dimensions))
	}, nodes[0]), nil
}

// Slice implements backends.Builder.
func (b *Builder) Slice(x backends.Op, starts, limits, strides []int) (backends.Op, error) {
	op := backends.OpTypeSlice
	nodes, err := b.checkOps(op, x)
	if err != nil {
		return nil, err
	}
	shape, err := shapeinference.SliceOp(nodes[0].shape, starts, limits, strides)
	if err != nil {
		return nil, err
	}
	if wordsPerElement(shape.DType) == 0 {
		return nil, dtypeNotImplemented(op, shape.DType)
	}
	starts, strides = append([]int(nil), starts...), append([]int(nil), strides...)
	return b.newNode(op, shape, func(c *compiler, n *Node, args []int) (int, error) {
		in := layout.DenseStrides(n.inputs[0].shape.Dimensions)
		is := make([]int, len(in))
		off := 0
		for d := range in {
			step := 1
			if len(strides) > d && strides[d] > 0 {
				step = strides[d]
			}
			is[d] = in[d] * step
			off += starts[d] * in[d]
		}
		out := c.temp(n.shape)
		return out, c.stridedCopy(args[0], out, n.shape.DType, n.shape.Dimensions, off, is, 0, layout.DenseStrides(n.shape.Dimensions))
	}, nodes[0]), nil
}

// Reverse implements backends.Builder.
func (b *Builder) Reverse(x backends.Op, axes ...int) (backends.Op, error) {
	op := backends.OpTypeReverse
	nodes, err := b.checkOps(op, x)
	if err != nil {
		return nil, err
	}
	shape := nodes[0].shape
	for _, a := range axes {
		if a < 0 || a >= shape.Rank() {
			return nil, errors.Errorf("webgpu backend: Reverse: axis %d out of range for %s", a, shape)
		}
	}
	if wordsPerElement(shape.DType) == 0 {
		return nil, dtypeNotImplemented(op, shape.DType)
	}
	axes = append([]int(nil), axes...)
	return b.newNode(op, shape, func(c *compiler, n *Node, args []int) (int, error) {
		dims := n.shape.Dimensions
		is := layout.DenseStrides(dims)
		off := 0
		for _, a := range axes {
			off += (dims[a] - 1) * is[a]
			is[a] = -is[a]
		}
		out := c.temp(n.shape)
		return out, c.stridedCopy(args[0], out, n.shape.DType, dims, off, is, 0, layout.DenseStrides(dims))
	}, nodes[0]), nil
}

// Concatenate implements backends.Builder: one copy per operand.
func (b *Builder) Concatenate(axis int, operands ...backends.Op) (backends.Op, error) {
	op := backends.OpTypeConcatenate
	nodes, err := b.checkOps(op, operands...)
	if err != nil {
		return nil, err
	}
	inShapes := make([]shapes.Shape, len(nodes))
	for i, n := range nodes {
		inShapes[i] = n.shape
	}
	shape, err := shapeinference.ConcatenateOp(inShapes, axis)
	if err != nil {
		return nil, err
	}
	if wordsPerElement(shape.DType) == 0 {
		return nil, dtypeNotImplemented(op, shape.DType)
	}
	return b.newNode(op, shape, func(c *compiler, n *Node, args []int) (int, error) {
		out := c.temp(n.shape)
		os := layout.DenseStrides(n.shape.Dimensions)
		offset := 0
		for i, in := range n.inputs {
			dims := in.shape.Dimensions
			if err := c.stridedCopy(args[i], out, n.shape.DType, dims, 0, layout.DenseStrides(dims), offset*os[axis], os); err != nil {
				return 0, err
			}
			offset += dims[axis]
		}
		return out, nil
	}, nodes...), nil
}

// Iota implements backends.Builder.
func (b *Builder) Iota(shape shapes.Shape, iotaAxis int) (backends.Op, error) {
	op := backends.OpTypeIota
	if _, err := b.checkOps(op); err != nil {
		return nil, err
	}
	if shape.Rank() == 0 || iotaAxis < 0 || iotaAxis >= shape.Rank() {
		return nil, errors.Errorf("webgpu backend: Iota: axis %d invalid for shape %s", iotaAxis, shape)
	}
	t := wgslType(shape.DType)
	if t == "" || shape.DType == dtypes.Bool {
		return nil, dtypeNotImplemented(op, shape.DType)
	}
	spec := kernelSpec{file: "iota", subst: map[string]string{"TO": t}, readOnly: []bool{false}}
	return b.newNode(op, shape.Clone(), func(c *compiler, n *Node, _ []int) (int, error) {
		out := c.temp(n.shape)
		stride := layout.DenseStrides(n.shape.Dimensions)[iotaAxis]
		size := n.shape.Size()
		return out, c.launch1D(spec, []int{out}, []uint32{uint32(size), uint32(stride), uint32(n.shape.Dimensions[iotaAxis])}, size)
	}), nil
}
