package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/dtypes/bfloat16"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// dotCase is a DotGeneral: operand dimensions and axes.
type dotCase struct {
	name                  string
	lhsDims, rhsDims      []int
	lhsContract, lhsBatch []int
	rhsContract, rhsBatch []int
}

var dotCases = []dotCase{
	{"matmul", []int{17, 33}, []int{33, 7}, []int{1}, nil, []int{0}, nil},
	{"vector", []int{1, 129}, []int{129, 1}, []int{1}, nil, []int{0}, nil},
	{"x_Wt", []int{2, 9, 65}, []int{31, 65}, []int{2}, nil, []int{1}, nil},
	{"xt_y (weight gradient)", []int{130, 19}, []int{130, 23}, []int{0}, nil, []int{0}, nil},
	{"batched attention", []int{3, 4, 17, 8}, []int{3, 4, 8, 17}, []int{3}, []int{0, 1}, []int{2}, []int{0, 1}},
	{"batched, both transposed", []int{8, 5, 13}, []int{21, 5, 8}, []int{0}, []int{1}, []int{2}, []int{1}},
	{"attention bshd,bthd->bhst (batch offsets)", []int{2, 5, 3, 4}, []int{2, 6, 3, 4}, []int{3}, []int{0, 2}, []int{3}, []int{0, 2}},
	{"axes out of order (copied)", []int{2, 5, 3, 4}, []int{4, 3, 2, 6}, []int{3, 0}, []int{2}, []int{0, 2}, []int{1}},
}

// referenceDotGeneral is DotGeneral in float64 by enumerating indices: output
// [batch..., lhs cross..., rhs cross...], and the sum of |products| per output.
func referenceDotGeneral(c dotCase, lhs, rhs []float32) (want, scale []float64) {
	kinds := func(rank int, batch, contract []int) (cross []int) {
		used := map[int]bool{}
		for _, a := range append(append([]int{}, batch...), contract...) {
			used[a] = true
		}
		for a := 0; a < rank; a++ {
			if !used[a] {
				cross = append(cross, a)
			}
		}
		return cross
	}
	lCross := kinds(len(c.lhsDims), c.lhsBatch, c.lhsContract)
	rCross := kinds(len(c.rhsDims), c.rhsBatch, c.rhsContract)
	flatIndex := func(dims []int, idx []int) int {
		f := 0
		for a, d := range dims {
			f = f*d + idx[a]
		}
		return f
	}
	// The output's axes, then the contracting ones: (operand, axis) pairs per position.
	var outDims, contractDims []int
	for _, a := range c.lhsBatch {
		outDims = append(outDims, c.lhsDims[a])
	}
	for _, a := range lCross {
		outDims = append(outDims, c.lhsDims[a])
	}
	for _, a := range rCross {
		outDims = append(outDims, c.rhsDims[a])
	}
	for _, a := range c.lhsContract {
		contractDims = append(contractDims, c.lhsDims[a])
	}
	size, csize := 1, 1
	for _, d := range outDims {
		size *= d
	}
	for _, d := range contractDims {
		csize *= d
	}
	want, scale = make([]float64, size), make([]float64, size)
	li, ri := make([]int, len(c.lhsDims)), make([]int, len(c.rhsDims))
	for o := 0; o < size; o++ {
		rem := o
		pos := make([]int, len(outDims))
		for j := len(outDims) - 1; j >= 0; j-- {
			pos[j], rem = rem%outDims[j], rem/outDims[j]
		}
		for j, a := range c.lhsBatch {
			li[a], ri[c.rhsBatch[j]] = pos[j], pos[j]
		}
		for j, a := range lCross {
			li[a] = pos[len(c.lhsBatch)+j]
		}
		for j, a := range rCross {
			ri[a] = pos[len(c.lhsBatch)+len(lCross)+j]
		}
		for k := 0; k < csize; k++ {
			rem := k
			for j := len(contractDims) - 1; j >= 0; j-- {
				li[c.lhsContract[j]], ri[c.rhsContract[j]] = rem%contractDims[j], rem%contractDims[j]
				rem /= contractDims[j]
			}
			p := float64(lhs[flatIndex(c.lhsDims, li)]) * float64(rhs[flatIndex(c.rhsDims, ri)])
			want[o] += p
			scale[o] += math.Abs(p)
		}
	}
	return want, scale
}

