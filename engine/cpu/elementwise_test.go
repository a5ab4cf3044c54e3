package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// runBoth executes a graph of float32 inputs with GoMLX's executors (Uninstall) and then
// with the package's (Install), and returns both outputs and how many ops of type op the
// package's executors ran.
func runBoth(t *testing.T, op backends.OpType, fn func(x, y *graph.Node) *graph.Node, x, y hostTensor) (gomlx, ours []float32, ran int64) {
	t.Helper()
	backend, err := backends.NewWithConfig("go")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	exec, err := graph.NewExec(backend, fn)
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	run := func() []float32 {
		outs, err := exec.Exec(x.tensor(), y.tensor())
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[float32](outs[0])
	}
	Uninstall()
	gomlx = run()
	if err := Install(); err != nil {
		t.Fatal(err)
	}
	before := OpCalls(op)
	ours = run()
	return gomlx, ours, OpCalls(op) - before
}

// hostTensor is a tensor's data, made into a fresh tensor per execution (an executed
// tensor belongs to its backend).
type hostTensor struct {
	flat []float32
	dims []int
}

func (h hostTensor) tensor() *tensors.Tensor {
	if len(h.dims) == 0 {
		return tensors.FromScalar(h.flat[0])
	}
	return tensors.FromFlatDataAndDimensions(h.flat, h.dims...)
}

var zero = hostTensor{flat: []float32{0}}

func randomTensor(rng *rand.Rand, dims ...int) hostTensor {
	x := randomFlat(rng, dims)
	for i := range x {
		x[i] += 1.5 // away from zero: divisions stay finite
	}
	return hostTensor{x, dims}
}

// TestBinaryOpsMatchGoMLX: Add, Sub, Mul, Div with equal shapes, broadcast axes (inner,
// outer, middle), scalars on either side, large enough to split over cores, give
// exactly GoMLX's values and run through the hook.
func TestBinaryOpsMatchGoMLX(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	ops := []struct {
		op backends.OpType
		fn func(x, y *graph.Node) *graph.Node
	}{{backends.OpTypeAdd, graph.Add}, {backends.OpTypeSub, graph.Sub}, {backends.OpTypeMul, graph.Mul}, {backends.OpTypeDiv, graph.Div}}
	shapes := [][2][]int{
		{{2, 40001}, {2, 40001}}, {{3, 5, 1}, {3, 5, 7}}, {{3, 1, 7}, {3, 5, 7}}, {{1, 70000}, {2, 70000}},
		{{4, 33000, 1}, {4, 33000, 1}}, {{}, {5, 3}}, {{6, 4}, {}},
		{{3, 1, 4, 5}, {3, 6, 4, 5}}, {{2, 3, 1, 1}, {2, 3, 4, 5}}, {{1, 1}, {1, 1}},
	}
	for _, o := range ops {
		for _, s := range shapes {
			t.Run(fmt.Sprintf("%s/%v_%v", o.op, s[0], s[1]), func(t *testing.T) {
				x, y := randomTensor(rng, s[0]...), randomTensor(rng, s[1]...)
				want, got, ran := runBoth(t, o.op, o.fn, x, y)
				if ran != 1 {
					t.Fatalf("the hook ran %d %s ops, want 1", ran, o.op)
				}
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("out[%d] = %g, GoMLX %g", i, got[i], want[i])
					}
				}
			})
		}
	}
}

