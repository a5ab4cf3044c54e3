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
