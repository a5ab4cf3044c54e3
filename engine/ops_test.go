package engine_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/require"
)

// Tolerances (relative, absolute below 1) of the per-op tests against the go backend:
// exact data movement and integer ops; float arithmetic that rounds like Go; Vulkan's
// transcendental functions (a few ulps, lavapipe) and float sums in another order.
const (
	tolExact      = 0
	tolArithmetic = 1e-6
	tolMath       = 1e-5
	tolSum        = 1e-5
)

// oddShapes are not multiples of the workgroup size (64).
var oddShapes = [][]int{{7}, {5, 13}, {3, 67, 5}}

func TestUnaryFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 1))
	ops := []struct {
		name   string
		fn     func(*Node) *Node
		lo, hi float64
		tol    float64
	}{
		{"Abs", Abs, -3, 3, tolExact}, {"Neg", Neg, -3, 3, tolExact},
		{"Exp", Exp, -10, 10, tolMath}, {"Expm1", Expm1, -1, 1, tolMath},
		{"Log", Log, 1e-3, 30, tolMath}, {"Log1p", Log1p, -0.5, 3, tolMath},
		{"Sqrt", Sqrt, 0, 9, tolArithmetic}, {"Rsqrt", Rsqrt, 0.01, 9, tolMath},
		{"Tanh", Tanh, -20, 20, tolMath}, {"Logistic", Logistic, -30, 30, tolMath},
		{"Sin", Sin, -3, 3, tolMath}, {"Cos", Cos, -3, 3, tolMath},
		{"Floor", Floor, -5, 5, tolExact}, {"Ceil", Ceil, -5, 5, tolExact}, {"Round", Round, -5, 5, tolExact},
		{"Erf", Erf, -3, 3, tolMath}, {"Sign", Sign, -2, 2, tolExact},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			for _, dims := range oddShapes {
				compare(t, op.tol, func(in []*Node) []*Node { return []*Node{op.fn(in[0])} },
					randTensor(rng, dtypes.Float32, op.lo, op.hi, dims...))
			}
		})
	}
}

func TestSpecialValues(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	x := tensors.FromValue([]float32{0, -0, 1, -1, inf, -inf, nan, 1e-30, -3.5})
	compare(t, tolExact, func(in []*Node) []*Node {
		return []*Node{IsFinite(in[0]), IsNaN(in[0]), Abs(in[0]), Neg(in[0])}
	}, x)
	// Sign(NaN) is NaN as backends.StandardOps documents (simplego returns 0).
	got := MustExecOnce(newWebGPU(t), Sign, x)
	require.Equal(t, []float32{0, 0, 1, -1, 1, -1}, tensors.MustCopyFlatData[float32](got)[:6])
	require.True(t, math.IsNaN(float64(tensors.MustCopyFlatData[float32](got)[6])))
	compare(t, tolMath, func(in []*Node) []*Node {
		return []*Node{Exp(in[0]), Logistic(in[0]), Max(in[0], ScalarZero(in[0].Graph(), dtypes.Float32))}
	}, x)
}

func TestUnaryInt(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	x := randTensor(rng, dtypes.Int32, -50, 50, 5, 13)
	compare(t, tolExact, func(in []*Node) []*Node { return []*Node{Abs(in[0]), Neg(in[0]), Sign(in[0])} }, x)
	b := randTensor(rng, dtypes.Bool, 0, 2, 5, 13)
	compare(t, tolExact, func(in []*Node) []*Node { return []*Node{LogicalNot(in[0])} }, b)
}

