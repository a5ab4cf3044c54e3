package spec

import (
	"fmt"
	"math"
)

// Result holds the host-side values of one evaluation of the loss on a batch of B pairs
// and K dimensions: what the float64 reference and the GoMLX module both return.
// Per-pair slices are [B][K].
type Result struct {
	Loss float64
	// NLL is the mean over b, k of the chosen response's mean per-token NLL.
	NLL                            float64
	Losses, Alpha, Raw, Mu, Sigma  [][]float64
	ChosenRewards, RejectedRewards [][]float64
	// ChosenLogps, RejectedLogps are the sequence log-probs s the loss used (sum or mean).
	ChosenLogps, RejectedLogps [][]float64
	NonFiniteWeights           int
	// InvalidPairs counts pairs left out for having no token or a non-finite log-prob (the
	// reference refuses such input instead, so it is always 0 there).
	InvalidPairs int
}

// Response turns the first pair of a Result into the JSON contract's answer.
func (r *Result) Response(p *Params) Response {
	margins := make([]float64, p.K())
	for k := range margins {
		margins[k] = r.ChosenRewards[0][k] - r.RejectedRewards[0][k]
	}
	return Response{
		Loss:             r.Loss,
		Dimensions:       p.Dimensions,
		Alpha:            r.Alpha[0],
		Mu:               r.Mu[0],
		Sigma:            r.Sigma[0],
		Margins:          margins,
		RawWeights:       r.Raw[0],
		Losses:           r.Losses[0],
		ChosenRewards:    r.ChosenRewards[0],
		RejectedRewards:  r.RejectedRewards[0],
		ChosenLogps:      r.ChosenLogps[0],
		RejectedLogps:    r.RejectedLogps[0],
		NLL:              r.NLL,
		NonFiniteWeights: r.NonFiniteWeights,
	}
}

// CheckFinite returns an error that names the first value that is not finite, its pair,
// dimension and the inputs it came from. Finite inputs can still overflow float64 (beta
// near math.MaxFloat64 times a log-prob, or a margin of two huge rewards); such a value
// must be refused, not reported as 0 by Sanitize nor left to fail as invalid JSON.
// Sigma is exempt: the unbiased sigma of a one-token response is NaN by definition.
func (r *Result) CheckFinite(p *Params) error {
	bad := func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }
	for b := range r.Losses {
		for k, dim := range p.Dimensions {
			cw, rw := r.ChosenRewards[b][k], r.RejectedRewards[b][k]
			for _, f := range []struct {
				name string
				v    float64
			}{
				{"chosen_logps", r.ChosenLogps[b][k]}, {"rejected_logps", r.RejectedLogps[b][k]},
				{"chosen_rewards", cw}, {"rejected_rewards", rw}, {"margins", cw - rw},
				{"losses", r.Losses[b][k]}, {"alpha", r.Alpha[b][k]}, {"raw_weights", r.Raw[b][k]}, {"mu", r.Mu[b][k]},
			} {
				if !bad(f.v) {
					continue
				}
				pair := ""
				if len(r.Losses) > 1 {
					pair = fmt.Sprintf("pairs[%d].", b)
				}
				return fmt.Errorf("%s%s[%d] (dimension %q) is %v: it overflows float64 with loss %s, beta %v, gamma %v, lambda %v, nll_weight %v and sequence log-probs %v (chosen), %v (rejected)",
					pair, f.name, k, dim, f.v, p.Loss, p.Beta, p.Gamma, p.Lambda, p.NLLWeight, r.ChosenLogps[b][k], r.RejectedLogps[b][k])
			}
		}
	}
	if bad(r.NLL) {
		return fmt.Errorf("nll_loss is %v: the mean of the chosen responses' NLL overflows float64", r.NLL)
	}
	if bad(r.Loss) {
		return fmt.Errorf("loss is %v: the weighted sum of the per-dimension losses overflows float64", r.Loss)
	}
	return nil
}

// Sanitize replaces the values JSON cannot carry with 0. After CheckFinite only sigma can
// be one (NaN, the unbiased sigma of a one-token response); NonFiniteWeights says when a
// weight draw was affected.
func (r *Response) Sanitize() {
	for _, s := range [][]float64{r.Alpha, r.Mu, r.Sigma, r.Margins, r.RawWeights, r.Losses,
		r.ChosenRewards, r.RejectedRewards, r.ChosenLogps, r.RejectedLogps} {
		for i, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				s[i] = 0
			}
		}
	}
}
