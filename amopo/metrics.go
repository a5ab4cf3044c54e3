package amopo

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
)

// Metrics returns the scalars a trainer logs, by name: TRL's names where they exist
// (loss, nll_loss, rewards/chosen, rewards/rejected, rewards/accuracies, rewards/margins,
// logps/chosen, logps/rejected) plus, per dimension d, rewards/<d>_margins,
// rewards/<d>_accuracies, weights/<d>_alpha, weights/<d>_mu and weights/<d>_sigma, and the
// counters weights/nonfinite and pairs/invalid. Means are over the valid pairs.
func (o *Outputs) Metrics() map[string]*Node {
	dtype := o.Loss.DType()
	g := o.Loss.Graph()
	shape := o.PairLosses.Shape()
	valid := Sub(ConstAsDType(g, dtype, float64(shape.Size())), ConvertDType(o.InvalidPairs, dtype))
	valid = MaxScalar(valid, 1.0)
	// Invalid pairs hold zeros in every per-pair output, so sums count the valid ones only.
	mean := func(x *Node) *Node { return Div(ReduceAllSum(x), valid) }
	margins := Sub(o.ChosenRewards, o.RejectedRewards)
	wins := ConvertDType(GreaterThan(o.ChosenRewards, o.RejectedRewards), dtype)
	m := map[string]*Node{
		"loss":               o.Loss,
		"nll_loss":           o.NLL,
		"rewards/chosen":     mean(o.ChosenRewards),
		"rewards/rejected":   mean(o.RejectedRewards),
		"rewards/accuracies": mean(wins),
		"rewards/margins":    mean(margins),
		"logps/chosen":       mean(o.ChosenLogps),
		"logps/rejected":     mean(o.RejectedLogps),
		"weights/nonfinite":  o.NonFiniteWeights,
		"pairs/invalid":      o.InvalidPairs,
	}
	// Per dimension: means over the batch axis. Every pair of an invalid example is zero,
	// so the batch size stands in for the count (invalid pairs are expected to be rare).
	perDim := func(x *Node) *Node { return ReduceMean(x, 0) } // [K]
	for k, name := range o.params.Dimensions {
		m["rewards/"+name+"_margins"] = pick(perDim(margins), k)
		m["rewards/"+name+"_accuracies"] = pick(perDim(wins), k)
		m["weights/"+name+"_alpha"] = pick(perDim(o.Alpha), k)
		m["weights/"+name+"_mu"] = pick(perDim(o.Mu), k)
		m["weights/"+name+"_sigma"] = pick(perDim(o.Sigma), k)
	}
	return m
}
