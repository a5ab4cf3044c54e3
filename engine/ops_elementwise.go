package engine

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/notimplemented"
	"github.com/gomlx/gomlx/backends/shapeinference"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pkg/errors"
)

// wgslType is the WGSL element type of a 32-bit dtype (bool is a u32 0/1).
func wgslType(dtype dtypes.DType) string {
	switch dtype {
	case dtypes.Float32:
		return "f32"
	case dtypes.Int32:
		return "i32"
	case dtypes.Uint32, dtypes.Bool:
		return "u32"
	}
	return ""
}

// Short names of the 32-bit dtypes for the tables below.
const (
	dF32  = dtypes.Float32
	dI32  = dtypes.Int32
	dU32  = dtypes.Uint32
	dBool = dtypes.Bool
)

// unaryBodies are the WGSL bodies of op(x) per op and dtype.
var unaryBodies = map[backends.OpType]map[dtypes.DType]string{
	backends.OpTypeAbs:        {dF32: "return abs(x);", dI32: "return abs(x);", dU32: "return x;"},
	backends.OpTypeNeg:        {dF32: "return -x;", dI32: "return -x;"},
	backends.OpTypeExp:        {dF32: "return exp(x);"},
	backends.OpTypeExpm1:      {dF32: "return expm1_f32(x);"},
	backends.OpTypeLog:        {dF32: "return log(x);"},
	backends.OpTypeLog1p:      {dF32: "return log1p_f32(x);"},
	backends.OpTypeSqrt:       {dF32: "return sqrt(x);"},
	backends.OpTypeRsqrt:      {dF32: "return inverseSqrt(x);"},
	backends.OpTypeTanh:       {dF32: "return tanh(clamp(x, -15.0, 15.0));"},
	backends.OpTypeLogistic:   {dF32: "return logistic_f32(x);"},
	backends.OpTypeSin:        {dF32: "return sin(x);"},
	backends.OpTypeCos:        {dF32: "return cos(x);"},
	backends.OpTypeFloor:      {dF32: "return floor(x);"},
	backends.OpTypeCeil:       {dF32: "return ceil(x);"},
	backends.OpTypeRound:      {dF32: "return round(x);"},
	backends.OpTypeErf:        {dF32: "return erf_f32(x);"},
	backends.OpTypeSign:       {dF32: "return sign_f32(x);", dI32: "return sign(x);", dU32: "return min(x, 1u);"},
	backends.OpTypeLogicalNot: {dBool: "return 1u - x;"},
	backends.OpTypeBitwiseNot: {dI32: "return ~x;", dU32: "return ~x;"},
	backends.OpTypeIsFinite:   {dF32: "return select(0u, 1u, is_finite_f32(x));"},
	backends.OpTypeIsNaN:      {dF32: "return select(0u, 1u, is_nan_f32(x));"},
}

// binaryBodies are the WGSL bodies of op(x, y) per op and dtype.
var binaryBodies = map[backends.OpType]map[dtypes.DType]string{
	backends.OpTypeAdd: {dF32: "return x + y;", dI32: "return x + y;", dU32: "return x + y;"},
	backends.OpTypeSub: {dF32: "return x - y;", dI32: "return x - y;", dU32: "return x - y;"},
	backends.OpTypeMul: {dF32: "return x * y;", dI32: "return x * y;", dU32: "return x * y;"},
	backends.OpTypeDiv: {dF32: "return x / y;", dI32: "if (y == 0) { return 0; } return x / y;",
		dU32: "if (y == 0u) { return 0u; } return x / y;"},
	backends.OpTypeRem: {dF32: "return x % y;", dI32: "if (y == 0) { return 0; } return x % y;",
		dU32: "if (y == 0u) { return 0u; } return x % y;"},
	backends.OpTypeMax:        {dF32: "return max_f32(x, y);", dI32: "return max(x, y);", dU32: "return max(x, y);"},
	backends.OpTypeMin:        {dF32: "return min_f32(x, y);", dI32: "return min(x, y);", dU32: "return min(x, y);"},
	backends.OpTypePow:        {dF32: "return pow_f32(x, y);"},
	backends.OpTypeLogicalAnd: {dBool: "return x & y;"},
	backends.OpTypeLogicalOr:  {dBool: "return x | y;"},
	backends.OpTypeLogicalXor: {dBool: "return x ^ y;"},
	backends.OpTypeBitwiseAnd: {dI32: "return x & y;", dU32: "return x & y;"},
	backends.OpTypeBitwiseOr:  {dI32: "return x | y;", dU32: "return x | y;"},
	backends.OpTypeBitwiseXor: {dI32: "return x ^ y;", dU32: "return x ^ y;"},
}

