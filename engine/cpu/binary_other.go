//go:build !amd64 || purego

package cpu

import "github.com/gomlx/gomlx/backends"

// vectorBinary is false: binaryRow's Go loops do every element outside amd64.
const vectorBinary = false

// binaryVector does nothing here.
func binaryVector(op backends.OpType, out, l []float32, ls int, r []float32, rs int) int {
	return 0
}
