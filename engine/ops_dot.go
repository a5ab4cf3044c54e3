package engine

import (
	"github.com/amopo-engine/amopo/engine/internal/layout"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pkg/errors"
)

// dotAxes are a DotGeneral's axes, normalised to be non-negative.
type dotAxes struct {
	lhsContracting, lhsBatch, lhsCross []int
	rhsContracting, rhsBatch, rhsCross []int
}

// DotGeneral implements backends.Builder (float32): the output is
// [batch..., lhs cross..., rhs cross...], computed by matmul.wgsl as a batched
// [B, M, K] x [B, K, N] product. Operands are read through strides; one whose axis
// groups cannot be merged into (B, M, K) strides is transposed first.
func (b *Builder) DotGeneral(lhsOp backends.Op, lhsContractingAxes, lhsBatchAxes []int,
	rhsOp backends.Op, rhsContractingAxes, rhsBatchAxes []int) (backends.Op, error) {
	op := backends.OpTypeDotGeneral
	nodes, err := b.checkOps(op, lhsOp, rhsOp)
	if err != nil {
		return nil, err
	}
	lhs, rhs := nodes[0].shape, nodes[1].shape
	if lhs.DType != rhs.DType {
		return nil, errors.Errorf("webgpu backend: DotGeneral: lhs %s and rhs %s dtypes differ", lhs, rhs)
	}
	if err := checkDType(op, lhs.DType, dtypes.Float32); err != nil {
		return nil, err
	}
	if len(lhsContractingAxes) != len(rhsContractingAxes) || len(lhsBatchAxes) != len(rhsBatchAxes) {
		return nil, errors.Errorf("webgpu backend: DotGeneral: lhs has %d contracting and %d batch axes, rhs %d and %d",
			len(lhsContractingAxes), len(lhsBatchAxes), len(rhsContractingAxes), len(rhsBatchAxes))
	}
	var ax dotAxes
	norm := func(axes []int, rank int, what string) ([]int, error) {
		out := make([]int, len(axes))
		for i, a := range axes {
			if a < 0 {
				a += rank
			}
			if a < 0 || a >= rank {
				return nil, errors.Errorf("webgpu backend: DotGeneral: %s axis %d out of range for rank %d", what, axes[i], rank)
			}
			out[i] = a
		}
		return out, nil
	}
	if ax.lhsContracting, err = norm(lhsContractingAxes, lhs.Rank(), "lhs contracting"); err != nil {
		return nil, err
	}
	if ax.lhsBatch, err = norm(lhsBatchAxes, lhs.Rank(), "lhs batch"); err != nil {
		return nil, err
	}
	if ax.rhsContracting, err = norm(rhsContractingAxes, rhs.Rank(), "rhs contracting"); err != nil {
		return nil, err
	}
	if ax.rhsBatch, err = norm(rhsBatchAxes, rhs.Rank(), "rhs batch"); err != nil {
		return nil, err
	}
	var outDims []int
	for i, a := range ax.lhsBatch {
		if lhs.Dimensions[a] != rhs.Dimensions[ax.rhsBatch[i]] {
			return nil, errors.Errorf("webgpu backend: DotGeneral: batch dimensions differ: lhs %s axis %d, rhs %s axis %d",
				lhs, a, rhs, ax.rhsBatch[i])
		}
		outDims = append(outDims, lhs.Dimensions[a])
	}
	for i, a := range ax.lhsContracting {
		if lhs.Dimensions[a] != rhs.Dimensions[ax.rhsContracting[i]] {
			return nil, errors.Errorf("webgpu backend: DotGeneral: contracting dimensions differ: lhs %s axis %d, rhs %s axis %d",
				lhs, a, rhs, ax.rhsContracting[i])
		}
	}
	ax.lhsCross = crossAxes(lhs.Rank(), ax.lhsContracting, ax.lhsBatch)
	ax.rhsCross = crossAxes(rhs.Rank(), ax.rhsContracting, ax.rhsBatch)
	for _, a := range ax.lhsCross {
		outDims = append(outDims, lhs.Dimensions[a])
	}
	for _, a := range ax.rhsCross {
		outDims = append(outDims, rhs.Dimensions[a])
	}
	shape := shapes.Make(lhs.DType, outDims...)
	return b.newNode(op, shape, func(c *compiler, n *Node, args []int) (int, error) {
		return lowerDot(c, n, args, &ax)
	}, nodes...), nil
}