// binary64Bodies are the int64 ops (pairs of words).
var binary64Bodies = map[backends.OpType]string{
	backends.OpTypeAdd: "return add64(x, y);",
	backends.OpTypeSub: "return sub64(x, y);",
}

// Float64 arithmetic: WGSL has no f64, so the unaryf64/binaryf64 kernels round their
// float64 operands to float32, compute in float32 and widen the result exactly. That is
// enough for the scalar bookkeeping of training graphs (learning-rate schedules, Adam's
// bias corrections) but not float64 precision. STORE writes r, the result of op.
const (
	f64Store = "let w = f32_to_f64(r); out[2u * i] = w.x; out[2u * i + 1u] = w.y;"
	u32Store = "out[i] = r;"
)

// comparisonOps are the WGSL operators of the comparisons.
var comparisonOps = map[backends.OpType]string{
	backends.OpTypeEqual:          "==",
	backends.OpTypeNotEqual:       "!=",
	backends.OpTypeGreaterThan:    ">",
	backends.OpTypeGreaterOrEqual: ">=",
	backends.OpTypeLessThan:       "<",
	backends.OpTypeLessOrEqual:    "<=",
}

func (b *Builder) unary(op backends.OpType, x backends.Op) (backends.Op, error) {
	nodes, err := b.checkOps(op, x)
	if err != nil {
		return nil, err
	}
	dtype := nodes[0].shape.DType
	var shape shapes.Shape
	if op == backends.OpTypeIsFinite || op == backends.OpTypeIsNaN {
		shape = nodes[0].shape // not in shapeinference's unary set
	} else if shape, err = shapeinference.UnaryOp(op, nodes[0].shape); err != nil {
		return nil, err
	}
	isTest := op == backends.OpTypeIsFinite || op == backends.OpTypeIsNaN
	if dtype == dtypes.Float64 {
		// float64 math in float32 precision (see f64Store).
		body, ok := unaryBodies[op][dF32]
		if !ok {
			return nil, dtypeNotImplemented(op, dtype)
		}
		to, store := "f32", f64Store
		if isTest {
			shape.DType = dtypes.Bool
			to, store = "u32", u32Store
		}
		spec := kernelSpec{file: "unaryf64", subst: map[string]string{"TO": to, "BODY": body, "STORE": store},
			readOnly: []bool{true, false}}
		return b.newNode(op, shape, elementwiseLower(spec), nodes[0]), nil
	}
	body, ok := unaryBodies[op][dtype]
	if !ok {
		return nil, dtypeNotImplemented(op, dtype)
	}
	outType := wgslType(shape.DType)
	if isTest {
		shape.DType = dtypes.Bool
		outType = "u32"
	}
	spec := kernelSpec{file: "unary", subst: map[string]string{"TA": wgslType(dtype), "TO": outType, "BODY": body},
		readOnly: []bool{true, false}}
	return b.newNode(op, shape, elementwiseLower(spec), nodes[0]), nil
}

// elementwiseLower launches spec over the inputs, dense and of the output's size.
func elementwiseLower(spec kernelSpec) lowerFn {
	return func(c *compiler, n *Node, args []int) (int, error) {
		out := c.temp(n.shape)
		size := n.shape.Size()
		return out, c.launch1D(spec, append(args, out), []uint32{uint32(size)}, size)
	}
}

func (b *Builder) binary(op backends.OpType, lhs, rhs backends.Op) (backends.Op, error) {
	nodes, err := b.checkOps(op, lhs, rhs)
	if err != nil {
		return nil, err
	}
	var shape shapes.Shape
	_, isComparison := comparisonOps[op]
	if isComparison {
		shape, err = shapeinference.ComparisonOp(op, nodes[0].shape, nodes[1].shape)
	} else {
		shape, err = shapeinference.BinaryOp(op, nodes[0].shape, nodes[1].shape)
	}
	if err != nil {
		return nil, err
	}
	dtype := nodes[0].shape.DType
	var spec kernelSpec
	switch {
	case dtype == dtypes.Int64 && binary64Bodies[op] != "":
		spec = kernelSpec{file: "binary64", subst: map[string]string{"BODY": binary64Bodies[op]}}
	case dtype == dtypes.Float64 && isComparison:
		body := fmt.Sprintf("return select(0u, 1u, x %s y);", comparisonOps[op])
		spec = kernelSpec{file: "binaryf64", subst: map[string]string{"TO": "u32", "BODY": body, "STORE": u32Store}}
	case dtype == dtypes.Float64:
		// float64 math in float32 precision (see f64Store).
		body, ok := binaryBodies[op][dF32]
		if !ok {
			return nil, dtypeNotImplemented(op, dtype)
		}
		spec = kernelSpec{file: "binaryf64", subst: map[string]string{"TO": "f32", "BODY": body, "STORE": f64Store}}
	case isComparison && wgslType(dtype) != "":
		body := fmt.Sprintf("return select(0u, 1u, x %s y);", comparisonOps[op])
		spec = kernelSpec{file: "binary", subst: map[string]string{"TA": wgslType(dtype), "TO": "u32", "BODY": body}}
	default:
		body, ok := binaryBodies[op][dtype]
		if !ok {
			return nil, dtypeNotImplemented(op, dtype)
		}
		spec = kernelSpec{file: "binary", subst: map[string]string{"TA": wgslType(dtype), "TO": wgslType(dtype), "BODY": body}}
	}
	spec.readOnly = []bool{true, true, false}
	return b.newNode(op, shape, broadcastLower(spec), nodes...), nil
}

