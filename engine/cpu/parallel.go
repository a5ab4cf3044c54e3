package cpu

import "runtime"

// Batch describes a batch of products C[b] = A[b]·B[b]: A[b] is A shifted by b*AStride
// elements (or by AOffsets[b] when set: batch axes that are not one flat run), likewise
// B and C. C's items are row-major with rows LDC apart.
type Batch struct {
	Size               int // number of items (1 for a plain product)
	M, N, K            int
	A, B               Matrix
	AStride, BStride   int
	AOffsets, BOffsets []int
	C                  []float32
	LDC, CStride       int
}

// itemOffsets are the shifts of item b of A and B.
func (p Batch) itemOffsets(b int) (a, bb int) {
	a, bb = b*p.AStride, b*p.BStride
	if p.AOffsets != nil {
		a = p.AOffsets[b]
	}
	if p.BOffsets != nil {
		bb = p.BOffsets[b]
	}
	return a, bb
}

// MatMul computes C = A·B for A m x k and B k x n (any strides), C row-major m x n with
// rows ldc apart, on every core.
func MatMul(m, n, k int, a, b Matrix, c []float32, ldc int) {
	BatchMatMul(Batch{Size: 1, M: m, N: n, K: k, A: a, B: b, C: c, LDC: ldc})
}

// BatchMatMul computes every product of the batch with the kernel in use, on every core.
func BatchMatMul(p Batch) { batchMatMul(active, p, runtime.GOMAXPROCS(0)) }

// serialFLOPs is the work below which a call runs on the calling goroutine: starting
// goroutines and splitting costs a few microseconds.
const serialFLOPs = 1 << 17

// batchMatMul runs the batch's products with kernel kern on up to workers goroutines: one
// after another, each on every core, when the items are large or few; otherwise the items
// are shared out, each computed on one core.
func batchMatMul(kern microKernel, p Batch, workers int) {
	if p.Size == 0 || p.M == 0 || p.N == 0 {
		return
	}
	work := 2 * p.M * p.N * max(p.K, 1)
	if p.Size*work < serialFLOPs {
		workers = 1
	}
	item := func(b, workers int) {
		a, bm := p.A, p.B
		da, db := p.itemOffsets(b)
		a.Offset += da
		bm.Offset += db
		gemm(kern, p.M, p.N, p.K, a, bm, p.C[b*p.CStride:], p.LDC, workers)
	}
	if p.Size < 2*workers || work > 64*serialFLOPs {
		for b := 0; b < p.Size; b++ {
			item(b, workers)
		}
		return
	}
	parallelFor(p.Size, workers, func(b int) { item(b, 1) })
}
