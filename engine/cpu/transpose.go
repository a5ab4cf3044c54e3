package cpu

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// gomlxTranspose is simplego's Transpose executor, for the cases execTranspose leaves.
var gomlxTranspose executor

// execTranspose permutes a float32 operand's axes (data: output axis j is operand axis
// perm[j]) row by row on every core: a copy where the last axis stays last, a strided
// gather otherwise. simplego walks an index iterator per element.
func execTranspose(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error) {
	perm, isPerm := nodeData(node).([]int)
	flats, dims, ok := float32Inputs(backend, inputs)
	outShape := nodeShape(node)
	if !ok || !isPerm || len(flats) != 1 || outShape.DType != dtypes.Float32 || len(perm) != len(dims[0]) {
		return gomlxTranspose(backend, node, inputs, inputsOwned)
	}
	in := dims[0]
	inStrides := make([]int, len(in))
	step := 1
	for a := len(in) - 1; a >= 0; a-- {
		inStrides[a] = step
		step *= in[a]
	}
	strides := make([]int, len(perm))
	for j, a := range perm {
		if a < 0 || a >= len(in) || in[a] != outShape.Dimensions[j] {
			return gomlxTranspose(backend, node, inputs, inputsOwned)
		}
		strides[j] = inStrides[a]
	}
	out, dst, err := newFloat32Output(backend, node)
	if err != nil {
		return nil, err
	}
	permute(dst, flats[0], outShape.Dimensions, strides)
	calls[backends.OpTypeTranspose].Add(1)
	return out, nil
}

// permute sets dst (row-major, dimensions outDims) to src's elements where output axis j
// steps srcStrides[j] in src: row by row over coalesced axes, on every core.
func permute(dst, src []float32, outDims, srcStrides []int) {
	forRows(outDims, [][]int{srcStrides}, func(row, offsets, inner []int) {
		d := dst[row[0]:row[1]]
		if inner[0] == 1 {
			copy(d, src[offsets[0]:offsets[0]+len(d)])
			return
		}
		s, o := inner[0], offsets[0]
		for i := range d {
			d[i] = src[o+i*s]
		}
	})
}