func TestBinaryBroadcasting(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	pairs := [][2][]int{
		{{5, 13}, {5, 13}}, {{5, 1, 7}, {1, 3, 7}}, {{}, {3, 67, 5}}, {{3, 67, 5}, {}}, {{129, 65}, {129, 1}}, {{1}, {7}},
	}
	ops := []struct {
		name string
		fn   func(a, b *Node) *Node
		tol  float64
	}{
		{"Add", Add, tolArithmetic}, {"Sub", Sub, tolArithmetic}, {"Mul", Mul, tolArithmetic},
		{"Div", Div, tolArithmetic}, {"Max", Max, tolExact}, {"Min", Min, tolExact}, {"Pow", Pow, tolMath},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			for _, p := range pairs {
				lo := -3.0
				if op.name == "Pow" || op.name == "Div" {
					lo = 0.5
				}
				compare(t, op.tol, func(in []*Node) []*Node { return []*Node{op.fn(in[0], in[1])} },
					randTensor(rng, dtypes.Float32, lo, 3, p[0]...), randTensor(rng, dtypes.Float32, lo, 3, p[1]...))
			}
		})
	}
	t.Run("PowIntegerExponents", func(t *testing.T) {
		exps := tensors.FromValue([]float32{0, 1, 2, 3, 7, 20, -2, 100})
		compare(t, tolMath, func(in []*Node) []*Node {
			return []*Node{Pow(Scalar(in[0].Graph(), dtypes.Float32, 0.999), in[0]), Pow(Scalar(in[0].Graph(), dtypes.Float32, -1.5), in[0])}
		}, exps)
	})
	t.Run("Int32", func(t *testing.T) {
		a, b := randTensor(rng, dtypes.Int32, -100, 100, 5, 1, 7), randTensor(rng, dtypes.Int32, 1, 20, 1, 3, 7)
		compare(t, tolExact, func(in []*Node) []*Node {
			return []*Node{Add(in[0], in[1]), Sub(in[0], in[1]), Mul(in[0], in[1]), Div(in[0], in[1]), Max(in[0], in[1]), Min(in[0], in[1])}
		}, a, b)
	})
	t.Run("Int64", func(t *testing.T) {
		a := tensors.FromValue([][]int64{{1, -5, 1 << 40}, {math.MaxInt32, -1, 7}})
		b := tensors.FromValue([][]int64{{3, 4, -(1 << 33)}})
		compare(t, tolExact, func(in []*Node) []*Node {
			return []*Node{Add(in[0], in[1]), Sub(in[0], in[1]), ConvertDType(Add(in[0], in[1]), dtypes.Float32)}
		}, a, b)
	})
}

func TestComparisonsAndLogical(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 1))
	a, b := randTensor(rng, dtypes.Int32, -3, 3, 5, 1, 7), randTensor(rng, dtypes.Int32, -3, 3, 1, 3, 7)
	cmp := func(in []*Node) []*Node {
		return []*Node{Equal(in[0], in[1]), NotEqual(in[0], in[1]), GreaterThan(in[0], in[1]),
			GreaterOrEqual(in[0], in[1]), LessThan(in[0], in[1]), LessOrEqual(in[0], in[1])}
	}
	compare(t, tolExact, cmp, a, b)
	af, bf := randTensor(rng, dtypes.Float32, -3, 3, 3, 67, 5), randTensor(rng, dtypes.Float32, -3, 3, 3, 67, 5)
	compare(t, tolExact, cmp, af, bf)
	x, y := randTensor(rng, dtypes.Bool, 0, 2, 5, 13), randTensor(rng, dtypes.Bool, 0, 2, 5, 13)
	compare(t, tolExact, func(in []*Node) []*Node {
		return []*Node{LogicalAnd(in[0], in[1]), LogicalOr(in[0], in[1]), LogicalXor(in[0], in[1])}
	}, x, y)
}

func TestWhereAndClamp(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 1))
	cond := randTensor(rng, dtypes.Bool, 0, 2, 3, 67, 5)
	a, b := randTensor(rng, dtypes.Float32, -3, 3, 3, 67, 5), randTensor(rng, dtypes.Float32, -3, 3, 3, 67, 5)
	compare(t, tolExact, func(in []*Node) []*Node {
		g := in[0].Graph()
		return []*Node{
			Where(in[0], in[1], in[2]),
			Where(in[0], in[1], ScalarZero(g, dtypes.Float32)),
			Where(Const(g, true), in[1], in[2]),
			Where(in[0], ConvertDType(in[1], dtypes.Int32), ConvertDType(in[2], dtypes.Int32)),
			Clamp(Scalar(g, dtypes.Float32, -1), in[1], Scalar(g, dtypes.Float32, 1.5)),
		}
	}, cond, a, b)
}

