package spec

import "math"

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

// Sanitize replaces the values JSON cannot carry (NaN, +-Inf: the unbiased sigma of a
// one-token response) with 0; NonFiniteWeights says when a weight draw was affected.
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
