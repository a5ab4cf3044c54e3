package amopo

import (
	"github.com/amopo-engine/amopo/amopo/spec"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// The paper's multi-objective baselines that are losses (controllable CPO's DPO stage
// shares dpoTerms): MODPO, and AMoPO with a reference model (Table 11). SPO is a schedule
// of single-objective stages (spec.SPOSchedule), not a loss.

// modpoTerms (Zhou et al. 2024b, the authors' modpo_loss): r = (beta*h - w[1:].mr)/w[0],
// h = s - ref_s; l = -logsig(r_w - r_l).
func modpoTerms(s *Sequences, p *spec.Params) PairTerms {
	w0 := p.ObjectiveWeights[0]
	reward := func(seq, ref, margins *Node) *Node {
		h := MulScalar(Sub(seq, ref), p.Beta)
		return DivScalar(Sub(h, weightedMargin(margins, p.ObjectiveWeights[1:])), w0)
	}
	rw := reward(s.ChosenLogps, s.RefChosen, s.MarginChosen)
	rl := reward(s.RejectedLogps, s.RefRejected, s.MarginRejected)
	return PairTerms{Loss: Neg(LogSigmoid(Sub(rw, rl))), ChosenReward: rw, RejectedReward: rl}
}

// weightedMargin is sum_j w[j]*margins[..., j]: [B, K, M] -> [B, K].
func weightedMargin(margins *Node, w []float64) *Node {
	weights := Reshape(ConstAsDType(margins.Graph(), margins.DType(), w), append(onesDims(margins.Rank()-1), len(w))...)
	return ReduceSum(Mul(margins, weights), -1)
}

// amopoRefTerms (Table 11, "w/ reference model"): -logsig(beta*(h_w - h_l) - gamma),
// h = s - ref_s, rewards beta*h.
func amopoRefTerms(s *Sequences, p *spec.Params) PairTerms {
	rw := MulScalar(Sub(s.ChosenLogps, s.RefChosen), p.Beta)
	rl := MulScalar(Sub(s.RejectedLogps, s.RefRejected), p.Beta)
	return PairTerms{Loss: Neg(LogSigmoid(AddScalar(Sub(rw, rl), -p.Gamma))), ChosenReward: rw, RejectedReward: rl}
}

// checkControlInputs: controllable-cpo takes its reference from ControlRefSums, and
// refuses RefSums (the reference on the policy's own prompt would make it plain DPO).
func checkControlInputs(p *spec.Params, in *Inputs, bk2 []int) {
	if in.ControlRefSums == nil {
		panicf("amopo: loss %q needs Inputs.ControlRefSums %v, the reference model's summed log-probs of each "+
			"response given the control-token prompt (c, x)", p.Loss, bk2)
	}
	if in.RefSums != nil {
		panicf("amopo: loss %q takes its reference from Inputs.ControlRefSums (prompt (c, x)); Inputs.RefSums "+
			"(the reference on the policy's prompt) would make it DPO: leave it nil", p.Loss)
	}
	if !equalDims(in.ControlRefSums.Shape().Dimensions, bk2) {
		panicf("amopo: Inputs.ControlRefSums must be %v, got %s", bk2, in.ControlRefSums.Shape())
	}
}

// checkMarginInputs: MODPO needs MarginRewards [B, K, 2, M], M = len(ObjectiveWeights)-1.
func checkMarginInputs(p *spec.Params, in *Inputs, bk2 []int) {
	want := append(append([]int(nil), bk2...), p.MarginRewardCount())
	if in.MarginRewards == nil {
		panicf("amopo: loss %q needs Inputs.MarginRewards %v: each response's rewards on the %d other "+
			"objective(s) weighted by ObjectiveWeights[1:] %v", p.Loss, want, p.MarginRewardCount(), p.ObjectiveWeights[1:])
	}
	if ms := in.MarginRewards.Shape(); !equalDims(ms.Dimensions, want) || !ms.DType.IsFloat() {
		panicf("amopo: Inputs.MarginRewards must be a float %v (M = len(ObjectiveWeights) - 1 = %d), got %s",
			want, p.MarginRewardCount(), ms)
	}
}

// packMargins lays out MODPO's margin rewards as [B, K, 2, M]; zeros [B, K, 2, 1] for the
// other losses (Evaluate's graph then leaves them unused). The pairs must be checked.
func packMargins(p *spec.Params, batch []spec.Pair) *tensors.Tensor {
	k, m := p.K(), p.MarginRewardCount()
	if m == 0 {
		return tensors.FromFlatDataAndDimensions(make([]float64, len(batch)*k*2), len(batch), k, 2, 1)
	}
	flat := make([]float64, 0, len(batch)*k*2*m)
	for _, pair := range batch {
		for d := 0; d < k; d++ {
			flat = append(append(flat, pair.MarginChosen[d]...), pair.MarginRejected[d]...)
		}
	}
	return tensors.FromFlatDataAndDimensions(flat, len(batch), k, 2, m)
}

// inputsFor routes Evaluate's packed tensors to the loss's inputs: the reference to
// ControlRefSums for controllable CPO, margin rewards to MODPO only.
func inputsFor(p *spec.Params, logps, mask, refSums, noise, margins *Node) Inputs {
	in := Inputs{Logps: logps, Mask: mask, Noise: noise}
	switch {
	case p.Loss.ControlReference():
		in.ControlRefSums = refSums
	case p.Loss.NeedsReference():
		in.RefSums = refSums
	}
	if p.Loss.NeedsMarginRewards() {
		in.MarginRewards = margins
	}
	return in
}