func TestReductions(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 1))
	cases := []struct {
		dims []int
		axes [][]int
	}{
		{[]int{7}, [][]int{{0}}},
		{[]int{5, 13}, [][]int{{0}, {1}, {0, 1}}},
		{[]int{5, 130, 3}, [][]int{{1}, {0, 2}, {0, 1, 2}, {2}}}, // 130 and 390: the workgroup path
		{[]int{2, 3000}, [][]int{{1}, {0, 1}}},
		{[]int{1100, 70}, [][]int{{1}}}, // many outputs: one invocation each
	}
	for _, c := range cases {
		lo := -2.0
		if c.dims[len(c.dims)-1] > 1000 {
			lo = 0 // long sums: no cancellation, so that the summation order does not matter at 1e-5
		}
		x := randTensor(rng, dtypes.Float32, lo, 2, c.dims...)
		xi := randTensor(rng, dtypes.Int32, -50, 50, c.dims...)
		xb := randTensor(rng, dtypes.Bool, 0, 2, c.dims...)
		for _, axes := range c.axes {
			compare(t, tolSum, func(in []*Node) []*Node {
				return []*Node{ReduceSum(in[0], axes...), ReduceMax(in[0], axes...), ReduceMin(in[0], axes...)}
			}, x)
			compare(t, tolExact, func(in []*Node) []*Node {
				return []*Node{ReduceSum(in[0], axes...), ReduceMax(in[0], axes...), ReduceMin(in[0], axes...)}
			}, xi)
			compare(t, tolExact, func(in []*Node) []*Node {
				return []*Node{ReduceLogicalAnd(in[0], axes...), ReduceLogicalOr(in[0], axes...)}
			}, xb)
		}
	}
	small := randTensor(rng, dtypes.Float32, 0.5, 1.5, 4, 9)
	compare(t, tolSum, func(in []*Node) []*Node { return []*Node{ReduceMultiply(in[0], 1), ReduceAllMean(in[0])} }, small)
}

func TestDotGeneral(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 1))
	r := func(dims ...int) *tensors.Tensor { return randTensor(rng, dtypes.Float32, -1, 1, dims...) }
	t.Run("Matmul", func(t *testing.T) {
		compare(t, tolSum, func(in []*Node) []*Node { return []*Node{Dot(in[0], in[1])} }, r(37, 45), r(45, 29))
		compare(t, tolSum, func(in []*Node) []*Node { return []*Node{Dot(in[0], in[1])} }, r(130, 200), r(200, 67))
		compare(t, tolSum, func(in []*Node) []*Node { return []*Node{Dot(in[0], in[1])} }, r(1, 5), r(5, 1))
	})
	t.Run("Batched", func(t *testing.T) {
		compare(t, tolSum, func(in []*Node) []*Node {
			return []*Node{DotGeneral(in[0], []int{2}, []int{0}, in[1], []int{1}, []int{0})}
		}, r(3, 17, 70), r(3, 70, 9))
	})
	t.Run("TransposedOperands", func(t *testing.T) {
		// lhs contracted on its first axis, rhs on its last: read through strides.
		compare(t, tolSum, func(in []*Node) []*Node {
			return []*Node{DotGeneral(in[0], []int{0}, nil, in[1], []int{1}, nil)}
		}, r(45, 37), r(29, 45))
	})
	t.Run("NonMergeableAxes", func(t *testing.T) {
		// Batch axis in the middle, two contracting axes in reversed order: transposed first.
		compare(t, tolSum, func(in []*Node) []*Node {
			return []*Node{DotGeneral(in[0], []int{2, 0}, []int{1}, in[1], []int{0, 2}, []int{1})}
		}, r(4, 3, 5, 6), r(5, 3, 4, 7))
	})
	t.Run("Einsum", func(t *testing.T) {
		compare(t, tolSum, func(in []*Node) []*Node { return []*Node{Einsum("bsd,vd->bsv", in[0], in[1])} }, r(6, 10, 16), r(32, 16))
	})
}

