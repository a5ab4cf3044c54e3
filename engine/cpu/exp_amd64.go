//go:build amd64 && !purego

package cpu

import "golang.org/x/sys/cpu"

// expAVX2 sets dst[i] = e^src[i] for i < n, a multiple of 4 (exp_amd64.s).
//
//go:noescape
func expAVX2(dst, src *float32, n int)

// logisticAVX2 sets dst[i] = 1/(1+e^-src[i]) for i < n, a multiple of 4, with
// execLogistic's float32 formula (exp_amd64.s).
//
//go:noescape
func logisticAVX2(dst, src *float32, n int)

// vectorExp reports whether expAVX2 can run here (AVX2 and FMA, saved by the OS).
var vectorExp = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// expVector runs expAVX2 over the first len(src) &^ 3 elements and returns how many.
func expVector(dst, src []float32) int {
	n := min(len(dst), len(src)) &^ 3
	if !vectorExp || n == 0 {
		return 0
	}
	expAVX2(&dst[0], &src[0], n)
	return n
}

// logisticVector runs logisticAVX2 over the first len(src) &^ 3 elements and returns how
// many.
func logisticVector(dst, src []float32) int {
	n := min(len(dst), len(src)) &^ 3
	if !vectorExp || n == 0 {
		return 0
	}
	logisticAVX2(&dst[0], &src[0], n)
	return n
}
