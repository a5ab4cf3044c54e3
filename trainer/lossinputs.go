package trainer

import (
	"fmt"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/data"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// The inputs of the paper's multi-objective baselines besides the policy's log-probs
// (docs/loss.md): a batch's RefSums are the reference sums the recipe attached, which the
// step graph hands to the loss as Inputs.ControlRefSums for controllable CPO (the recipe
// scored them on the control-token prompt (c, x)) and as Inputs.RefSums for the others;
// MODPO also takes each response's margin rewards, Batch.MarginRewards [B, K, 2, M].

// lossArgs are the step graph's inputs after the noise: the reference sums when the loss
// needs them, then the margin rewards when it needs them.
func lossArgs(p spec.Params, batch *Batch) ([]any, error) {
	var args []any
	if p.Loss.NeedsReference() {
		if batch.RefSums == nil {
			return nil, fmt.Errorf("trainer: loss %q needs reference log-probs and the batch has none", p.Loss)
		}
		args = append(args, batch.RefSums)
	}
	if p.Loss.NeedsMarginRewards() {
		if batch.MarginRewards == nil {
			return nil, fmt.Errorf("trainer: loss %q needs margin rewards (%d per response) and the batch has none",
				p.Loss, p.MarginRewardCount())
		}
		args = append(args, batch.MarginRewards)
	}
	return args, nil
}

// routeLossInputs puts the graph inputs lossArgs passed into the loss's inputs.
func routeLossInputs(in *amopo.Inputs, p spec.Params, extra []*Node) {
	if p.Loss.NeedsReference() {
		if p.Loss.ControlReference() {
			in.ControlRefSums = extra[0]
		} else {
			in.RefSums = extra[0]
		}
		extra = extra[1:]
	}
	if p.Loss.NeedsMarginRewards() {
		in.MarginRewards = extra[0]
	}
}

// SetMarginRewards attaches MODPO's margin rewards: margins[i] holds example i's K*2*M
// values, [k][side][m] flattened (side 0 the chosen response).
func (s *PairSource) SetMarginRewards(margins [][]float32, m int) error {
	if len(margins) != len(s.Examples) {
		return fmt.Errorf("%d margin-reward rows for %d pairs", len(margins), len(s.Examples))
	}
	if m < 1 {
		return fmt.Errorf("margin rewards: %d per response (want >= 1)", m)
	}
	for i, row := range margins {
		if want := len(s.Examples[i].Seqs) * 2 * m; len(row) != want {
			return fmt.Errorf("margin rewards of pair %d: %d values, want K*2*M = %d", i, len(row), want)
		}
	}
	s.Margins, s.marginCount = margins, m
	return nil
}

// attachMargins adds the margin rewards of the batch's pairs, in batch order.
func (s *PairSource) attachMargins(out *Batch, b *data.Batch) {
	if s.Margins == nil {
		return
	}
	flat := make([]float32, 0, b.B*b.K*2*s.marginCount)
	for _, i := range b.Index {
		flat = append(flat, s.Margins[i]...)
	}
	out.MarginRewards = tensors.FromFlatDataAndDimensions(flat, b.B, b.K, 2, s.marginCount)
}

// MarginRewardsFromScores lays out MODPO's margin rewards from the pairs' own
// per-dimension scores (the data's labels standing in for a reward model): for each of
// the K templates, each response's scores on the M = len(others) other objectives.
func MarginRewardsFromScores(pairs []data.Pair, k int, others []string) ([][]float32, error) {
	out := make([][]float32, len(pairs))
	for i := range pairs {
		row := make([]float32, 0, k*2*len(others))
		for d := 0; d < k; d++ {
			for side, sc := range []data.Scores{pairs[i].Chosen.Scores, pairs[i].Rejected.Scores} {
				for _, o := range others {
					v, ok := sc[o]
					if !ok {
						return nil, fmt.Errorf("pair %d: the %s response has no %q score (MODPO's margin reward)",
							i, [2]string{"chosen", "rejected"}[side], o)
					}
					row = append(row, float32(v))
				}
			}
		}
		out[i] = row
	}
	return out, nil
}
