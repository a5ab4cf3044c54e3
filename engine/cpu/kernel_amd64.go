//go:build amd64 && !purego

package cpu

import "golang.org/x/sys/cpu"

//go:noescape
func kernel12x32AVX512(kc int, a, b, c *float32, ldc int, accumulate bool)

//go:noescape
func kernel6x16AVX2(kc int, a, b, c *float32, ldc int, accumulate bool)

// archKernels are the assembly kernels of kernels_amd64.s this CPU (and OS: the feature
// bits include the OS's saving of the vector registers) can run, fastest first.
func archKernels() []microKernel {
	var ks []microKernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, microKernel{name: "avx512", mr: 12, nr: 32, run: kernel12x32AVX512})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, microKernel{name: "avx2", mr: 6, nr: 16, run: kernel6x16AVX2})
	}
	return ks
}
