package recipe

import (
	"fmt"
	"strings"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/data"
)

// The data the paper's multi-objective baselines train on (docs/loss.md, "What the recipe
// must do"), shared by cmd/experiment and any recipe that runs them.

// PairsByDimension re-pairs the data on one dimension, as SPO's stages and MODPO's
// trained objective need: chosen is the response with the higher score on dim (a pair
// whose rejected response scores higher is swapped), pairs tied on dim are left out and
// counted. Every pair must carry both responses' dim score.
func PairsByDimension(pairs []data.Pair, dim string) (out []data.Pair, ties int, err error) {
	for i, p := range pairs {
		cw, okw := p.Chosen.Scores[dim]
		cl, okl := p.Rejected.Scores[dim]
		if !okw || !okl {
			return nil, 0, fmt.Errorf("pair %d (%s): no %q score on both responses", i, p.Source, dim)
		}
		switch {
		case cw == cl:
			ties++
			continue
		case cw < cl:
			p.Chosen, p.Rejected = p.Rejected, p.Chosen
		}
		p.Dimension = dim
		out = append(out, p)
	}
	return out, ties, nil
}

// ControlPrefix is controllable CPO's control tokens c: one "<dimension: score>" group per
// dimension, in the given order, as the authors' data code writes them before the
// instruction (OpenBMB/CPO, "< honesty: 5 >").
func ControlPrefix(scores data.Scores, dims []string) (string, error) {
	var b strings.Builder
	for _, d := range dims {
		v, ok := scores[d]
		if !ok {
			return "", fmt.Errorf("control tokens: no %q score", d)
		}
		fmt.Fprintf(&b, "<%s: %g> ", d, v)
	}
	return b.String(), nil
}

// ControlPairs writes each pair's prompt as (c, x), c the control tokens of the chosen
// response's scores: the CPSFT data ((c(y), x) -> y for the chosen y) and the prompts the
// reference model scores both responses on in the DPO stage (c the target scores). The
// responses are unchanged, so the policy's (x) and the reference's ((c, x)) examples pair
// up index by index.
func ControlPairs(pairs []data.Pair, dims []string) ([]data.Pair, error) {
	out := make([]data.Pair, len(pairs))
	for i, p := range pairs {
		c, err := ControlPrefix(p.Chosen.Scores, dims)
		if err != nil {
			return nil, fmt.Errorf("pair %d (%s): %w", i, p.Source, err)
		}
		p.Prompt = c + p.Prompt
		out[i] = p
	}
	return out, nil
}

// refuseExperimentOnly refuses, in cmd/train's recipe, the losses whose inputs only the
// experiment computes so far (a CPSFT model and reference log-probs on control-token
// prompts; margin rewards), naming where they run, instead of failing at the first step.
func refuseExperimentOnly(p spec.Params) error {
	switch {
	case p.Loss.ControlReference():
		return fmt.Errorf("loss.name %s: needs a CPSFT model and the reference's log-probs on control-token prompts, "+
			"which this recipe does not compute yet; cmd/experiment runs it (method loss controllable-cpo)", p.Loss)
	case p.Loss.NeedsMarginRewards():
		return fmt.Errorf("loss.name %s: needs margin rewards (the other objectives' rewards of each response), "+
			"which this recipe does not compute yet; cmd/experiment runs it from the data's scores (method loss modpo)", p.Loss)
	}
	return nil
}