// broadcastLower launches a binary kernel: operands are scalars or of the output's rank
// with dimensions 1 (stride 0) or equal to the output's.
func broadcastLower(spec kernelSpec) lowerFn {
	return func(c *compiler, n *Node, args []int) (int, error) {
		out := c.temp(n.shape)
		dims := n.shape.Dimensions
		rank := len(dims)
		params := []uint32{uint32(n.shape.Size()), uint32(rank), 0}
		var mode uint32
		for k, in := range n.inputs {
			if in.shape.Size() == n.shape.Size() {
				mode |= 1 << k // dense: same size as the output means same dimensions
			}
		}
		params[2] = mode
		params = append(params, u32s(dims)...)
		for _, in := range n.inputs {
			params = append(params, u32s(broadcastStrides(in.shape, rank))...)
		}
		return out, c.launch1D(spec, append(args, out), params, n.shape.Size())
	}
}

// broadcastStrides are the strides of shape read as an operand of rank rank: 0 for a
// scalar and for axes of dimension 1.
func broadcastStrides(shape shapes.Shape, rank int) []int {
	strides := make([]int, rank)
	if shape.IsScalar() {
		return strides
	}
	s := 1
	for d := rank - 1; d >= 0; d-- {
		if shape.Dimensions[d] != 1 {
			strides[d] = s
		}
		s *= shape.Dimensions[d]
	}
	return strides
}

func u32s(xs []int) []uint32 {
	out := make([]uint32, len(xs))
	for i, x := range xs {
		out[i] = uint32(int32(x))
	}
	return out
}

// Where implements backends.Builder; onTrue/onFalse may be any 32-bit dtype.
func (b *Builder) Where(condition, onTrue, onFalse backends.Op) (backends.Op, error) {
	op := backends.OpTypeWhere
	nodes, err := b.checkOps(op, condition, onTrue, onFalse)
	if err != nil {
		return nil, err
	}
	shape, err := shapeinference.WhereOp(nodes[0].shape, nodes[1].shape, nodes[2].shape)
	if err != nil {
		return nil, err
	}
	switch wordsPerElement(shape.DType) {
	case 2:
		spec := kernelSpec{file: "where64", readOnly: []bool{true, true, true, false}}
		return b.newNode(op, shape, ternaryLower(spec), nodes...), nil
	case 1:
	default:
		return nil, dtypeNotImplemented(op, shape.DType)
	}
	spec := kernelSpec{file: "ternary", subst: map[string]string{"TA": "u32", "TB": "u32", "BODY": "return select(z, y, x != 0u);"},
		readOnly: []bool{true, true, true, false}}
	return b.newNode(op, shape, ternaryLower(spec), nodes...), nil
}

// Clamp implements backends.Builder.
func (b *Builder) Clamp(minV, x, maxV backends.Op) (backends.Op, error) {
	op := backends.OpTypeClamp
	nodes, err := b.checkOps(op, minV, x, maxV)
	if err != nil {
		return nil, err
	}
	shape := nodes[1].shape
	for _, n := range []*Node{nodes[0], nodes[2]} {
		if n.shape.DType != shape.DType || !(n.shape.IsScalar() || n.shape.Equal(shape)) {
			return nil, fmt.Errorf("webgpu backend: Clamp: min/max must be scalars or of x's shape %s, got %s", shape, n.shape)
		}
	}
	body := map[dtypes.DType]string{dF32: "return min_f32(max_f32(y, x), z);", dI32: "return min(max(y, x), z);", dU32: "return min(max(y, x), z);"}[shape.DType]
	if body == "" {
		return nil, dtypeNotImplemented(op, shape.DType)
	}
	t := wgslType(shape.DType)
	spec := kernelSpec{file: "ternary", subst: map[string]string{"TA": t, "TB": t, "BODY": body},
		readOnly: []bool{true, true, true, false}}
	return b.newNode(op, shape, ternaryLower(spec), nodes...), nil
}

