package cpu

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// BenchmarkMatMul reports GFLOP/s of square f32 products for every kernel, on all cores.
func BenchmarkMatMul(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, size := range []int{256, 1024, 2048} {
		x := randomMatrix(rng, size, size, false)
		y := randomMatrix(rng, size, size, false)
		c := make([]float32, size*size)
		for _, kern := range kernels {
			b.Run(fmt.Sprintf("%s/%d", kern.name, size), func(b *testing.B) {
				p := Batch{Size: 1, M: size, N: size, K: size, A: x, B: y, C: c, LDC: size}
				for b.Loop() {
					batchMatMul(kern, p, benchWorkers)
				}
				b.ReportMetric(2*float64(size*size*size)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkMicroKernel reports one core's GFLOP/s of each micro-kernel on packed panels
// that stay in L1: the ceiling the GEMM can reach.
func BenchmarkMicroKernel(b *testing.B) {
	const kc = 256
	for _, kern := range kernels {
		pa := make([]float32, kern.mr*kc)
		pb := make([]float32, kern.nr*kc)
		c := make([]float32, kern.mr*kern.nr)
		b.Run(kern.name, func(b *testing.B) {
			for b.Loop() {
				kern.run(kc, &pa[0], &pb[0], &c[0], kern.nr, true)
			}
			b.ReportMetric(2*float64(kern.mr*kern.nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

var benchWorkers = runtime.GOMAXPROCS(0)

// BenchmarkAttentionShapes reports GFLOP/s of the tiny model's batched attention products
// (64 items of 64 x 64 x 32) and of a projection (1024 x 256 x 256), where packing weighs
// more than in large squares.
func BenchmarkAttentionShapes(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, s := range []struct{ batch, m, n, k int }{{64, 64, 64, 32}, {64, 64, 32, 64}, {1, 1024, 256, 256}} {
		x := randomMatrix(rng, s.batch*s.m, s.k, false)
		y := randomMatrix(rng, s.k, s.batch*s.n, true)
		c := make([]float32, s.batch*s.m*s.n)
		b.Run(fmt.Sprintf("%dx%dx%dx%d", s.batch, s.m, s.n, s.k), func(b *testing.B) {
			p := Batch{Size: s.batch, M: s.m, N: s.n, K: s.k, A: x, AStride: s.m * s.k, B: y, BStride: s.n * s.k, C: c, LDC: s.n, CStride: s.m * s.n}
			for b.Loop() {
				batchMatMul(active, p, benchWorkers)
			}
			b.ReportMetric(2*float64(s.batch*s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
