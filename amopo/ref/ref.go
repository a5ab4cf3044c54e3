// Package ref is the float64 reference of the AMoPO loss family: every loss and weight
// policy of package spec, written as plain loops over Go slices, with the gradient
// worked out by hand.
//
// It implements exactly the definitions in spec/doc.go and is the oracle the GoMLX
// implementation (package amopo) is tested against. It imports only the standard library
// and package spec, so that it also builds for wasm (the web demo).
//
// Shapes: a batch is B pairs of K dimensions; per-pair results are [B][K] slices indexed
// [b][k].
package ref

import (
	"fmt"
	"math"

	"github.com/amopo-engine/amopo/amopo/spec"
)

// Output holds everything computed for a batch of B pairs and K dimensions; [B][K]
// slices. It is spec.Result, what the GoMLX module returns too, so the two compare field
// by field:
//
//   - Loss: sum over b,k of Alpha*Losses, divided by B (reduction sum) or B*K (mean);
//   - NLL: the mean over b,k of nll[b][k] = -m_w, the chosen mean per-token NLL;
//   - Losses: l[b][k], NLL term included; Alpha the weights; Raw the weights before
//     normalisation (non-finite draws set to 0); Mu, Sigma the Gaussians' parameters;
//   - ChosenRewards, RejectedRewards: the implicit rewards r_w, r_l;
//   - ChosenLogps, RejectedLogps: the sequence log-probs s used by the loss (sum or mean);
//   - NonFiniteWeights: the raw weights that were not finite and were set to 0;
//   - InvalidPairs: always 0 here (the reference refuses invalid pairs with an error).
//
// Its Response method (spec.Result.Response) turns a one-pair Output into the JSON
// contract's spec.Response: the slices of row 0, Margins = ChosenRewards - RejectedRewards.
type Output = spec.Result

// orpoMaxMeanLogp is the clamp m' = min(m, -1e-6) that keeps ORPO's log-odds finite when
// a response has mean probability ~1.
const orpoMaxMeanLogp = -1e-6

// Compute validates the parameters and every pair, computes the weights and then the
// loss. It returns an error, not NaN or Inf, when a result overflows (spec.Result.CheckFinite).
func Compute(p *spec.Params, batch []spec.Pair) (*Output, error) {
	if err := validate(p, batch); err != nil {
		return nil, err
	}
	w := weights(p, batch)
	l := loss(p, batch, w.alpha)
	nll := 0.0
	for b := range batch {
		for k := range p.K() {
			nll += l.stats[b][k].nll()
		}
	}
	out := &Output{
		Loss:             l.loss,
		NLL:              nll / float64(len(batch)*p.K()),
		Losses:           l.losses,
		Alpha:            w.alpha,
		Raw:              w.raw,
		Mu:               w.mu,
		Sigma:            w.sigma,
		ChosenRewards:    l.chosenRewards,
		RejectedRewards:  l.rejectedRewards,
		ChosenLogps:      newMatrix(len(batch), p.K()),
		RejectedLogps:    newMatrix(len(batch), p.K()),
		NonFiniteWeights: w.nonFinite,
	}
	for b := range batch {
		for k := range p.K() {
			out.ChosenLogps[b][k] = l.stats[b][k].sW
			out.RejectedLogps[b][k] = l.stats[b][k].sL
		}
	}
	if err := out.CheckFinite(p); err != nil {
		return nil, err
	}
	return out, nil
}

// Weights returns the weights of p's policy for the batch: alpha (normalised), raw (before
// normalisation, non-finite values set to 0), mu and sigma (the Gaussians' parameters,
// reported for every policy) and the count of raw values that were not finite.
func Weights(p *spec.Params, batch []spec.Pair) (alpha, raw, mu, sigma [][]float64, nonFinite int, err error) {
	if err := validate(p, batch); err != nil {
		return nil, nil, nil, nil, 0, err
	}
	w := weights(p, batch)
	return w.alpha, w.raw, w.mu, w.sigma, w.nonFinite, nil
}