func randomFlat(rng *rand.Rand, dims []int) []float32 {
	n := 1
	for _, d := range dims {
		n *= d
	}
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.Float64()*2 - 1)
	}
	return x
}

func contractSize(c dotCase) int {
	k := 1
	for _, a := range c.lhsContract {
		k *= c.lhsDims[a]
	}
	return k
}

// TestGraphDotGeneralUsesFastPath runs DotGenerals of every layout through a GoMLX graph
// on the pure-Go backend: each must go through the hook (FastCalls grows by one) and
// match a float64 DotGeneral to the f32 rounding bound.
func TestGraphDotGeneralUsesFastPath(t *testing.T) {
	if !Installed() {
		t.Fatalf("hook not installed: %v", Install())
	}
	backend, err := backends.NewWithConfig("go")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range dotCases {
		t.Run(c.name, func(t *testing.T) {
			lhs, rhs := randomFlat(rng, c.lhsDims), randomFlat(rng, c.rhsDims)
			exec, err := graph.NewExec(backend, func(x, y *graph.Node) *graph.Node {
				return graph.DotGeneral(x, c.lhsContract, c.lhsBatch, y, c.rhsContract, c.rhsBatch)
			})
			if err != nil {
				t.Fatal(err)
			}
			defer exec.Finalize()
			before := FastCalls()
			outs, err := exec.Exec(tensors.FromFlatDataAndDimensions(lhs, c.lhsDims...), tensors.FromFlatDataAndDimensions(rhs, c.rhsDims...))
			if err != nil {
				t.Fatal(err)
			}
			if calls := FastCalls() - before; calls != 1 {
				t.Fatalf("the fast DotGeneral ran %d times, want 1 (kernel %s)", calls, Kernel())
			}
			got := tensors.MustCopyFlatData[float32](outs[0])
			want, scale := referenceDotGeneral(c, lhs, rhs)
			checkProduct(t, got, len(got), 1, len(got), contractSize(c), want, scale)
		})
	}
}

