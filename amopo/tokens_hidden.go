package amopo

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// TokenLogProbsFromHidden is TokenLogProbs for a model whose logits are hidden · headᵀ
// (an LM head without bias), computed chunkRows (sequence, position) rows at a time, so
// that the [N, S, V] logits never exist whole: neither in the forward pass nor kept for
// the backward.
//
// hidden is [N, S, H] (the final, normed hidden states), head [V, H] (the tied embedding
// or lm_head, same dtype as hidden), tokens and responseMask [N, S] as in TokenLogProbs;
// the outputs and their meaning are those of TokenLogProbs(hidden · headᵀ, tokens,
// responseMask), to float rounding.
//
// # Memory
//
// The forward pass computes each chunk's logits [chunkRows, V], reduces them to a
// log-sum-exp and the target logit per row, and lets them go. The gradient (with respect
// to hidden and head) is a custom one that recomputes each chunk's logits from hidden and
// head: gradient checkpointing of the head. Its largest intermediates are a few
// [chunkRows, V] chunks and two [V, H] head gradients, where the plain path keeps
// exp(logits - max) [N, S, V] from the forward to the backward and builds several more of
// that size in the backward. The price is one more head matmul (the recomputation).
//
// With the pure-Go backend the ops run in the order they are built, chunk after chunk, and
// each buffer is freed after its last use, so one chunk lives at a time. An XLA compiler
// may merge the recomputed logits with the forward ones (common subexpressions) and keep
// them alive: the numbers stay the same, the saving may not.
//
// # Gradient
//
// GoMLX v0.26 lets a custom gradient be attached only to an identity of one node
// (IdentityWithCustomGradient), so the two-input gradient is assembled from three of them:
// the output's identity records the adjoint v of the log-probs; identities of hidden and
// head, tied to the output by a term that is always zero, return the gradients computed
// from v. Reverse-mode autodiff visits the output before its inputs, so v is recorded
// before it is used. The forward chunks sit behind a StopGradient: no gradient goes through
// their Slices (whose gradient, a Pad, the pure-Go backend lacks).
func TokenLogProbsFromHidden(hidden, head, tokens, responseMask *Node, chunkRows int) (logps, mask *Node) {
	hs, ws := hidden.Shape(), head.Shape()
	if hs.Rank() != 3 || !hs.DType.IsFloat() {
		panicf("amopo.TokenLogProbsFromHidden: hidden must be a float [N, S, H] tensor, got %s", hs)
	}
	n, s, h := hs.Dimensions[0], hs.Dimensions[1], hs.Dimensions[2]
	if ws.Rank() != 2 || ws.Dimensions[1] != h || ws.DType != hs.DType {
		panicf("amopo.TokenLogProbsFromHidden: head must be [V, %d] of %s like hidden, got %s", h, hs.DType, ws)
	}
	if ts := tokens.Shape(); !equalDims(ts.Dimensions, []int{n, s}) || !ts.DType.IsInt() {
		panicf("amopo.TokenLogProbsFromHidden: tokens must be an int [%d, %d] tensor, got %s", n, s, ts)
	}
	if ms := responseMask.Shape(); !equalDims(ms.Dimensions, []int{n, s}) {
		panicf("amopo.TokenLogProbsFromHidden: responseMask must be [%d, %d], got %s", n, s, ms)
	}
	if chunkRows < 1 {
		panicf("amopo.TokenLogProbsFromHidden: chunkRows must be at least 1, got %d", chunkRows)
	}
	next, nextMask := nextTokens(tokens, responseMask)
	lh := &leanHead{hidden: Reshape(hidden, n*s, h), head: head, ids: Reshape(next, n*s)}
	for start := 0; start < n*s; start += chunkRows {
		lh.chunks = append(lh.chunks, [2]int{start, min(start+chunkRows, n*s)})
	}
	value := StopGradient(lh.forward()) // [N*S] in reduceDType

	// The gradient path: value + 0·(Σ hidden + Σ head), through the custom identities.
	hiddenIn := IdentityWithCustomGradient(lh.hidden, func(_, _ *Node) *Node { return lh.gradients().dHidden })
	headIn := IdentityWithCustomGradient(head, func(_, _ *Node) *Node { return lh.gradients().dHead })
	tie := MulScalar(Add(ReduceSum(hiddenIn, -1), ReduceAllSum(headIn)), 0)
	out := IdentityWithCustomGradient(Add(value, ConvertDType(tie, value.DType())), func(_, v *Node) *Node {
		lh.v, lh.grads = v, nil
		return v
	})
	logps = Reshape(out, n, s)
	logps = Where(nextMask, logps, ZerosLike(logps))
	return logps, nextMask
}