// TestReduceMatchesGoMLX: ReduceSum and ReduceMax over inner, outer, middle and all axes
// give GoMLX's values (sums within rounding of a sum of |x|, maxima exactly); axes that
// are not adjacent go to GoMLX's executor and still give its values.
func TestReduceMatchesGoMLX(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	dims := []int{6, 37, 1100}
	for _, axes := range [][]int{{2}, {0}, {1}, {0, 1}, {1, 2}, {0, 1, 2}, {0, 2}} {
		for _, op := range []backends.OpType{backends.OpTypeReduceSum, backends.OpTypeReduceMax} {
			t.Run(fmt.Sprintf("%s/%v", op, axes), func(t *testing.T) {
				x := randomTensor(rng, dims...)
				fn := func(x, _ *graph.Node) *graph.Node {
					if op == backends.OpTypeReduceMax {
						return graph.ReduceMax(x, axes...)
					}
					return graph.ReduceSum(x, axes...)
				}
				_, scale, _ := runBoth(t, backends.OpTypeReduceSum, func(x, _ *graph.Node) *graph.Node {
					return graph.ReduceSum(graph.Abs(x), axes...)
				}, x, zero)
				want, got, ran := runBoth(t, op, fn, x, zero)
				adjacent := len(axes) == 1 || axes[1] == axes[0]+1
				if adjacent != (ran == 1) {
					t.Fatalf("the hook ran %d %s ops for axes %v", ran, op, axes)
				}
				reduced := 1
				for _, a := range axes {
					reduced *= dims[a]
				}
				for i := range want {
					bound := 0.0
					if op == backends.OpTypeReduceSum {
						bound = 2 * float64(reduced) * math.Pow(2, -24) * float64(scale[i])
					}
					if d := math.Abs(float64(got[i]) - float64(want[i])); d > bound {
						t.Fatalf("out[%d] = %g, GoMLX %g (bound %g)", i, got[i], want[i], bound)
					}
				}
			})
		}
	}
}

// TestExpMatchesGoMLX: Exp gives GoMLX's values to within one ulp (exp32) on every core.
func TestExpMatchesGoMLX(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	x := randomTensor(rng, 3, 50000)
	want, got, ran := runBoth(t, backends.OpTypeExp, func(x, _ *graph.Node) *graph.Node { return graph.Exp(x) }, x, zero)
	if ran != 1 {
		t.Fatalf("the hook ran %d Exp ops, want 1", ran)
	}
	for i := range want {
		if ulps(got[i], want[i]) > 1 {
			t.Fatalf("exp: out[%d] = %g, GoMLX %g", i, got[i], want[i])
		}
	}
}

// TestBroadcastAndLogisticMatchGoMLX: BroadcastInDim (new leading, middle and trailing
// axes, axes of size 1 widened, scalars), Transpose (last axis kept or moved) and
// Logistic (both branches of its formula; within 2 ulp, it computes in float32) give
// GoMLX's values through the hook.
func TestBroadcastAndLogisticMatchGoMLX(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	cases := []struct {
		name string
		x    hostTensor
		op   backends.OpType
		fn   func(x, _ *graph.Node) *graph.Node
	}{
		{"prefix", randomTensor(rng, 5, 7), backends.OpTypeBroadcastInDim,
			func(x, _ *graph.Node) *graph.Node { return graph.BroadcastPrefix(x, 3, 2) }},
		{"widen size-1 axes", randomTensor(rng, 4, 1, 9, 1), backends.OpTypeBroadcastInDim,
			func(x, _ *graph.Node) *graph.Node { return graph.BroadcastToDims(x, 4, 3, 9, 2000) }},
		{"expand middle and last", randomTensor(rng, 6, 5), backends.OpTypeBroadcastInDim,
			func(x, _ *graph.Node) *graph.Node {
				return graph.ExpandAndBroadcast(x, []int{6, 3000, 5, 4}, []int{1, 3})
			}},
		{"scalar", randomTensor(rng), backends.OpTypeBroadcastInDim,
			func(x, _ *graph.Node) *graph.Node { return graph.BroadcastToDims(graph.Reshape(x, 1, 1), 300, 301) }},
		{"transpose 0213", randomTensor(rng, 3, 50, 7, 40), backends.OpTypeTranspose,
			func(x, _ *graph.Node) *graph.Node { return graph.TransposeAllDims(x, 0, 2, 1, 3) }},
		{"transpose last axis moved", randomTensor(rng, 3, 50, 7, 40), backends.OpTypeTranspose,
			func(x, _ *graph.Node) *graph.Node { return graph.TransposeAllDims(x, 3, 0, 2, 1) }},
		{"transpose 2D", randomTensor(rng, 300, 257), backends.OpTypeTranspose,
			func(x, _ *graph.Node) *graph.Node { return graph.Transpose(x, 0, 1) }},
		{"logistic", func() hostTensor {
			h := randomTensor(rng, 3, 40000)
			for i := range h.flat {
				h.flat[i] = (h.flat[i] - 1.5) * 20 // both signs, saturating ends
			}
			return h
		}(), backends.OpTypeLogistic, func(x, _ *graph.Node) *graph.Node { return graph.Logistic(x) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, got, ran := runBoth(t, c.op, c.fn, c.x, zero)
			if ran < 1 {
				t.Fatalf("the hook ran no %s op", c.op)
			}
			if len(got) != len(want) {
				t.Fatalf("%d values, GoMLX %d", len(got), len(want))
			}
			tolerance := int64(0)
			if c.op == backends.OpTypeLogistic {
				tolerance = 2
			}
			for i := range want {
				if ulps(got[i], want[i]) > tolerance {
					t.Fatalf("out[%d] = %g, GoMLX %g", i, got[i], want[i])
				}
			}
		})
	}
}

