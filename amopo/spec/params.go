package spec

import (
	"fmt"
	"math"
)

// SoftmaxScope says over which entries the sampled weights are normalised.
type SoftmaxScope string

const (
	// PerExample normalises over the K dimensions of each example: the sound reading of
	// the paper, and the default.
	PerExample SoftmaxScope = "example"
	// OverBatch normalises over all B*K entries of the batch, as the authors' code does
	// (a batch-size-1 artefact there).
	OverBatch SoftmaxScope = "batch"
)

// Reduction says how the weighted per-dimension losses alpha_k*l_k become one number.
type Reduction string

const (
	// SumOverDimensions is the paper's Eq. 9: sum over k, mean over examples. Default.
	SumOverDimensions Reduction = "sum"
	// MeanOverEntries is the authors' code: the mean of alpha_k*l_k over all B*K entries,
	// i.e. 1/K times the paper's value.
	MeanOverEntries Reduction = "mean"
)

// Params are the resolved hyper-parameters of one loss of the family. Build them with
// Defaults and change fields, or resolve a Request; call Validate before use.
type Params struct {
	Loss   LossName
	Policy PolicyName
	// Dimensions names the K dimension templates, in the order of the K axis of the inputs.
	Dimensions []string
	// Beta scales the implicit rewards (AMoPO/SimPO/DPO/CPO/MODPO) or sets Cal-DPO's calibration
	// targets +-1/(2 beta).
	Beta float64
	// Gamma is the target reward margin of AMoPO/SimPO: -log sigmoid(beta*delta - gamma)
	// (TRL/LLaMA-Factory meaning, as the authors' code; not SimPO-repo's gamma/beta ratio).
	Gamma float64
	// Lambda weighs ORPO's odds-ratio term.
	Lambda float64
	// NLLWeight weighs an SFT term: the mean per-token NLL of the chosen response
	// (contrastive CPO's and ORPO's; 0 turns it off, and any loss may add one).
	NLLWeight float64
	// LengthNormalize uses the mean per-token log-prob of a response as its sequence
	// log-prob instead of the sum. ORPO's odds always use the mean (its definition).
	LengthNormalize bool
	// Weights are the ratios of the fixed policy, one per dimension, normalised to sum 1.
	Weights []float64
	// ObjectiveWeights are MODPO's w = [w_k, w_{-k}...]: w_k (> 0) weighs the objective
	// whose preference labels the pairs carry, w_{-k} the M other objectives whose margin
	// rewards are inputs (len = 1 + M). MODPO only; the paper's w = 0.5: [0.5, 0.5].
	ObjectiveWeights []float64
	// UnbiasedStd uses the n-1 variance (torch.std, the authors' code) instead of the
	// paper's 1/n variance. A response set with fewer than 2 tokens then has no defined
	// variance: the draw is non-finite and becomes 0, as in the authors' code, and is counted.
	UnbiasedStd bool
	// Softmax is the normalisation scope of the sampled weights.
	Softmax SoftmaxScope
	// Reduce combines alpha_k*l_k.
	Reduce Reduction
	// Seed and Step select the standard normal draws of the sampled policies (see Noise).
	Seed uint64
	Step uint64
}

// DefaultDimensions are the authors' K = 4 templates: the general one plus the
// paper's three dimensions.
func DefaultDimensions() []string {
	return []string{"general", "helpfulness", "correctness", "instruction_following"}
}

// Defaults returns the paper's hyper-parameters for a loss (paper appendix B.1 and
// Table 4): AMoPO (with or without a reference model) and SimPO beta 0.8, gamma 2.0; DPO,
// controllable CPO, Cal-DPO beta 0.2; MODPO beta 0.2, w 0.5; ORPO lambda 0.1; contrastive
// CPO (not in the paper) DPO's beta 0.2 with TRL's NLL weight 1.
func Defaults(loss LossName) Params {
	p := Params{
		Loss:       loss,
		Policy:     Uniform,
		Dimensions: DefaultDimensions(),
		Softmax:    PerExample,
		Reduce:     SumOverDimensions,
	}
	switch loss {
	case AMoPO, AMoPORef:
		p.Policy, p.Beta, p.Gamma, p.LengthNormalize = Gaussian, 0.8, 2.0, true
	case SimPO:
		p.Beta, p.Gamma, p.LengthNormalize = 0.8, 2.0, true
		p.Dimensions = []string{"general"}
	case DPO, CalDPO, ControllableCPO:
		p.Beta = 0.2
		p.Dimensions = []string{"general"}
	case MODPO:
		p.Beta, p.ObjectiveWeights = 0.2, []float64{0.5, 0.5}
		p.Dimensions = []string{"general"}
	case ContrastiveCPO:
		p.Beta, p.NLLWeight = 0.2, 1.0
		p.Dimensions = []string{"general"}
	case ORPO:
		p.Lambda, p.NLLWeight, p.LengthNormalize = 0.1, 1.0, true
		p.Dimensions = []string{"general"}
	}
	return p
}

