package cpu

import (
	"sync"
	"sync/atomic"
)

// Matrix is a strided view of float32 data: element (i, j) is
// Data[Offset + i*RowStride + j*ColStride]. A row-major r x c matrix has RowStride c and
// ColStride 1; its transpose is the same data with the strides swapped (see T).
type Matrix struct {
	Data                 []float32
	Offset               int
	RowStride, ColStride int
}

// RowMajor views data as a row-major matrix with cols columns.
func RowMajor(data []float32, cols int) Matrix {
	return Matrix{Data: data, RowStride: cols, ColStride: 1}
}

// T is the transposed view (no copy).
func (x Matrix) T() Matrix {
	x.RowStride, x.ColStride = x.ColStride, x.RowStride
	return x
}

// at is element (i, j).
func (x Matrix) at(i, j int) float32 { return x.Data[x.Offset+i*x.RowStride+j*x.ColStride] }

// Block sizes of the packed GEMM: a kc x NR micro-panel of B (32 KiB for AVX-512's NR = 32)
// stays in L1 while the kernel runs down an mc x kc block of A (~150 KiB, in L2); the
// packed kc x nc block of B (up to 2 MiB) is shared by the cores, from L2/L3.
const (
	blockK = 256
	blockM = 144 // a multiple of every kernel's mr (12, 6, 4)
	blockN = 2048
	// unitCols is the width of the column strips a block of C is cut into when it has too
	// few row blocks to keep every core busy (a multiple of every nr).
	unitCols = 128
)

// packed holds the packed blocks of one (column block, contraction slice) step.
type packed struct{ a, b []float32 }

var packedPool = sync.Pool{New: func() any { return new(packed) }}

// tilePool holds the scratch tiles edge tiles are computed into (one per goroutine).
var tilePool = sync.Pool{New: func() any { t := make([]float32, 12*32); return &t }}

// grow returns buf with at least n elements.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// gemm computes C = A·B (A m x k, B k x n, C row-major with rows ldc apart, overwritten)
// with kernel kern on up to workers goroutines, the caller included. For each column
// block and contraction slice, the workers first pack A and B together (by micro-panels),
// then share out the units of C (a row block x a column strip).
func gemm(kern microKernel, m, n, k int, a, b Matrix, c []float32, ldc, workers int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	mr, nr := kern.mr, kern.nr
	ws := packedPool.Get().(*packed)
	defer packedPool.Put(ws)
	mPadded := roundUp(m, mr)
	aPanels := mPadded / mr
	rowBlocks := (m + blockM - 1) / blockM
	for jc := 0; jc < n; jc += blockN {
		nb := min(blockN, n-jc)
		bPanels := (nb + nr - 1) / nr
		colStrips := 1
		if rowBlocks < 3*workers && workers > 1 {
			colStrips = max(1, min((nb+unitCols-1)/unitCols, (3*workers+rowBlocks-1)/rowBlocks))
		}
		stripCols := roundUp((nb+colStrips-1)/colStrips, nr)
		colStrips = (nb + stripCols - 1) / stripCols
		for pc := 0; pc < k; pc += blockK {
			kb := min(blockK, k-pc)
			ws.a = grow(ws.a, mPadded*kb)
			ws.b = grow(ws.b, bPanels*nr*kb)
			parallelFor(aPanels+bPanels, workers, func(p int) {
				if p < aPanels {
					packA(ws.a[p*mr*kb:], a, p*mr, min(mr, m-p*mr), pc, kb, mr)
				} else {
					p -= aPanels
					packB(ws.b[p*nr*kb:], b, pc, kb, jc+p*nr, min(nr, nb-p*nr), nr)
				}
			})
			parallelFor(rowBlocks*colStrips, workers, func(u int) {
				ic, js := (u/colStrips)*blockM, (u%colStrips)*stripCols
				mb, ns := min(blockM, m-ic), min(stripCols, nb-js)
				macroKernel(kern, mb, ns, kb, ws.a[ic*kb:], ws.b[js*kb:], c[ic*ldc+jc+js:], ldc, pc > 0)
			})
		}
	}
}

// parallelFor calls fn(0..n-1) on up to workers goroutines (the caller is one of them),
// which take indices from a shared counter, and returns when all calls have returned.
func parallelFor(n, workers int, fn func(i int)) {
	if workers <= 1 || n <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	drain := func() {
		for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
			fn(i)
		}
	}
	helpers := min(workers, n) - 1
	var wg sync.WaitGroup
	wg.Add(helpers)
	for range helpers {
		go func() {
			defer wg.Done()
			drain()
		}()
	}
	drain()
	wg.Wait()
}

// macroKernel runs the micro-kernel over the tiles of an mb x nb block of C from packed
// A (micro-panels of mr rows) and B (micro-panels of nr columns). Edge tiles go through a
// scratch tile so the kernel never writes outside C.
func macroKernel(kern microKernel, mb, nb, kb int, pa, pb []float32, c []float32, ldc int, accumulate bool) {
	mr, nr := kern.mr, kern.nr
	var tile []float32
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		b := &pb[jr*kb]
		for ir := 0; ir < mb; ir += mr {
			rows := min(mr, mb-ir)
			a := &pa[ir*kb]
			if rows == mr && cols == nr {
				kern.run(kb, a, b, &c[ir*ldc+jr], ldc, accumulate)
				continue
			}
			if tile == nil {
				tp := tilePool.Get().(*[]float32)
				defer tilePool.Put(tp)
				tile = *tp
			}
			kern.run(kb, a, b, &tile[0], nr, false)
			for i := 0; i < rows; i++ {
				dst := c[(ir+i)*ldc+jr : (ir+i)*ldc+jr+cols]
				src := tile[i*nr : i*nr+cols]
				if accumulate {
					for j, v := range src {
						dst[j] += v
					}
				} else {
					copy(dst, src)
				}
			}
		}
	}
}

func roundUp(x, multiple int) int { return (x + multiple - 1) / multiple * multiple }