// TestElementwiseChainsInPlace: in a chain of element-wise ops the intermediates are the
// ops' own (last use), so the hooks overwrite them in place; values used twice must not
// be. The chain gives GoMLX's values (to exp32's ulp).
func TestElementwiseChainsInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	x, y := randomTensor(rng, 7, 9000), randomTensor(rng, 7, 1)
	chain := func(x, y *graph.Node) *graph.Node {
		a := graph.Sub(x, y)                                               // broadcast; a is used twice below
		b := graph.Exp(graph.Mul(a, graph.Const(x.Graph(), float32(0.1)))) // owned chain
		c := graph.Div(graph.Logistic(b), graph.Add(a, graph.Abs(a)))
		return graph.Add(graph.Mul(c, b), a)
	}
	want, got, ran := runBoth(t, backends.OpTypeMul, chain, x, y)
	if ran != 2 {
		t.Fatalf("the hook ran %d Mul ops, want 2", ran)
	}
	for i := range want { // exp32 and the float32 logistic are within 2 ulp; the rest exact
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-6*math.Abs(float64(want[i])) && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(want[i]))) {
			t.Fatalf("out[%d] = %g, GoMLX %g", i, got[i], want[i])
		}
	}
}

// TestCoalesceAxes: axes an op walks as one are merged (equal shapes become one row, a
// broadcast block stays a separate axis), length-1 axes dropped, so element-wise ops run
// over long rows; a transposed operand keeps its axes apart.
func TestCoalesceAxes(t *testing.T) {
	cases := []struct {
		dims, wantDims       []int
		strides, wantStrides [][]int
	}{
		{[]int{2, 3, 4}, []int{24}, [][]int{{12, 4, 1}, {12, 4, 1}}, [][]int{{1}, {1}}},
		{[]int{2, 3, 4}, []int{6, 4}, [][]int{{12, 4, 1}, {3, 1, 0}}, [][]int{{4, 1}, {1, 0}}},
		{[]int{2, 3, 4}, []int{2, 12}, [][]int{{12, 4, 1}, {0, 4, 1}}, [][]int{{12, 1}, {0, 1}}},
		{[]int{3, 1, 5}, []int{15}, [][]int{{5, 0, 1}}, [][]int{{1}}},
		{[]int{4, 6}, []int{4, 6}, [][]int{{1, 4}}, [][]int{{1, 4}}}, // a transpose
		{[]int{1, 1}, []int{1}, [][]int{{0, 0}, {1, 1}}, [][]int{{0}, {0}}},
	}
	for _, c := range cases {
		dims, strides := coalesceAxes(c.dims, c.strides)
		if fmt.Sprint(dims, strides) != fmt.Sprint(c.wantDims, c.wantStrides) {
			t.Errorf("coalesceAxes(%v, %v) = %v, %v; want %v, %v", c.dims, c.strides, dims, strides, c.wantDims, c.wantStrides)
		}
	}
}