// LossWithWeights returns the loss and the per-pair losses l[b][k] for the given weights
// alpha [B][K], which are held fixed. It returns an error, not NaN, when the loss is not
// finite.
func LossWithWeights(p *spec.Params, batch []spec.Pair, alpha [][]float64) (float64, [][]float64, error) {
	if err := validate(p, batch); err != nil {
		return 0, nil, err
	}
	if err := checkAlpha(p, batch, alpha); err != nil {
		return 0, nil, err
	}
	l := loss(p, batch, alpha)
	if !isFinite(l.loss) {
		return 0, nil, fmt.Errorf("loss: not finite (%v)", l.loss)
	}
	return l.loss, l.losses, nil
}

// Gradient returns dLoss/d(token log-prob) for every policy token, alpha held fixed (the
// weights carry no gradient), shaped like the batch: grads[b].Chosen[k][t] and
// grads[b].Rejected[k][t]; the Ref fields are nil (the reference model is constant). It
// returns an error, not NaN, when a derivative is not finite.
//
// It is the chain rule written out: Loss = sum_{b,k} alpha[b][k]*l[b][k] / D (D = B or
// B*K), l depends on the tokens through the sequence log-probs s_w, s_l (sum: ds/dlogp_t
// = 1; mean: 1/n) and the mean log-probs m_w, m_l (dm/dlogp_t = 1/n).
func Gradient(p *spec.Params, batch []spec.Pair, alpha [][]float64) ([]spec.Pair, error) {
	if err := validate(p, batch); err != nil {
		return nil, err
	}
	if err := checkAlpha(p, batch, alpha); err != nil {
		return nil, err
	}
	d := denominator(p, len(batch))
	grads := make([]spec.Pair, len(batch))
	for b, pair := range batch {
		grads[b].Chosen = make([][]float64, p.K())
		grads[b].Rejected = make([][]float64, p.K())
		for k := range p.K() {
			st := sequenceStats(p, &pair, k)
			t := pairTerms(p, st)
			c := alpha[b][k] / d
			// Every token of a side gets the same derivative: through s and through m.
			dsW, dsL := 1.0, 1.0
			if p.LengthNormalize {
				dsW, dsL = 1/st.nW, 1/st.nL
			}
			gW := c * (t.dSW*dsW + t.dMW/st.nW)
			gL := c * (t.dSL*dsL + t.dML/st.nL)
			if !isFinite(gW) || !isFinite(gL) {
				return nil, fmt.Errorf("gradient: not finite for pairs[%d], dimension %q (%v, %v)", b, p.Dimensions[k], gW, gL)
			}
			grads[b].Chosen[k] = fill(len(pair.Chosen[k]), gW)
			grads[b].Rejected[k] = fill(len(pair.Rejected[k]), gL)
		}
	}
	return grads, nil
}

