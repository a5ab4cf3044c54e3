package amopo

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// TokenLogProbs returns the log-prob of every next token under a causal LM's logits,
// with the label shift done here, once:
//
//	logps[n, t] = log softmax(logits[n, t, :])[tokens[n, t+1]]   for t < S-1
//	mask[n, t]  = responseMask[n, t+1]                            (0 at t = S-1)
//
// logits is [N, S, V], tokens [N, S] (int), responseMask [N, S] (bool or numeric, 1 on
// the response tokens, 0 on the prompt and padding). The outputs are [N, S] and aligned
// with the logits' positions, so a sequence keeps its length S: nothing slices the
// [N, S, V] logits (a slice would copy them, and its gradient is a Pad, which the pure-Go
// backend lacks).
//
// Memory: the only full-vocabulary intermediates are logits - max and its exp (the
// log-sum-exp); the target logit is gathered, never taken through a one-hot or a
// materialised log-softmax. bf16/f16 logits are reduced in float32 and the log-probs are
// float32. With large vocabularies the [N, S, V] logits themselves are the problem (2.5 GB
// for 8 sequences of 512 tokens and Qwen2.5's 151,936 ids): TokenLogProbsFromHidden takes
// the hidden states and the LM head instead and never builds them whole.
func TokenLogProbs(logits, tokens, responseMask *Node) (logps, mask *Node) {
	ls := logits.Shape()
	if ls.Rank() != 3 || !ls.DType.IsFloat() {
		panicf("amopo.TokenLogProbs: logits must be a float [N, S, V] tensor, got %s", ls)
	}
	n, s := ls.Dimensions[0], ls.Dimensions[1]
	if ts := tokens.Shape(); !equalDims(ts.Dimensions, []int{n, s}) || !ts.DType.IsInt() {
		panicf("amopo.TokenLogProbs: tokens must be an int [%d, %d] tensor, got %s", n, s, ts)
	}
	if ms := responseMask.Shape(); !equalDims(ms.Dimensions, []int{n, s}) {
		panicf("amopo.TokenLogProbs: responseMask must be [%d, %d], got %s", n, s, ms)
	}
	g := logits.Graph()
	work := logits
	if ls.DType == dtypes.BFloat16 || ls.DType == dtypes.Float16 {
		work = ConvertDType(logits, dtypes.Float32) // fused with the reduction on XLA
	}

	next, nextMask := nextTokens(tokens, responseMask)

	// Gather logits[n, t, next[n, t]] with explicit (n, t, id) indices.
	idxShape := shapes.Make(dtypes.Int32, n, s, 1)
	indices := Concatenate([]*Node{
		Iota(g, idxShape, 0),
		Iota(g, idxShape, 1),
		InsertAxes(next, -1),
	}, -1)
	target := Gather(work, indices) // [N, S]

	// log-sum-exp over the vocabulary, max-shifted.
	maxLogit := StopGradient(ReduceMax(work, -1))                     // [N, S]
	sumExp := ReduceSum(Exp(Sub(work, InsertAxes(maxLogit, -1))), -1) // [N, S]
	logps = Sub(target, Add(Log(sumExp), maxLogit))
	logps = Where(nextMask, logps, ZerosLike(logps))
	return logps, nextMask
}

// nextTokens does the label shift on the [N, S] ids and response mask (cheap), never on
// the logits: next[n, t] = tokens[n, t+1] as Int32 (0 at t = S-1) and
// nextMask[n, t] = responseMask[n, t+1] as Bool (false at t = S-1).
func nextTokens(tokens, responseMask *Node) (next, nextMask *Node) {
	g := tokens.Graph()
	next = ShiftWithScalar(ConvertDType(tokens, dtypes.Int32), 1, ShiftDirLeft, 1, 0)
	nextMask = responseMask
	if nextMask.DType() != dtypes.Bool {
		nextMask = GreaterThan(nextMask, ScalarZero(g, nextMask.DType()))
	}
	nextMask = ShiftWithScalar(ConvertDType(nextMask, dtypes.Int32), 1, ShiftDirLeft, 1, 0)
	return next, GreaterThan(nextMask, ScalarZero(g, dtypes.Int32))
}
