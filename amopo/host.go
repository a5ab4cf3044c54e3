package amopo

import (
	"fmt"
	"math"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// Packed are host tensors of a batch of pairs in the layout of Inputs.
type Packed struct {
	Logps, Mask, RefSums, Noise *tensors.Tensor
	// MarginRewards [B, K, 2, M] are MODPO's margin rewards ([B, K, 2, 1] zeros for the
	// other losses). RefSums hold controllable CPO's reference on (c, x) for that loss.
	MarginRewards *tensors.Tensor
	// Lengths[b][k][side] are the token counts, to unpack per-token results.
	Lengths [][][2]int
}

// Pack lays out a batch of spec.Pair as float64 Inputs tensors: [B, K, 2, T] log-probs
// and mask (T the longest response), [B, K, 2] reference sums and noise.
func Pack(p *spec.Params, batch []spec.Pair) (*Packed, error) {
	if len(batch) == 0 {
		return nil, fmt.Errorf("amopo.Pack: empty batch")
	}
	k := p.K()
	width := 0
	for b := range batch {
		if err := spec.CheckPair(p, &batch[b], fmt.Sprintf("pairs[%d].", b)); err != nil {
			return nil, err
		}
		for d := 0; d < k; d++ {
			width = max(width, len(batch[b].Chosen[d]), len(batch[b].Rejected[d]))
		}
	}
	nb := len(batch)
	logps := make([]float64, nb*k*2*width)
	mask := make([]float64, len(logps))
	refs := make([]float64, nb*k*2)
	lengths := make([][][2]int, nb)
	for b, pair := range batch {
		lengths[b] = make([][2]int, k)
		for d := 0; d < k; d++ {
			for side, tokens := range [][]float64{pair.Chosen[d], pair.Rejected[d]} {
				base := ((b*k+d)*2 + side) * width
				copy(logps[base:], tokens)
				for t := range tokens {
					mask[base+t] = 1
				}
				lengths[b][d][side] = len(tokens)
			}
			if p.Loss.NeedsReference() {
				refs[(b*k+d)*2] = sum(pair.RefChosen[d])
				refs[(b*k+d)*2+1] = sum(pair.RefRejected[d])
			}
		}
	}
	return &Packed{
		Logps:         tensors.FromFlatDataAndDimensions(logps, nb, k, 2, width),
		Mask:          tensors.FromFlatDataAndDimensions(mask, nb, k, 2, width),
		RefSums:       tensors.FromFlatDataAndDimensions(refs, nb, k, 2),
		Noise:         tensors.FromFlatDataAndDimensions(spec.Noise(p.Seed, p.Step, nb, k), nb, k, 2),
		MarginRewards: packMargins(p, batch),
		Lengths:       lengths,
	}, nil
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// Evaluate computes the loss of a batch of pairs on a backend, in float64, and returns
// its values and, when withGradient is set, dLoss/d(token log-prob) shaped like the batch
// (Chosen/Rejected only). It is the GoMLX twin of the float64 reference (package ref),
// used by cmd/loss and the tests.
func Evaluate(backend backends.Backend, p *spec.Params, batch []spec.Pair, withGradient bool) (res *spec.Result, grads []spec.Pair, err error) {
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	packed, err := Pack(p, batch)
	if err != nil {
		return nil, nil, err
	}
	params := *p
	exec, err := NewExec(backend, func(logps, mask, refSums, noise, margins *Node) []*Node {
		out := New(inputsFor(&params, logps, mask, refSums, noise, margins)).Params(params).Done()
		nodes := []*Node{out.Loss, out.NLL, out.PairLosses, out.Alpha, out.Raw, out.Mu, out.Sigma,
			out.ChosenRewards, out.RejectedRewards, out.ChosenLogps, out.RejectedLogps,
			out.NonFiniteWeights, out.InvalidPairs}
		if withGradient {
			nodes = append(nodes, Gradient(out.Loss, logps)[0])
		}
		return nodes
	})
	if err != nil {
		return nil, nil, fmt.Errorf("amopo.Evaluate: %w", err)
	}
	defer exec.Finalize()
	outs, err := exec.Exec(packed.Logps, packed.Mask, packed.RefSums, packed.Noise, packed.MarginRewards)
	if err != nil {
		return nil, nil, fmt.Errorf("amopo.Evaluate: %w", err)
	}
	defer func() {
		for _, t := range outs {
			t.FinalizeAll()
		}
	}()
	res = &spec.Result{
		Loss:             tensors.ToScalar[float64](outs[0]),
		NLL:              tensors.ToScalar[float64](outs[1]),
		Losses:           matrix(outs[2]),
		Alpha:            matrix(outs[3]),
		Raw:              matrix(outs[4]),
		Mu:               matrix(outs[5]),
		Sigma:            matrix(outs[6]),
		ChosenRewards:    matrix(outs[7]),
		RejectedRewards:  matrix(outs[8]),
		ChosenLogps:      matrix(outs[9]),
		RejectedLogps:    matrix(outs[10]),
		NonFiniteWeights: int(tensors.ToScalar[int32](outs[11])),
		InvalidPairs:     int(tensors.ToScalar[int32](outs[12])),
	}
	if res.InvalidPairs == 0 { // the graph zeroes invalid pairs' values; they are counted instead
		if err := res.CheckFinite(p); err != nil {
			return nil, nil, fmt.Errorf("amopo.Evaluate: %w", err)
		}
	}
	if withGradient {
		grads = unpackTokens(tensors.MustCopyFlatData[float64](outs[13]), packed.Lengths)
		if err := checkGradients(p, grads); err != nil {
			return nil, nil, fmt.Errorf("amopo.Evaluate: %w", err)
		}
	}
	return res, grads, nil
}

// checkGradients names the first token whose derivative is not finite: finite inputs can
// overflow (beta near math.MaxFloat64), and JSON cannot carry the result.
func checkGradients(p *spec.Params, grads []spec.Pair) error {
	for b, g := range grads {
		for k, dim := range p.Dimensions {
			for side, tokens := range [][]float64{g.Chosen[k], g.Rejected[k]} {
				for t, v := range tokens {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						return fmt.Errorf("gradient of pairs[%d].%s[%d][%d] (dimension %q) is %v: it overflows float64 with beta %v, lambda %v, nll_weight %v",
							b, [2]string{"chosen_logps", "rejected_logps"}[side], k, t, dim, v, p.Beta, p.Lambda, p.NLLWeight)
					}
				}
			}
		}
	}
	return nil
}

// matrix copies a [B, K] tensor into rows.
func matrix(t *tensors.Tensor) [][]float64 {
	flat := tensors.MustCopyFlatData[float64](t)
	dims := t.Shape().Dimensions
	rows := make([][]float64, dims[0])
	for b := range rows {
		rows[b] = flat[b*dims[1] : (b+1)*dims[1]]
	}
	return rows
}

// unpackTokens cuts a flat [B, K, 2, T] tensor back into per-response slices.
func unpackTokens(flat []float64, lengths [][][2]int) []spec.Pair {
	nb, k := len(lengths), len(lengths[0])
	width := len(flat) / (nb * k * 2)
	out := make([]spec.Pair, nb)
	for b := range out {
		out[b].Chosen, out[b].Rejected = make([][]float64, k), make([][]float64, k)
		for d := 0; d < k; d++ {
			for side, dst := range []*[]float64{&out[b].Chosen[d], &out[b].Rejected[d]} {
				base := ((b*k+d)*2 + side) * width
				*dst = append([]float64(nil), flat[base:base+lengths[b][d][side]]...)
			}
		}
	}
	return out
}

// CheckMask checks a [B, K, 2, T] response mask (bool, int or float) on the host before
// a step, and names the first pair and side with no response token: the graph would
// leave such a pair out and count it in Outputs.InvalidPairs.
func CheckMask(mask *tensors.Tensor, dimensions []string) error {
	dims := mask.Shape().Dimensions
	if len(dims) != 4 || dims[2] != 2 {
		return fmt.Errorf("amopo.CheckMask: mask must be [B, K, 2, T], got %s", mask.Shape())
	}
	if dims[1] != len(dimensions) {
		return fmt.Errorf("amopo.CheckMask: mask has K = %d dimensions but %d are named: %v", dims[1], len(dimensions), dimensions)
	}
	var counts []int // response tokens per row of T slots
	var err error
	mask.MustConstFlatData(func(flat any) {
		switch v := flat.(type) {
		case []bool:
			counts = countRows(v, dims[3], func(x bool) bool { return x })
		case []float32:
			counts = countRows(v, dims[3], func(x float32) bool { return x != 0 })
		case []float64:
			counts = countRows(v, dims[3], func(x float64) bool { return x != 0 })
		case []int32:
			counts = countRows(v, dims[3], func(x int32) bool { return x != 0 })
		case []int64:
			counts = countRows(v, dims[3], func(x int64) bool { return x != 0 })
		default:
			err = fmt.Errorf("amopo.CheckMask: unsupported mask dtype %s", mask.DType())
		}
	})
	if err != nil {
		return err
	}
	for row, n := range counts {
		if n == 0 {
			b, k, side := row/(dims[1]*2), row/2%dims[1], [2]string{"chosen", "rejected"}[row%2]
			return fmt.Errorf("amopo.CheckMask: pair %d, dimension %q: the %s response has no token", b, dimensions[k], side)
		}
	}
	return nil
}

func countRows[T any](flat []T, width int, on func(T) bool) []int {
	counts := make([]int, len(flat)/width)
	for i, x := range flat {
		if on(x) {
			counts[i/width]++
		}
	}
	return counts
}
