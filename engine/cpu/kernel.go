package cpu

import "fmt"

// microKernel computes an mr x nr tile of C from packed micro-panels of A (kc steps of mr
// values) and B (kc steps of nr values): C[i][j] (+)= sum_p a[p*mr+i] * b[p*nr+j], with rows
// of C ldc floats apart. It overwrites the tile unless accumulate is set.
type microKernel struct {
	name   string
	mr, nr int
	run    func(kc int, a, b, c *float32, ldc int, accumulate bool)
}

// kernels lists the micro-kernels this build and CPU can run, fastest first; the first
// one is the one in use.
var kernels []microKernel

// active is the kernel the GEMM uses.
var active microKernel

func init() {
	kernels = append(archKernels(), genericKernel)
	active = kernels[0]
}

// Kernel names the micro-kernel in use: "avx512", "avx2" or "generic".
func Kernel() string { return active.name }

// Kernels names the micro-kernels this build can run on this CPU, fastest first.
func Kernels() []string {
	names := make([]string, len(kernels))
	for i, k := range kernels {
		names[i] = k.name
	}
	return names
}

// kernelByName finds a runnable kernel (tests and benchmarks compare them).
func kernelByName(name string) (microKernel, error) {
	for _, k := range kernels {
		if k.name == name {
			return k, nil
		}
	}
	return microKernel{}, fmt.Errorf("cpu: kernel %q cannot run here (available: %v)", name, Kernels())
}

// genericKernel is the portable 4 x 4 kernel in plain Go: 16 scalar accumulators.
var genericKernel = microKernel{name: "generic", mr: 4, nr: 4, run: kernel4x4Go}