func TestDataMovement(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	x := randTensor(rng, dtypes.Float32, -1, 1, 3, 4, 5)
	xi := randTensor(rng, dtypes.Int32, -100, 100, 3, 4, 5)
	move := func(in []*Node) []*Node {
		x := in[0]
		return []*Node{
			TransposeAllDims(x, 2, 0, 1),
			Transpose(x, 0, 2),
			BroadcastToDims(InsertAxes(ReduceSum(x, 1), 1), 3, 6, 5),
			BroadcastToDims(Reshape(x, 1, 3, 4, 5), 2, 3, 4, 5),
			Slice(x, AxisRange(1, 3), AxisRange().Stride(2), AxisRange(1, 5).Stride(3)),
			Concatenate([]*Node{x, Neg(x), Slice(x, AxisRange(), AxisRange(0, 1))}, 1),
			Reshape(x, 12, 5),
		}
	}
	compare(t, tolExact, move, x)
	compare(t, tolExact, func(in []*Node) []*Node {
		x := in[0]
		return []*Node{TransposeAllDims(x, 1, 2, 0), Concatenate([]*Node{x, x}, 2), Slice(x, AxisRange(2, 3))}
	}, xi)
	// Reverse (simplego lacks it).
	got := MustExecOnce(newWebGPU(t), func(x *Node) *Node { return Reverse(x, 0, 1) }, tensors.FromValue([][]int32{{1, 2, 3}, {4, 5, 6}}))
	require.Equal(t, [][]int32{{6, 5, 4}, {3, 2, 1}}, got.Value())
	// 64-bit values move as pairs of words.
	x64 := tensors.FromValue([][]int64{{1, 2, 3}, {-4, 5, 1 << 50}})
	compare(t, tolExact, func(in []*Node) []*Node {
		return []*Node{TransposeAllDims(in[0], 1, 0), BroadcastToDims(Slice(in[0], AxisRange(0, 1)), 3, 3)}
	}, x64)
}

func TestIotaAndConvert(t *testing.T) {
	compare(t, tolExact, func(in []*Node) []*Node {
		g := in[0].Graph()
		return []*Node{
			Add(Iota(g, shapes.Make(dtypes.Int32, 3, 67), 1), in[0]), Iota(g, shapes.Make(dtypes.Float32, 3, 67), 0),
		}
	}, tensors.FromValue(int32(1)))
	x := tensors.FromValue([]float32{0, 1.5, -2.7, 3e9, -1e-40, 1e-30, float32(math.Inf(-1)), 123456.789, -0.0})
	compare(t, tolExact, func(in []*Node) []*Node {
		x := in[0]
		return []*Node{
			ConvertDType(x, dtypes.Float64),
			ConvertDType(ConvertDType(x, dtypes.Float64), dtypes.Float32),
			ConvertDType(x, dtypes.Bool),
			ConvertDType(ConvertDType(x, dtypes.Bool), dtypes.Float32),
			ConvertDType(ConvertDType(x, dtypes.Bool), dtypes.Int32),
		}
	}, x)
	xi := tensors.FromValue([]int32{0, 1, -1, 7, 1 << 30, -(1 << 31), math.MaxInt32, 12345})
	compare(t, tolExact, func(in []*Node) []*Node {
		x := in[0]
		return []*Node{
			ConvertDType(x, dtypes.Float32), ConvertDType(x, dtypes.Float64), ConvertDType(x, dtypes.Int64),
			ConvertDType(ConvertDType(x, dtypes.Int64), dtypes.Int32), ConvertDType(x, dtypes.Bool),
		}
	}, xi)
	small := tensors.FromValue([]float32{0.5, 1.5, -2.5, 100.9, -7.2})
	compare(t, tolExact, func(in []*Node) []*Node { return []*Node{ConvertDType(in[0], dtypes.Int32)} }, small)
}