// K is the number of dimensions.
func (p *Params) K() int { return len(p.Dimensions) }

// Validate checks the parameters; the error names the offending field.
func (p *Params) Validate() error {
	if _, err := ParseLoss(string(p.Loss)); err != nil {
		return fmt.Errorf("loss: %w", err)
	}
	if _, err := ParsePolicy(string(p.Policy)); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	if len(p.Dimensions) == 0 {
		return fmt.Errorf("dimensions: at least one dimension is needed")
	}
	seen := map[string]bool{}
	for i, d := range p.Dimensions {
		if d == "" {
			return fmt.Errorf("dimensions[%d]: empty name", i)
		}
		if seen[d] {
			return fmt.Errorf("dimensions[%d]: %q named twice", i, d)
		}
		seen[d] = true
	}
	for name, v := range map[string]float64{"beta": p.Beta, "gamma": p.Gamma, "lambda": p.Lambda, "nll_weight": p.NLLWeight} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s: must be finite, got %v", name, v)
		}
	}
	if p.Beta < 0 || p.Lambda < 0 || p.NLLWeight < 0 {
		return fmt.Errorf("beta, lambda and nll_weight must be >= 0 (got %v, %v, %v)", p.Beta, p.Lambda, p.NLLWeight)
	}
	if p.Loss == CalDPO && p.Beta == 0 {
		return fmt.Errorf("beta: cal-dpo needs beta > 0 (its targets are +-1/(2 beta))")
	}
	if p.Policy == Fixed {
		if len(p.Weights) != p.K() {
			return fmt.Errorf("weights: the fixed policy needs one weight per dimension: got %d for K = %d %v",
				len(p.Weights), p.K(), p.Dimensions)
		}
		top := 0.0
		for i, w := range p.Weights {
			if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
				return fmt.Errorf("weights[%d]: must be finite and >= 0, got %v", i, w)
			}
			top = max(top, w)
		}
		if top == 0 {
			return fmt.Errorf("weights: must not all be 0")
		}
	} else if len(p.Weights) != 0 {
		return fmt.Errorf("weights: only the fixed policy takes weights (policy is %q)", p.Policy)
	}
	if err := p.validateObjectiveWeights(); err != nil {
		return err
	}
	if p.Softmax != PerExample && p.Softmax != OverBatch {
		return fmt.Errorf("softmax: unknown scope %q (known: %s, %s)", p.Softmax, PerExample, OverBatch)
	}
	if p.Reduce != SumOverDimensions && p.Reduce != MeanOverEntries {
		return fmt.Errorf("reduction: unknown %q (known: %s, %s)", p.Reduce, SumOverDimensions, MeanOverEntries)
	}
	return nil
}

// validateObjectiveWeights checks MODPO's w: at least two finite weights (the trained
// objective's and one other), w_k > 0 (it divides), the others >= 0; no other loss takes them.
func (p *Params) validateObjectiveWeights() error {
	w := p.ObjectiveWeights
	if !p.Loss.NeedsMarginRewards() {
		if len(w) != 0 {
			return fmt.Errorf("objective_weights: only modpo takes objective weights (loss is %q)", p.Loss)
		}
		return nil
	}
	if len(w) < 2 {
		return fmt.Errorf("objective_weights: %s needs [w_k, w_-k...], one weight for the trained objective and "+
			"one per margin reward (at least 2), got %v", p.Loss, w)
	}
	for i, v := range w {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("objective_weights[%d]: must be finite and >= 0, got %v", i, v)
		}
	}
	if w[0] == 0 {
		return fmt.Errorf("objective_weights[0]: w_k must be > 0 (the loss divides by it)")
	}
	return nil
}

// MarginRewardCount is M, the number of other objectives whose margin rewards MODPO takes
// (len(ObjectiveWeights) - 1); 0 for the other losses.
func (p *Params) MarginRewardCount() int {
	if !p.Loss.NeedsMarginRewards() || len(p.ObjectiveWeights) == 0 {
		return 0
	}
	return len(p.ObjectiveWeights) - 1
}

// NormalizedWeights returns the fixed policy's weights scaled to sum to 1. They are
// divided by the largest first: the plain sum of weights near math.MaxFloat64 overflows to
// +Inf, which would turn every weight into 0.
func (p *Params) NormalizedWeights() []float64 {
	top := 0.0
	for _, w := range p.Weights {
		top = max(top, w)
	}
	out := make([]float64, len(p.Weights))
	sum := 0.0
	for i, w := range p.Weights {
		out[i] = w / top
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}
