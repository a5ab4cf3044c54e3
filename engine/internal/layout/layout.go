// Package layout holds the index arithmetic of row-major tensors that the engine's two
// backends share (the WebGPU one in engine/ and the CPU executors in engine/cpu): strides,
// and reading several axes as one.
package layout

// DenseStrides returns the row-major strides (in elements) of a tensor of dims: the last
// axis has stride 1.
func DenseStrides(dims []int) []int {
	strides := make([]int, len(dims))
	s := 1
	for d := len(dims) - 1; d >= 0; d-- {
		strides[d] = s
		s *= dims[d]
	}
	return strides
}

// MergeAxes reads axes (outermost first) of a tensor with the given dims and strides as one
// axis: its size (always) and stride, ok when each axis steps over exactly the next one
// (axes of size 1 aside), i.e. when no copy is needed to read them as one.
func MergeAxes(dims, strides, axes []int) (size, stride int, ok bool) {
	size, ok = 1, true
	prev := -1
	for _, a := range axes {
		size *= dims[a]
		if dims[a] == 1 {
			continue
		}
		if prev >= 0 && strides[prev] != strides[a]*dims[a] {
			ok = false
		}
		prev, stride = a, strides[a]
	}
	return size, stride, ok
}