// ternaryLower launches the ternary kernel: each operand is dense or a scalar.
func ternaryLower(spec kernelSpec) lowerFn {
	return func(c *compiler, n *Node, args []int) (int, error) {
		out := c.temp(n.shape)
		var scalars uint32
		for k, in := range n.inputs {
			if in.shape.IsScalar() && !n.shape.IsScalar() {
				scalars |= 1 << k
			}
		}
		size := n.shape.Size()
		return out, c.launch1D(spec, append(args, out), []uint32{uint32(size), scalars}, size)
	}
}

// convertBodies are the 32-bit conversions: [from][to].
var convertBodies = map[dtypes.DType]map[dtypes.DType]string{
	dF32:  {dI32: "return i32(x);", dU32: "return u32(max(x, 0.0));", dBool: "return select(0u, 1u, x != 0.0);"},
	dI32:  {dF32: "return f32(x);", dU32: "return bitcast<u32>(x);", dBool: "return select(0u, 1u, x != 0);"},
	dU32:  {dF32: "return f32(x);", dI32: "return bitcast<i32>(x);", dBool: "return select(0u, 1u, x != 0u);"},
	dBool: {dF32: "return f32(x);", dI32: "return i32(x);", dU32: "return x;"},
}

// convertWordsBodies are the conversions to or from 64-bit types: [from][to].
var convertWordsBodies = map[dtypes.DType]map[dtypes.DType]string{
	dF32: {
		dtypes.Float64: "let r = f32_to_f64(bitcast<f32>(a[i])); out[2u * i] = r.x; out[2u * i + 1u] = r.y;",
		dtypes.Int64:   "let r = i32_to_i64(i32(bitcast<f32>(a[i]))); out[2u * i] = r.x; out[2u * i + 1u] = r.y;",
	},
	dI32: {
		dtypes.Float64: "let r = i32_to_f64(bitcast<i32>(a[i])); out[2u * i] = r.x; out[2u * i + 1u] = r.y;",
		dtypes.Int64:   "let r = i32_to_i64(bitcast<i32>(a[i])); out[2u * i] = r.x; out[2u * i + 1u] = r.y;",
	},
	dBool: {
		dtypes.Float64: "let r = i32_to_f64(i32(a[i])); out[2u * i] = r.x; out[2u * i + 1u] = r.y;",
		dtypes.Int64:   "out[2u * i] = a[i]; out[2u * i + 1u] = 0u;",
	},
	dtypes.Float64: {
		dF32: "out[i] = bitcast<u32>(f64_to_f32(a[2u * i], a[2u * i + 1u]));",
	},
	dtypes.Int64: {
		dF32:           "out[i] = bitcast<u32>(i64_to_f32(a[2u * i], a[2u * i + 1u]));",
		dI32:           "out[i] = a[2u * i];",
		dBool:          "out[i] = select(0u, 1u, (a[2u * i] | a[2u * i + 1u]) != 0u);",
		dtypes.Float64: "let r = f32_to_f64(i64_to_f32(a[2u * i], a[2u * i + 1u])); out[2u * i] = r.x; out[2u * i + 1u] = r.y;",
	},
}

// ConvertDType implements backends.Builder for f32, i32, u32 and bool, and the listed
// conversions to and from f64 and i64 (stored as pairs of words).
func (b *Builder) ConvertDType(x backends.Op, dtype dtypes.DType) (backends.Op, error) {
	op := backends.OpTypeConvertDType
	nodes, err := b.checkOps(op, x)
	if err != nil {
		return nil, err
	}
	from := nodes[0].shape.DType
	shape := nodes[0].shape.Clone()
	shape.DType = dtype
	if from == dtype {
		return b.newNode(op, shape, alias, nodes[0]), nil
	}
	if body, ok := convertBodies[from][dtype]; ok {
		spec := kernelSpec{file: "unary", subst: map[string]string{"TA": wgslType(from), "TO": wgslType(dtype), "BODY": body},
			readOnly: []bool{true, false}}
		return b.newNode(op, shape, elementwiseLower(spec), nodes[0]), nil
	}
	if body, ok := convertWordsBodies[from][dtype]; ok {
		spec := kernelSpec{file: "words", subst: map[string]string{"BODY": body}, readOnly: []bool{true, false}}
		return b.newNode(op, shape, elementwiseLower(spec), nodes[0]), nil
	}
	return nil, errors.Wrapf(notimplemented.NotImplementedError, "webgpu backend: op ConvertDType not implemented from %s to %s", from, dtype)
}
