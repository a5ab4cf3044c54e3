package engine

import (
	"github.com/amopo-engine/amopo/engine/internal/layout"
	"math"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/shapeinference"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// reduction is a reduction's combiner and initial value (as bits) per dtype.
type reduction struct {
	combine map[dtypes.DType]string
	init    map[dtypes.DType]uint32
}

var reductions = map[backends.OpType]reduction{
	backends.OpTypeReduceSum: {
		combine: map[dtypes.DType]string{dF32: "return x + y;", dI32: "return x + y;", dU32: "return x + y;"},
		init:    map[dtypes.DType]uint32{dF32: 0, dI32: 0, dU32: 0},
	},
	backends.OpTypeReduceProduct: {
		combine: map[dtypes.DType]string{dF32: "return x * y;", dI32: "return x * y;", dU32: "return x * y;"},
		init:    map[dtypes.DType]uint32{dF32: math.Float32bits(1), dI32: 1, dU32: 1},
	},
	backends.OpTypeReduceMax: {
		combine: map[dtypes.DType]string{dF32: "return max_f32(x, y);", dI32: "return max(x, y);", dU32: "return max(x, y);"},
		init:    map[dtypes.DType]uint32{dF32: math.Float32bits(float32(math.Inf(-1))), dI32: 0x80000000, dU32: 0},
	},
	backends.OpTypeReduceMin: {
		combine: map[dtypes.DType]string{dF32: "return min_f32(x, y);", dI32: "return min(x, y);", dU32: "return min(x, y);"},
		init:    map[dtypes.DType]uint32{dF32: math.Float32bits(float32(math.Inf(1))), dI32: 0x7fffffff, dU32: 0xffffffff},
	},
	backends.OpTypeReduceLogicalAnd: {
		combine: map[dtypes.DType]string{dBool: "return x & y;"},
		init:    map[dtypes.DType]uint32{dBool: 1},
	},
	backends.OpTypeReduceLogicalOr: {
		combine: map[dtypes.DType]string{dBool: "return x | y;"},
		init:    map[dtypes.DType]uint32{dBool: 0},
	},
	backends.OpTypeReduceLogicalXor: {
		combine: map[dtypes.DType]string{dBool: "return x ^ y;"},
		init:    map[dtypes.DType]uint32{dBool: 0},
	},
}

// largeReduction is the number of reduced elements from which one workgroup (instead of
// one invocation) computes each output, when there are fewer than manyOutputs outputs.
const largeReduction = 64

// manyOutputs is the number of outputs from which one invocation per output is used
// whatever the reduction's length: there is parallelism enough.
const manyOutputs = 1024

func (b *Builder) reduce(op backends.OpType, x backends.Op, axes []int) (backends.Op, error) {
	nodes, err := b.checkOps(op, x)
	if err != nil {
		return nil, err
	}
	in := nodes[0].shape
	if len(axes) == 0 {
		for a := range in.Rank() {
			axes = append(axes, a)
		}
	}
	shape, err := shapeinference.ReduceOp(in, axes)
	if err != nil {
		return nil, err
	}
	r := reductions[op]
	combine, ok := r.combine[in.DType]
	if !ok {
		return nil, dtypeNotImplemented(op, in.DType)
	}
	initBits := r.init[in.DType]
	t := wgslType(in.DType)
	axes = slices.Clone(axes)
	return b.newNode(op, shape, func(c *compiler, n *Node, args []int) (int, error) {
		dims := n.inputs[0].shape.Dimensions
		strides := layout.DenseStrides(dims)
		var keptDims, keptStrides, redDims, redStrides []int
		count := 1
		for d := range dims {
			if slices.Contains(axes, d) {
				redDims, redStrides = append(redDims, dims[d]), append(redStrides, strides[d])
				count *= dims[d]
			} else {
				keptDims, keptStrides = append(keptDims, dims[d]), append(keptStrides, strides[d])
			}
		}
		nOut := n.shape.Size()
		params := []uint32{uint32(nOut), uint32(count), uint32(len(keptDims)), uint32(len(redDims)), initBits}
		for _, part := range [][]int{keptDims, keptStrides, redDims, redStrides} {
			params = append(params, u32s(part)...)
		}
		spec := kernelSpec{file: "reduce", entry: "small", subst: map[string]string{"T": t, "COMBINE": combine},
			readOnly: []bool{true, false}}
		out := c.temp(n.shape)
		args = append(args, out)
		if count <= largeReduction || nOut >= manyOutputs {
			return out, c.launch1D(spec, args, params, nOut)
		}
		spec.entry = "large"
		groups, err := grid1D(nOut, 1)
		if err != nil {
			return 0, err
		}
		return out, c.launch(spec, args, params, groups)
	}, nodes[0]), nil
}