// Dot implements backends.Builder with DotGeneral.
func (b *Builder) Dot(lhsOp, rhsOp backends.Op) (backends.Op, error) {
	nodes, err := b.checkOps(backends.OpTypeDot, lhsOp, rhsOp)
	if err != nil {
		return nil, err
	}
	lhs, rhs := nodes[0].shape, nodes[1].shape
	switch {
	case lhs.Rank() == 1 && rhs.Rank() == 1, lhs.Rank() == 2 && rhs.Rank() == 1, lhs.Rank() == 2 && rhs.Rank() == 2:
		return b.DotGeneral(lhsOp, []int{lhs.Rank() - 1}, nil, rhsOp, []int{0}, nil)
	}
	return nil, errors.Errorf("webgpu backend: Dot: ranks of lhs %s and rhs %s not supported", lhs, rhs)
}

func crossAxes(rank int, contracting, batch []int) []int {
	var out []int
	for a := range rank {
		if !slices.Contains(contracting, a) && !slices.Contains(batch, a) {
			out = append(out, a)
		}
	}
	return out
}

// operandStrides returns the (size, stride) of the three axis groups of an operand,
// transposing it (into a scratch value) to the groups' order if needed.
func operandStrides(c *compiler, v int, shape shapes.Shape, groups [3][]int) (int, [3]int, [3]int, error) {
	dims := shape.Dimensions
	strides := layout.DenseStrides(dims)
	var sizes, st [3]int
	ok := true
	for g, group := range groups {
		var good bool
		sizes[g], st[g], good = layout.MergeAxes(dims, strides, group)
		ok = ok && good
	}
	if ok {
		return v, sizes, st, nil
	}
	perm := slices.Concat(groups[0], groups[1], groups[2])
	tDims := make([]int, len(perm))
	is := make([]int, len(perm))
	for i, a := range perm {
		tDims[i], is[i] = dims[a], strides[a]
	}
	t := c.temp(shape)
	if err := c.stridedCopy(v, t, shape.DType, tDims, 0, is, 0, layout.DenseStrides(tDims)); err != nil {
		return 0, sizes, st, err
	}
	st = [3]int{sizes[1] * sizes[2], sizes[2], 1}
	return t, sizes, st, nil
}

func lowerDot(c *compiler, n *Node, args []int, ax *dotAxes) (int, error) {
	lv, ls, lst, err := operandStrides(c, args[0], n.inputs[0].shape, [3][]int{ax.lhsBatch, ax.lhsCross, ax.lhsContracting})
	if err != nil {
		return 0, err
	}
	rv, rs, rst, err := operandStrides(c, args[1], n.inputs[1].shape, [3][]int{ax.rhsBatch, ax.rhsContracting, ax.rhsCross})
	if err != nil {
		return 0, err
	}
	batch, m, k, nn := ls[0], ls[1], ls[2], rs[2]
	if batch > maxGroups || (m+63)/64 > maxGroups || (nn+63)/64 > maxGroups {
		return 0, errors.Errorf("webgpu backend: DotGeneral: [%d, %d, %d] x [%d, %d, %d] too large for one launch", batch, m, k, batch, k, nn)
	}
	out := c.temp(n.shape)
	params := u32s([]int{m, nn, k, lst[0], lst[1], lst[2], rst[0], rst[1], rst[2]})
	spec := kernelSpec{file: "matmul", readOnly: []bool{true, true, false}}
	if m*nn*batch == 0 {
		return out, nil
	}
	if k == 0 { // an empty contraction: zeros
		return out, c.launch1D(kernelSpec{file: "iota", subst: map[string]string{"TO": "f32"}, readOnly: []bool{false}},
			[]int{out}, []uint32{uint32(n.shape.Size()), 1, 1}, n.shape.Size())
	}
	return out, c.launch(spec, []int{lv, rv, out}, params, [3]uint32{uint32((nn + 63) / 64), uint32((m + 63) / 64), uint32(batch)})
}
