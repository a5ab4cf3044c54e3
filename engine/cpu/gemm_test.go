package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randomMatrix is a rows x cols matrix with values in [-1, 1), stored row-major or, when
// transposed, column-major (the view's strides say which), inside a larger buffer at an
// offset so that packing must honour Offset.
func randomMatrix(rng *rand.Rand, rows, cols int, transposed bool) Matrix {
	const offset = 3
	data := make([]float32, offset+rows*cols)
	for i := range data {
		data[i] = float32(rng.Float64()*2 - 1)
	}
	if transposed {
		return Matrix{Data: data, Offset: offset, RowStride: 1, ColStride: rows}
	}
	return Matrix{Data: data, Offset: offset, RowStride: cols, ColStride: 1}
}

// referenceProduct is A·B in float64, and sum |a||b| per element (the scale of the
// rounding error).
func referenceProduct(m, n, k int, a, b Matrix) (want, scale []float64) {
	want, scale = make([]float64, m*n), make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, abs float64
			for p := 0; p < k; p++ {
				x, y := float64(a.at(i, p)), float64(b.at(p, j))
				s += x * y
				abs += math.Abs(x * y)
			}
			want[i*n+j], scale[i*n+j] = s, abs
		}
	}
	return want, scale
}

// checkProduct fails unless got is within the float32 rounding bound of a k-term sum,
// k * 2^-24 * sum|a||b| (with a factor 2 of slack), of the float64 product.
func checkProduct(t *testing.T, got []float32, ldc, m, n, k int, want, scale []float64) {
	t.Helper()
	eps := math.Pow(2, -24)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			g, w := float64(got[i*ldc+j]), want[i*n+j]
			bound := 2*float64(k+1)*eps*scale[i*n+j] + 1e-30
			if math.Abs(g-w) > bound || math.IsNaN(g) {
				t.Fatalf("C[%d][%d] = %g, want %g (bound %.3g)", i, j, g, w, bound)
			}
		}
	}
}

var oddSizes = [][3]int{{1, 1, 1}, {1, 7, 17}, {7, 1, 33}, {17, 33, 7}, {33, 17, 129}, {129, 33, 1},
	{13, 31, 257}, {25, 65, 300}, {145, 70, 513}, {300, 2100, 20}}

// TestKernelsMatchFloat64 runs every kernel this CPU can run (avx512, avx2, generic)
// directly, serially and split over 3 workers, on odd shapes with plain and transposed
// operands, against a float64 product.
func TestKernelsMatchFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	t.Logf("kernels here: %v (in use: %s)", Kernels(), Kernel())
	for _, kern := range kernels {
		for _, s := range oddSizes {
			m, n, k := s[0], s[1], s[2]
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				a := randomMatrix(rng, m, k, tr[0])
				b := randomMatrix(rng, k, n, tr[1])
				want, scale := referenceProduct(m, n, k, a, b)
				for _, workers := range []int{1, 3} {
					t.Run(fmt.Sprintf("%s/%dx%dx%d/transA=%v,transB=%v/workers=%d", kern.name, m, n, k, tr[0], tr[1], workers), func(t *testing.T) {
						ldc := n + 5 // C's rows need not be packed
						c := make([]float32, m*ldc)
						for i := range c {
							c[i] = float32(math.NaN()) // overwritten, not accumulated into
						}
						batchMatMul(kern, Batch{Size: 1, M: m, N: n, K: k, A: a, B: b, C: c, LDC: ldc}, workers)
						checkProduct(t, c, ldc, m, n, k, want, scale)
					})
				}
			}
		}
	}
}

// TestBatchMatMul checks batched products (item strides, a strided C) for every kernel.
func TestBatchMatMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const batch, m, n, k = 5, 19, 37, 45
	a := randomMatrix(rng, batch*m, k, false)
	b := randomMatrix(rng, k, batch*n, true) // item b: columns [b*n, (b+1)*n) of a transposed B
	for _, kern := range kernels {
		c := make([]float32, batch*m*n)
		batchMatMul(kern, Batch{Size: batch, M: m, N: n, K: k, A: a, AStride: m * k, B: b, BStride: n * k,
			C: c, LDC: n, CStride: m * n}, 2)
		for it := 0; it < batch; it++ {
			ai, bi := a, b
			ai.Offset += it * m * k
			bi.Offset += it * n * k
			want, scale := referenceProduct(m, n, k, ai, bi)
			t.Run(fmt.Sprintf("%s/item%d", kern.name, it), func(t *testing.T) {
				checkProduct(t, c[it*m*n:], n, m, n, k, want, scale)
			})
		}
	}
}

// TestKernelDispatch fails if the CPU dispatch picked a slower kernel than the CPU can run.
func TestKernelDispatch(t *testing.T) {
	want := archKernels()
	if len(want) > 0 && Kernel() != want[0].name {
		t.Fatalf("kernel in use %s, but this CPU runs %s", Kernel(), want[0].name)
	}
	if len(want) == 0 && Kernel() != "generic" {
		t.Fatalf("kernel in use %s without assembly kernels", Kernel())
	}
	if _, err := kernelByName("nonesuch"); err == nil {
		t.Fatal("kernelByName accepted an unknown kernel")
	}
}