// validate checks the parameters and every pair of a non-empty batch.
func validate(p *spec.Params, batch []spec.Pair) error {
	if p == nil {
		return fmt.Errorf("params: nil")
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if len(batch) == 0 {
		return fmt.Errorf("pairs: the batch is empty, at least one pair is needed")
	}
	for b := range batch {
		if err := spec.CheckPair(p, &batch[b], fmt.Sprintf("pairs[%d].", b)); err != nil {
			return err
		}
	}
	return nil
}

// checkAlpha checks that alpha is [B][K] and finite.
func checkAlpha(p *spec.Params, batch []spec.Pair, alpha [][]float64) error {
	if len(alpha) != len(batch) {
		return fmt.Errorf("alpha: %d rows for a batch of %d pairs", len(alpha), len(batch))
	}
	for b, row := range alpha {
		if len(row) != p.K() {
			return fmt.Errorf("alpha[%d]: %d weights for K = %d dimensions", b, len(row), p.K())
		}
		for k, a := range row {
			if !isFinite(a) {
				return fmt.Errorf("alpha[%d][%d]: must be finite, got %v", b, k, a)
			}
		}
	}
	return nil
}

// ---------------------------------------------------------------------------------------
// Weights.

type weightsOut struct {
	alpha, raw, mu, sigma [][]float64
	nonFinite             int
}

// weights computes the policy's weights; p and batch must be valid.
func weights(p *spec.Params, batch []spec.Pair) weightsOut {
	nb, nk := len(batch), p.K()
	w := weightsOut{alpha: newMatrix(nb, nk), raw: newMatrix(nb, nk), mu: newMatrix(nb, nk), sigma: newMatrix(nb, nk)}
	var z []float64 // [B, K, NoiseSlots], row-major
	if p.Policy.Sampled() {
		z = spec.Noise(p.Seed, p.Step, nb, nk)
	}
	noise := func(b, k, slot int) float64 { return z[(b*nk+k)*spec.NoiseSlots+slot] }
	var fixed []float64
	if p.Policy == spec.Fixed {
		fixed = p.NormalizedWeights()
	}
	for b, pair := range batch {
		for k := range nk {
			pw, pl := probs(pair.Chosen[k]), probs(pair.Rejected[k])
			pooled := append(append([]float64(nil), pw...), pl...)
			mu, variance := meanVar(pooled, p.UnbiasedStd)
			var raw float64
			switch p.Policy {
			case spec.Gaussian:
				raw = mu + math.Sqrt(variance)*noise(b, k, 0)
				w.mu[b][k], w.sigma[b][k] = mu, math.Sqrt(variance)
			case spec.GaussianSplit:
				muW, varW := meanVar(pw, p.UnbiasedStd)
				muL, varL := meanVar(pl, p.UnbiasedStd)
				raw = (muW + math.Sqrt(varW)*noise(b, k, 0)) + (muL + math.Sqrt(varL)*noise(b, k, 1))
				w.mu[b][k], w.sigma[b][k] = muW+muL, math.Sqrt(varW+varL)
			case spec.Fixed:
				raw = fixed[k]
				w.mu[b][k], w.sigma[b][k] = mu, math.Sqrt(variance)
			case spec.Uniform:
				raw = 1 / float64(nk)
				w.mu[b][k], w.sigma[b][k] = mu, math.Sqrt(variance)
			}
			if !isFinite(raw) {
				raw = 0
				w.nonFinite++
			}
			w.raw[b][k] = raw
		}
	}
	switch {
	case !p.Policy.Sampled(): // fixed, uniform: the raw weight is the weight.
		for b := range nb {
			copy(w.alpha[b], w.raw[b])
		}
	case p.Softmax == spec.OverBatch:
		flat := make([]float64, 0, nb*nk)
		for b := range nb {
			flat = append(flat, w.raw[b]...)
		}
		flat = Softmax(flat)
		for b := range nb {
			copy(w.alpha[b], flat[b*nk:(b+1)*nk])
		}
	default: // spec.PerExample
		for b := range nb {
			w.alpha[b] = Softmax(w.raw[b])
		}
	}
	return w
}

// probs returns exp(logp) of every token.
func probs(logps []float64) []float64 {
	out := make([]float64, len(logps))
	for i, lp := range logps {
		out[i] = math.Exp(lp)
	}
	return out
}

// meanVar returns the mean and the variance sum((x-mu)^2)/n, or /(n-1) when unbiased
// (NaN, 0/0, for a single value, as torch.std).
func meanVar(xs []float64, unbiased bool) (mu, variance float64) {
	n := float64(len(xs))
	for _, x := range xs {
		mu += x
	}
	mu /= n
	ss := 0.0
	for _, x := range xs {
		ss += (x - mu) * (x - mu)
	}
	if unbiased {
		return mu, ss / (n - 1)
	}
	return mu, ss / n
}

// Softmax returns exp(x_i - max) / sum_j exp(x_j - max): the weights over the K dimensions.
func Softmax(xs []float64) []float64 {
	maxX := math.Inf(-1)
	for _, x := range xs {
		maxX = math.Max(maxX, x)
	}
	out := make([]float64, len(xs))
	sum := 0.0
	for i, x := range xs {
		out[i] = math.Exp(x - maxX)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// ---------------------------------------------------------------------------------------
// Losses.

// stats are the per-pair statistics of one pair and dimension.
type stats struct {
	sW, sL     float64 // sequence log-probs: sum, or mean with LengthNormalize
	mW, mL     float64 // mean per-token log-probs
	refW, refL float64 // reference sequence log-probs, reduced like s (0 when unused)
	nW, nL     float64 // token counts
	// marginW, marginL: MODPO's weighted margin rewards sum_j w[j+1]*mr[j] (0 for the other losses).
	marginW, marginL float64
}

// nll is the SFT term: the chosen response's mean per-token NLL.
func (s stats) nll() float64 { return -s.mW }

func sequenceStats(p *spec.Params, pair *spec.Pair, k int) stats {
	st := stats{nW: float64(len(pair.Chosen[k])), nL: float64(len(pair.Rejected[k]))}
	sumW, sumL := sum(pair.Chosen[k]), sum(pair.Rejected[k])
	st.mW, st.mL = sumW/st.nW, sumL/st.nL
	st.sW, st.sL = sumW, sumL
	if p.LengthNormalize {
		st.sW, st.sL = st.mW, st.mL
	}
	if p.Loss.NeedsReference() {
		st.refW, st.refL = reduce(pair.RefChosen[k], p.LengthNormalize), reduce(pair.RefRejected[k], p.LengthNormalize)
	}
	if p.Loss.NeedsMarginRewards() {
		st.marginW, st.marginL = weightedMargin(p, pair.MarginChosen[k]), weightedMargin(p, pair.MarginRejected[k])
	}
	return st
}

// terms are one pair's loss l (NLL term included), rewards, and the partial derivatives
// of l with respect to s_w, s_l, m_w, m_l.
type terms struct {
	loss, rW, rL       float64
	dSW, dSL, dMW, dML float64
}

// pairTerms computes l[b][k] as in spec/doc.go, and its partial derivatives.
// With x the argument of the log-sigmoid, d(-logsig(x))/dx = -sigmoid(-x).
func pairTerms(p *spec.Params, st stats) terms {
	var t terms
	switch p.Loss {
	case spec.AMoPO, spec.SimPO:
		// l = -logsig(beta*(s_w - s_l) - gamma); r = beta*s.
		x := p.Beta*(st.sW-st.sL) - p.Gamma
		t.loss = -logSigmoid(x)
		t.rW, t.rL = p.Beta*st.sW, p.Beta*st.sL
		g := sigmoid(-x)
		t.dSW, t.dSL = -p.Beta*g, p.Beta*g
	case spec.ContrastiveCPO:
		// l = -logsig(beta*(s_w - s_l)); r = beta*s.
		x := p.Beta * (st.sW - st.sL)
		t.loss = -logSigmoid(x)
		t.rW, t.rL = p.Beta*st.sW, p.Beta*st.sL
		g := sigmoid(-x)
		t.dSW, t.dSL = -p.Beta*g, p.Beta*g
	case spec.DPO, spec.ControllableCPO:
		// l = -logsig(beta*(h_w - h_l)), h = s - ref_s; r = beta*h. Controllable CPO's
		// ref_s is the reference's on the control-token prompt: the same arithmetic.
		hW, hL := st.sW-st.refW, st.sL-st.refL
		x := p.Beta * (hW - hL)
		t.loss = -logSigmoid(x)
		t.rW, t.rL = p.Beta*hW, p.Beta*hL
		g := sigmoid(-x)
		t.dSW, t.dSL = -p.Beta*g, p.Beta*g
	case spec.MODPO:
		// l = -logsig(r_w - r_l), r = (beta*h - margin)/w0, h = s - ref_s.
		w0 := p.ObjectiveWeights[0]
		t.rW = (p.Beta*(st.sW-st.refW) - st.marginW) / w0
		t.rL = (p.Beta*(st.sL-st.refL) - st.marginL) / w0
		x := t.rW - t.rL
		t.loss = -logSigmoid(x)
		g := sigmoid(-x)
		t.dSW, t.dSL = -p.Beta/w0*g, p.Beta/w0*g
	case spec.AMoPORef:
		// l = -logsig(beta*(h_w - h_l) - gamma), h = s - ref_s; r = beta*h.
		hW, hL := st.sW-st.refW, st.sL-st.refL
		x := p.Beta*(hW-hL) - p.Gamma
		t.loss = -logSigmoid(x)
		t.rW, t.rL = p.Beta*hW, p.Beta*hL
		g := sigmoid(-x)
		t.dSW, t.dSL = -p.Beta*g, p.Beta*g
	case spec.CalDPO:
		// l = -logsig(h_w - h_l) + 0.5*((h_w - 1/(2 beta))^2 + (h_l + 1/(2 beta))^2); r = h.
		hW, hL := st.sW-st.refW, st.sL-st.refL
		target := 1 / (2 * p.Beta)
		x := hW - hL
		t.loss = -logSigmoid(x) + 0.5*((hW-target)*(hW-target)+(hL+target)*(hL+target))
		t.rW, t.rL = hW, hL
		g := sigmoid(-x)
		t.dSW, t.dSL = -g+(hW-target), g+(hL+target)
	case spec.ORPO:
		// l = -lambda*logsig(lo_w - lo_l), lo = m' - log(-expm1(m')), m' = min(m, -1e-6);
		// r = lambda*m.
		loW, dLoW := logOdds(st.mW)
		loL, dLoL := logOdds(st.mL)
		x := loW - loL
		t.loss = -p.Lambda * logSigmoid(x)
		t.rW, t.rL = p.Lambda*st.mW, p.Lambda*st.mL
		g := sigmoid(-x)
		t.dMW, t.dML = -p.Lambda*g*dLoW, p.Lambda*g*dLoL
	default:
		panic(fmt.Sprintf("ref: no loss named %q", p.Loss)) // unreachable after Validate
	}
	// Every loss adds NLLWeight*nll, nll = -m_w.
	t.loss += p.NLLWeight * st.nll()
	t.dMW -= p.NLLWeight
	return t
}

type lossOut struct {
	loss                                   float64
	losses, chosenRewards, rejectedRewards [][]float64
	stats                                  [][]stats
}

// loss computes the per-pair terms and the total for fixed weights alpha; p, batch and
// alpha must be valid.
func loss(p *spec.Params, batch []spec.Pair, alpha [][]float64) lossOut {
	nb, nk := len(batch), p.K()
	out := lossOut{
		losses: newMatrix(nb, nk), chosenRewards: newMatrix(nb, nk), rejectedRewards: newMatrix(nb, nk),
		stats: make([][]stats, nb),
	}
	total := 0.0
	for b := range batch {
		out.stats[b] = make([]stats, nk)
		for k := range nk {
			st := sequenceStats(p, &batch[b], k)
			t := pairTerms(p, st)
			out.stats[b][k] = st
			out.losses[b][k], out.chosenRewards[b][k], out.rejectedRewards[b][k] = t.loss, t.rW, t.rL
			total += alpha[b][k] * t.loss
		}
	}
	out.loss = total / denominator(p, nb)
	return out
}

// denominator is B (reduction sum: sum over k, mean over examples) or B*K (mean over entries).
func denominator(p *spec.Params, nb int) float64 {
	if p.Reduce == spec.MeanOverEntries {
		return float64(nb * p.K())
	}
	return float64(nb)
}

// ---------------------------------------------------------------------------------------
// Scalar helpers.

// logSigmoid is log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), finite for every finite x.
func logSigmoid(x float64) float64 {
	return math.Min(x, 0) - math.Log1p(math.Exp(-math.Abs(x)))
}

// sigmoid is 1/(1+exp(-x)), without overflow for large |x|.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// logOdds returns ORPO's log-odds of the mean probability, lo = m' - log(-expm1(m')) with
// m' = min(m, -1e-6), and its derivative dlo/dm: 1 + exp(m')/(-expm1(m')) = -1/expm1(m')
// where the clamp is inactive, 0 where it is active (m > -1e-6).
func logOdds(m float64) (lo, dlo float64) {
	if m > orpoMaxMeanLogp {
		mc := orpoMaxMeanLogp
		return mc - math.Log(-math.Expm1(mc)), 0
	}
	return m - math.Log(-math.Expm1(m)), -1 / math.Expm1(m)
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// weightedMargin is MODPO's w_{-k}.mr: the margin rewards weighted by ObjectiveWeights[1:].
func weightedMargin(p *spec.Params, rewards []float64) float64 {
	m := 0.0
	for j, r := range rewards {
		m += p.ObjectiveWeights[j+1] * r
	}
	return m
}

// reduce is the sum, or the mean when mean is set.
func reduce(xs []float64, mean bool) float64 {
	s := sum(xs)
	if mean {
		return s / float64(len(xs))
	}
	return s
}

func newMatrix(rows, cols int) [][]float64 {
	m := make([][]float64, rows)
	for i := range m {
		m[i] = make([]float64, cols)
	}
	return m
}

func fill(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}
