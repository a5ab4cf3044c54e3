//go:build !amd64 || purego

package cpu

// vectorExp is false: no vector exp outside amd64.
const vectorExp = false

// expVector computes nothing here; expSlice does every element with exp32.
func expVector(dst, src []float32) int { return 0 }

// logisticVector computes nothing here; logisticSlice does every element in Go.
func logisticVector(dst, src []float32) int { return 0 }
