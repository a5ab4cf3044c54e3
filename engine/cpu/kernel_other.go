//go:build !amd64 || purego

package cpu

// archKernels: no assembly kernels outside amd64; the portable one runs.
func archKernels() []microKernel { return nil }