// leanHead holds what the custom gradient of TokenLogProbsFromHidden needs.
type leanHead struct {
	hidden, head, ids *Node    // [R, H], [V, H], [R] with R = N*S rows
	chunks            [][2]int // row ranges [start, end)
	lse               []*Node  // per chunk: log-sum-exp [rows] in reduceDType, from the forward
	v                 *Node    // adjoint of the [R] log-probs, set by the output's gradient
	grads             *leanGrads
}

type leanGrads struct{ dHidden, dHead *Node }

// reduceDType is the dtype of the softmax reductions: float32 for bf16/f16 models, as in
// TokenLogProbs, else the model's.
func (lh *leanHead) reduceDType() dtypes.DType {
	if dt := lh.hidden.DType(); dt != dtypes.BFloat16 && dt != dtypes.Float16 {
		return dt
	}
	return dtypes.Float32
}

// chunkLogits returns the logits [end-start, V] of rows [start, end) in reduceDType.
func (lh *leanHead) chunkLogits(c [2]int) (hc, z *Node) {
	hc = Slice(lh.hidden, AxisRange(c[0], c[1]))
	z = DotGeneral(hc, []int{1}, nil, lh.head, []int{1}, nil)
	return hc, ConvertDType(z, lh.reduceDType())
}

// forward computes logits[r, ids[r]] - logsumexp(logits[r, :]) for every row, chunk by
// chunk, keeping each chunk's log-sum-exp for the gradient.
func (lh *leanHead) forward() *Node {
	g := lh.hidden.Graph()
	var parts []*Node
	for _, c := range lh.chunks {
		_, z := lh.chunkLogits(c)
		maxLogit := ReduceMax(z, -1)
		lse := Add(Log(ReduceSum(Exp(Sub(z, InsertAxes(maxLogit, -1))), -1)), maxLogit)
		rows := Iota(g, shapes.Make(dtypes.Int32, c[1]-c[0], 1), 0)
		ids := InsertAxes(Slice(lh.ids, AxisRange(c[0], c[1])), -1)
		target := Gather(z, Concatenate([]*Node{rows, ids}, -1))
		lh.lse = append(lh.lse, lse)
		parts = append(parts, Sub(target, lse))
	}
	return concatenateRows(parts)
}

// gradients builds, once per Gradient call, the gradients with respect to hidden and head
// of Σ_r v[r]·logp[r], with logp[r] = z[r, id_r] - logsumexp(z[r, :]) and z = hidden·headᵀ:
//
//	dz[r, j]   = v[r]·(1[j = id_r] - softmax(z[r])_j)
//	dHidden[r] = v[r]·head[id_r] - Σ_j v[r]·softmax(z[r])_j·head[j]
//	dHead[j]   = Σ_{r: id_r = j} v[r]·hidden[r] - Σ_r v[r]·softmax(z[r])_j·hidden[r]
//
// The softmax terms are computed chunk by chunk from recomputed logits; the one-hot terms
// are a gather and a scatter over all rows, which never touch [rows, V].
func (lh *leanHead) gradients() *leanGrads {
	if lh.grads != nil {
		return lh.grads
	}
	if lh.v == nil {
		panicf("amopo.TokenLogProbsFromHidden: the gradient of hidden or head was asked for before the log-probs' (GoMLX autodiff visited the nodes out of order?)")
	}
	dtype := lh.hidden.DType()
	v := ConvertDType(lh.v, lh.reduceDType())
	var softHidden []*Node
	var softHead *Node
	for i, c := range lh.chunks {
		hc, z := lh.chunkLogits(c)
		p := Exp(Sub(z, InsertAxes(lh.lse[i], -1)))
		q := Mul(p, InsertAxes(Slice(v, AxisRange(c[0], c[1])), -1)) // v·softmax [rows, V]
		q = ConvertDType(q, dtype)
		softHidden = append(softHidden, DotGeneral(q, []int{1}, nil, lh.head, []int{0}, nil)) // [rows, H]
		dw := DotGeneral(q, []int{0}, nil, hc, []int{0}, nil)                                 // [V, H]
		if softHead == nil {
			softHead = dw
		} else {
			softHead = Add(softHead, dw)
		}
	}
	vd := InsertAxes(ConvertDType(v, dtype), -1) // [R, 1]
	ids := InsertAxes(lh.ids, -1)
	dHidden := Sub(Mul(Gather(lh.head, ids), vd), concatenateRows(softHidden))
	dHead := Sub(ScatterSum(ZerosLike(lh.head), ids, Mul(lh.hidden, vd), false, false), softHead)
	lh.grads = &leanGrads{dHidden: dHidden, dHead: dHead}
	return lh.grads
}

func concatenateRows(parts []*Node) *Node {
	if len(parts) == 1 {
		return parts[0]
	}
	return Concatenate(parts, 0)
}
