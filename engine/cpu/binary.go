package cpu

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// execBinary computes float32 Add, Sub, Mul and Div with simplego's broadcasting (equal
// ranks, dimensions equal or 1; or a one-element operand) on every core: the same
// float32 operation per element, so the same values. Other cases go to GoMLX's executor.
func execBinary(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error) {
	op := nodeOpType(node)
	original := map[backends.OpType]executor{backends.OpTypeAdd: gomlxAdd, backends.OpTypeSub: gomlxSub,
		backends.OpTypeMul: gomlxMul, backends.OpTypeDiv: gomlxDiv}[op]
	outShape := nodeShape(node)
	flats, dims, ok := float32Inputs(backend, inputs)
	if !ok || len(flats) != 2 || outShape.DType != dtypes.Float32 {
		return original(backend, node, inputs, inputsOwned)
	}
	outDims := outShape.Dimensions
	rank := len(outDims)
	var strides [2][]int // per operand and output axis; 0 where broadcast
	for k, d := range dims {
		strides[k] = make([]int, rank)
		if len(flats[k]) == 1 {
			continue // a one-element operand: every stride 0
		}
		if len(d) != rank {
			return original(backend, node, inputs, inputsOwned)
		}
		step := 1
		for a := rank - 1; a >= 0; a-- {
			switch d[a] {
			case outDims[a]:
				strides[k][a] = step
			case 1:
			default:
				return original(backend, node, inputs, inputsOwned)
			}
			step *= d[a]
		}
	}
	out, dst, err := reuseOrNewOutput(backend, node, inputs, inputsOwned, flats, dims)
	if err != nil {
		return nil, err
	}
	forRows(outDims, strides[:], func(row []int, offsets []int, inner []int) {
		binaryRow(op, dst[row[0]:row[1]], flats[0][offsets[0]:], inner[0], flats[1][offsets[1]:], inner[1])
	})
	calls[op].Add(1)
	return out, nil
}

// binaryRow computes out[i] = l[i*ls] op r[i*rs], strides 0 or 1.
func binaryRow(op backends.OpType, out, l []float32, ls int, r []float32, rs int) {
	if done := binaryVector(op, out, l, ls, r, rs); done > 0 { // the AVX loops, where they run
		out, l, r = out[done:], l[done*ls:], r[done*rs:]
	}
	n := len(out)
	switch {
	case ls == 1 && rs == 1:
		l, r = l[:n], r[:n]
		switch op {
		case backends.OpTypeAdd:
			for i := range out {
				out[i] = l[i] + r[i]
			}
		case backends.OpTypeSub:
			for i := range out {
				out[i] = l[i] - r[i]
			}
		case backends.OpTypeMul:
			for i := range out {
				out[i] = l[i] * r[i]
			}
		case backends.OpTypeDiv:
			for i := range out {
				out[i] = l[i] / r[i]
			}
		}
	case ls == 1:
		l, c := l[:n], r[0]
		switch op {
		case backends.OpTypeAdd:
			for i := range out {
				out[i] = l[i] + c
			}
		case backends.OpTypeSub:
			for i := range out {
				out[i] = l[i] - c
			}
		case backends.OpTypeMul:
			for i := range out {
				out[i] = l[i] * c
			}
		case backends.OpTypeDiv:
			for i := range out {
				out[i] = l[i] / c
			}
		}
	case rs == 1:
		c, r := l[0], r[:n]
		switch op {
		case backends.OpTypeAdd:
			for i := range out {
				out[i] = c + r[i]
			}
		case backends.OpTypeSub:
			for i := range out {
				out[i] = c - r[i]
			}
		case backends.OpTypeMul:
			for i := range out {
				out[i] = c * r[i]
			}
		case backends.OpTypeDiv:
			for i := range out {
				out[i] = c / r[i]
			}
		}
	default:
		var v float32
		switch op {
		case backends.OpTypeAdd:
			v = l[0] + r[0]
		case backends.OpTypeSub:
			v = l[0] - r[0]
		case backends.OpTypeMul:
			v = l[0] * r[0]
		case backends.OpTypeDiv:
			v = l[0] / r[0]
		}
		for i := range out {
			out[i] = v
		}
	}
}
