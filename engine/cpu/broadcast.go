package cpu

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// execBroadcastInDim broadcasts a float32 operand to the node's shape (data: the output
// axis of each operand axis), row by row on every core: copies of simplego's values.
func execBroadcastInDim(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error) {
	axes, isAxes := nodeData(node).([]int)
	flats, dims, ok := float32Inputs(backend, inputs)
	outDims := nodeShape(node).Dimensions
	if !ok || !isAxes || len(flats) != 1 || nodeShape(node).DType != dtypes.Float32 || (len(flats[0]) > 1 && len(axes) != len(dims[0])) {
		return gomlxBroadcastInDim(backend, node, inputs, inputsOwned)
	}
	strides := make([]int, len(outDims))
	if len(flats[0]) > 1 {
		step := 1
		for i := len(axes) - 1; i >= 0; i-- {
			a := axes[i]
			if a < 0 || a >= len(outDims) || (dims[0][i] != outDims[a] && dims[0][i] != 1) {
				return gomlxBroadcastInDim(backend, node, inputs, inputsOwned)
			}
			if dims[0][i] != 1 {
				strides[a] = step
			}
			step *= dims[0][i]
		}
	}
	out, dst, err := newFloat32Output(backend, node)
	if err != nil {
		return nil, err
	}
	src := flats[0]
	forRows(outDims, [][]int{strides}, func(row, offsets, inner []int) {
		d := dst[row[0]:row[1]]
		if inner[0] == 1 {
			copy(d, src[offsets[0]:offsets[0]+len(d)])
			return
		}
		fill(d, src[offsets[0]])
	})
	calls[backends.OpTypeBroadcastInDim].Add(1)
	return out, nil
}

// fill sets every element of d to v: a few values one by one, then doubling copies
// (memmove's vector stores), for the long rows of a [rows, 1] -> [rows, n] broadcast.
func fill(d []float32, v float32) {
	head := min(len(d), 16)
	for i := range d[:head] {
		d[i] = v
	}
	for n := head; n < len(d); n *= 2 {
		copy(d[n:], d[:n])
	}
}