func TestGatherScatter(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 1))
	table := randTensor(rng, dtypes.Float32, -1, 1, 33, 16)
	ids := randTensor(rng, dtypes.Int32, 0, 33, 6, 10, 1)
	t.Run("Embedding", func(t *testing.T) {
		compare(t, tolExact, func(in []*Node) []*Node { return []*Node{Gather(in[0], in[1])} }, table, ids)
	})
	t.Run("PerPosition", func(t *testing.T) {
		// TokenLogProbs: logits[n, t, id[n, t]] with explicit (n, t, id) indices.
		logits := randTensor(rng, dtypes.Float32, -1, 1, 6, 10, 33)
		compare(t, tolExact, func(in []*Node) []*Node {
			g := in[0].Graph()
			idx := shapes.Make(dtypes.Int32, 6, 10, 1)
			indices := Concatenate([]*Node{Iota(g, idx, 0), Iota(g, idx, 1), in[1]}, -1)
			return []*Node{Gather(in[0], indices)}
		}, logits, ids)
	})
	t.Run("ScatterSum", func(t *testing.T) {
		updates := randTensor(rng, dtypes.Float32, -1, 1, 6, 10, 16)
		compare(t, tolSum, func(in []*Node) []*Node {
			return []*Node{ScatterSum(in[0], in[1], in[2], false, false)}
		}, table, ids, updates)
		updatesI := randTensor(rng, dtypes.Int32, -5, 5, 6, 10, 16)
		compare(t, tolExact, func(in []*Node) []*Node {
			return []*Node{ScatterSum(ConvertDType(in[0], dtypes.Int32), in[1], in[2], false, false)}
		}, table, ids, updatesI)
	})
	t.Run("Int64Indices", func(t *testing.T) {
		compare(t, tolExact, func(in []*Node) []*Node {
			return []*Node{Gather(in[0], ConvertDType(in[1], dtypes.Int64))}
		}, table, ids)
	})
}

func TestGradients(t *testing.T) {
	// The backward ops of an embedding + dense + log-softmax: Gather's gradient is a
	// ScatterSum, DotGeneral's a DotGeneral (or broadcast-multiply-reduce).
	rng := rand.New(rand.NewPCG(10, 1))
	table := randTensor(rng, dtypes.Float32, -1, 1, 33, 16)
	w := randTensor(rng, dtypes.Float32, -1, 1, 16, 33)
	ids := randTensor(rng, dtypes.Int32, 0, 33, 6, 10, 1)
	compare(t, tolSum, func(in []*Node) []*Node {
		h := Gather(in[0], in[2])
		logits := Einsum("bsd,dv->bsv", h, in[1])
		loss := ReduceAllMean(Neg(LogSoftmax(logits)))
		return append([]*Node{loss}, Gradient(loss, in[0], in[1])...)
	}, table, w, ids)
}

func TestNotImplementedOpNamesIt(t *testing.T) {
	wg := newWebGPU(t)
	x := tensors.FromValue([][]float32{{1, 2}, {3, 0}})
	_, err := MustNewExec(wg, func(x *Node) *Node { return ArgMax(x, 1) }).Exec(x)
	require.ErrorContains(t, err, "webgpu backend: op ArgMinMax not implemented")
	_, err = MustNewExec(wg, func(x *Node) *Node { i := ConvertDType(x, dtypes.Int64); return Mul(i, i) }).Exec(tensors.FromValue([]float32{1}))
	require.ErrorContains(t, err, "webgpu backend: op Mul not implemented for dtype Int64")
}

// TestFloat64Arithmetic covers the float64 ops of training graphs' scalar bookkeeping
// (learning-rate schedule, Adam's bias corrections), computed in float32 precision: the
// tolerance is float32's.
func TestFloat64Arithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 1))
	const tolF32 = 2e-6
	x := randTensor(rng, dtypes.Float64, 0.5, 3, 5, 13)
	y := randTensor(rng, dtypes.Float64, 0.5, 3, 5, 13)
	s := tensors.FromScalar(0.999)
	compare(t, tolF32, func(in []*Node) []*Node {
		a, b, c := in[0], in[1], in[2]
		return []*Node{Add(a, b), Sub(a, b), Mul(a, b), Div(a, b), Max(a, b), Min(a, b),
			Pow(c, a), Cos(a), Neg(a), Sqrt(a), Exp(a), AddScalar(a, 1), MulScalar(c, math.Pi),
			ConvertDType(LessThan(a, b), dtypes.Int32), Where(GreaterThan(a, b), a, c)}
	}, x, y, s)
}