// TestGraphDotGeneralBF16 : bfloat16 DotGenerals take the fast path too (f32 GEMM, the
// product rounded to bf16 as simplego does) and match the float64 product of the
// bf16-rounded inputs to bf16's precision.
func TestGraphDotGeneralBF16(t *testing.T) {
	backend, err := backends.NewWithConfig("go")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	rng := rand.New(rand.NewPCG(9, 10))
	c := dotCases[4] // batched attention
	lhs, rhs := randomFlat(rng, c.lhsDims), randomFlat(rng, c.rhsDims)
	for _, x := range [][]float32{lhs, rhs} { // the inputs as bf16 sees them
		for i, v := range x {
			x[i] = bfloat16.FromFloat32(v).Float32()
		}
	}
	exec, err := graph.NewExec(backend, func(x, y *graph.Node) *graph.Node {
		p := graph.DotGeneral(graph.ConvertDType(x, dtypes.BFloat16), c.lhsContract, c.lhsBatch,
			graph.ConvertDType(y, dtypes.BFloat16), c.rhsContract, c.rhsBatch)
		return graph.ConvertDType(p, dtypes.Float32)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	before := FastCalls()
	outs, err := exec.Exec(tensors.FromFlatDataAndDimensions(lhs, c.lhsDims...), tensors.FromFlatDataAndDimensions(rhs, c.rhsDims...))
	if err != nil {
		t.Fatal(err)
	}
	if calls := FastCalls() - before; calls != 1 {
		t.Fatalf("the fast DotGeneral ran %d times for a bf16 product, want 1", calls)
	}
	got := tensors.MustCopyFlatData[float32](outs[0])
	want, scale := referenceDotGeneral(c, lhs, rhs)
	for i := range got {
		// f32 accumulation, then truncation to bf16's 8 significant bits (2^-7 relative).
		if d := math.Abs(float64(got[i]) - want[i]); d > math.Pow(2, -7)*math.Abs(want[i])+1e-5*scale[i] {
			t.Fatalf("out[%d] = %g, want %g", i, got[i], want[i])
		}
	}
}

// TestGraphDotGeneralFloat64FallsBack: float64 DotGenerals go to GoMLX's executor (the
// counter stays) and still compute the product.
func TestGraphDotGeneralFloat64FallsBack(t *testing.T) {
	backend, err := backends.NewWithConfig("go")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	rng := rand.New(rand.NewPCG(11, 12))
	c := dotCases[2]
	lhs, rhs := randomFlat(rng, c.lhsDims), randomFlat(rng, c.rhsDims)
	exec, err := graph.NewExec(backend, func(x, y *graph.Node) *graph.Node {
		p := graph.DotGeneral(graph.ConvertDType(x, dtypes.Float64), c.lhsContract, c.lhsBatch,
			graph.ConvertDType(y, dtypes.Float64), c.rhsContract, c.rhsBatch)
		return p
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	before := FastCalls()
	outs, err := exec.Exec(tensors.FromFlatDataAndDimensions(lhs, c.lhsDims...), tensors.FromFlatDataAndDimensions(rhs, c.rhsDims...))
	if err != nil {
		t.Fatal(err)
	}
	if calls := FastCalls() - before; calls != 0 {
		t.Fatalf("a float64 DotGeneral went through the f32 fast path %d times", calls)
	}
	got := tensors.MustCopyFlatData[float64](outs[0])
	want, scale := referenceDotGeneral(c, lhs, rhs)
	for i := range got {
		if d := math.Abs(got[i] - want[i]); d > 1e-12*scale[i] {
			t.Fatalf("out[%d] = %g, want %g", i, got[i], want[i])
		}
	}
}

// TestGraphErf: the Erf executor computes math.Erf per element, for f32 and f64, also
// for inputs large enough to be split over the cores.
func TestGraphErf(t *testing.T) {
	backend, err := backends.NewWithConfig("go")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	rng := rand.New(rand.NewPCG(13, 14))
	x := randomFlat(rng, []int{3*erfChunk + 5})
	for i := range x {
		x[i] *= 3
	}
	for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
		exec, err := graph.NewExec(backend, func(v *graph.Node) *graph.Node {
			return graph.ConvertDType(graph.Erf(graph.ConvertDType(v, dtype)), dtypes.Float64)
		})
		if err != nil {
			t.Fatal(err)
		}
		outs, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, len(x)))
		if err != nil {
			t.Fatal(err)
		}
		got := tensors.MustCopyFlatData[float64](outs[0])
		for i, v := range x {
			want := math.Erf(float64(v))
			if dtype == dtypes.Float32 {
				want = float64(float32(want))
			}
			if got[i] != want {
				t.Fatalf("%s: erf(%g) = %g, want %g", dtype, v, got[i], want)
			}
		}
		exec.Finalize()
	}
}

// TestDotGeneralBatchErrors: mismatched operands are refused with the sizes named.
func TestDotGeneralBatchErrors(t *testing.T) {
	x := operand{dims: []int{3, 4}, data: make([]float32, 12)}
	y := operand{dims: []int{5, 2}, data: make([]float32, 10)}
	for _, tc := range []struct {
		lc, lb, rc, rb []int
	}{{[]int{1}, nil, []int{0}, nil}, {[]int{1, 1}, nil, []int{0, 1}, nil}, {[]int{2}, nil, []int{0}, nil}, {[]int{1}, nil, nil, nil}} {
		if _, err := dotGeneralBatch(x, tc.lc, tc.lb, y, tc.rc, tc.rb); err == nil {
			t.Errorf("%v: no error", tc)
		} else {
			t.Log(fmt.Sprint(tc), ": ", err)
		}
	}
}

// TestGroupAxesAvoidsCopies: transposed operands and split batch axes are read in place
// (strides, per-item offsets); only a contraction whose axes are out of order is copied.
func TestGroupAxesAvoidsCopies(t *testing.T) {
	x := operand{dims: []int{2, 5, 3, 4}, data: make([]float32, 120)}
	for _, c := range []struct {
		batch, contract []int
		copied, offsets bool
	}{
		{[]int{0, 2}, []int{3}, false, true},
		{[]int{0}, []int{1}, false, false},
		{nil, []int{0, 1}, false, false},
		{[]int{2}, []int{3, 0}, true, false},
	} {
		g, err := groupAxes(x, c.batch, c.contract)
		if err != nil {
			t.Fatal(err)
		}
		if copied := &g.data[0] != &x.data[0]; copied != c.copied || (g.batchOffsets != nil) != c.offsets {
			t.Errorf("batch %v contracting %v: copied %v, offsets %v; want %v, %v", c.batch, c.contract, copied, g.batchOffsets != nil, c.copied, c.offsets)
		}
	}
}
