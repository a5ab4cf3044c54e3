package amopo

import (
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
)

// build is the shared plumbing of every loss: masking and sanitising the token
// log-probs, the sequence statistics, the per-pair terms, the NLL term, the weights and
// the reduction (spec/doc.go has the definitions).
func build(p *spec.Params, in *Inputs, loss PreferenceLoss, policy WeightPolicy) *Outputs {
	logps := in.Logps
	dtype := logps.DType()
	dims := logps.Shape().Dimensions
	batch, k := dims[0], dims[1]

	mask := in.Mask
	if mask.DType() != dtypes.Bool {
		mask = GreaterThan(mask, ScalarZero(mask.Graph(), mask.DType()))
	}
	zeros := ZerosLike(logps)
	masked := Where(mask, logps, zeros) // padding may hold anything, NaN included
	counts := ReduceSum(ConvertDType(mask, dtype), -1)

	// A pair is valid when both sides have a token and finite log-probs (and finite
	// reference sums). Invalid pairs are zeroed before any arithmetic, so that neither the
	// loss nor its gradient sees a NaN; they are left out of the loss and counted.
	sideOK := LogicalAnd(GreaterThan(counts, ScalarZero(counts.Graph(), dtype)), IsFinite(ReduceSum(masked, -1)))
	var refSums *Node
	if p.Loss.NeedsReference() {
		refSums = asDType(referenceSums(p, in), dtype)
		sideOK = LogicalAnd(sideOK, IsFinite(refSums))
	}
	var margins *Node // MODPO's [B, K, 2, M]
	if p.Loss.NeedsMarginRewards() {
		margins = asDType(in.MarginRewards, dtype)
		sideOK = LogicalAnd(sideOK, LogicalAll(IsFinite(margins), -1))
	}
	pairOK := GreaterThan(ReduceMin(ConvertDType(sideOK, dtype), -1), ConstAsDType(logps.Graph(), dtype, 0.5)) // [B, K]
	safe := Where(pairOK, masked, zeros)
	tokenMask := LogicalAnd(mask, BroadcastToShape(InsertAxes(pairOK, -1, -1), mask.Shape()))

	safeCounts := MaxScalar(counts, 1.0)
	sums := ReduceSum(safe, -1)
	means := Div(sums, safeCounts)
	seqs := sums
	if p.LengthNormalize {
		seqs = means
	}
	s := &Sequences{
		ChosenLogps: pick(seqs, 0), RejectedLogps: pick(seqs, 1),
		ChosenMean: pick(means, 0), RejectedMean: pick(means, 1),
	}
	if refSums != nil {
		refSums = Where(pairOK, refSums, ZerosLike(refSums))
		if p.LengthNormalize {
			refSums = Div(refSums, safeCounts)
		}
		s.RefChosen, s.RefRejected = pick(refSums, 0), pick(refSums, 1)
	}
	if margins != nil {
		margins = Where(BroadcastToShape(InsertAxes(pairOK, -1, -1), margins.Shape()), margins, ZerosLike(margins))
		sides := TransposeAllAxes(margins, 0, 1, 3, 2) // [B, K, M, 2]: pick selects the side
		s.MarginChosen, s.MarginRejected = pick(sides, 0), pick(sides, 1)
	}

	terms := loss.PairTerms(s, p)
	nll := Neg(s.ChosenMean)
	pairLoss := terms.Loss
	if p.NLLWeight != 0 {
		pairLoss = Add(pairLoss, MulScalar(nll, p.NLLWeight))
	}
	keep := func(x *Node) *Node { return Where(pairOK, x, ZerosLike(x)) }
	pairLoss = keep(pairLoss)

	var noise *Node
	if in.Noise != nil && p.Policy.Sampled() {
		noise = asDType(in.Noise, dtype)
	}
	w, nonFinite := finishWeights(policy.Weights(probStats(safe, tokenMask, counts, p), noise, p), p)

	total := ReduceAllSum(Mul(w.Alpha, pairLoss))
	denominator := float64(batch)
	if p.Reduce == spec.MeanOverEntries {
		denominator *= float64(k)
	}
	return &Outputs{
		Loss:             DivScalar(total, denominator),
		PairLosses:       pairLoss,
		NLL:              ReduceAllMean(keep(nll)),
		Alpha:            w.Alpha,
		Raw:              w.Raw,
		Mu:               w.Mu,
		Sigma:            w.Sigma,
		ChosenRewards:    keep(terms.ChosenReward),
		RejectedRewards:  keep(terms.RejectedReward),
		ChosenLogps:      keep(s.ChosenLogps),
		RejectedLogps:    keep(s.RejectedLogps),
		NonFiniteWeights: nonFinite,
		InvalidPairs:     ReduceAllSum(ConvertDType(LogicalNot(pairOK), dtypes.Int32)),
		params:           *p,
	}
}

// referenceSums is the reference input of the loss: ControlRefSums for controllable CPO
// (the reference given the control-token prompt), RefSums for the others.
func referenceSums(p *spec.Params, in *Inputs) *Node {
	if p.Loss.ControlReference() {
		return in.ControlRefSums
	}
	return in.RefSums
}
