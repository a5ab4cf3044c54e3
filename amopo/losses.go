package amopo

import (
	"github.com/amopo-engine/amopo/amopo/spec"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
)

// Sequences are the per-pair statistics every preference loss works on, [B, K] each.
type Sequences struct {
	// ChosenLogps, RejectedLogps: the sequence log-probs s (sum, or mean when
	// length-normalised).
	ChosenLogps, RejectedLogps *Node
	// ChosenMean, RejectedMean: the mean per-token log-probs m.
	ChosenMean, RejectedMean *Node
	// RefChosen, RefRejected: the reference sequence log-probs, reduced like s; nil for
	// losses that need no reference. For controllable-cpo they come from
	// Inputs.ControlRefSums (the reference given the control-token prompt).
	RefChosen, RefRejected *Node
	// MarginChosen, MarginRejected [B, K, M]: MODPO's margin rewards of the other
	// objectives (zero for an invalid pair); nil for the other losses.
	MarginChosen, MarginRejected *Node
}

// PairTerms are what a preference loss returns per pair, [B, K] each.
type PairTerms struct {
	Loss                         *Node
	ChosenReward, RejectedReward *Node
}

// A PreferenceLoss is one loss of the family: per pair and dimension, a loss and the
// implicit rewards, from the sequence statistics. The NLL term, the masking, the weights
// and the reduction are shared plumbing done once in Done.
type PreferenceLoss interface {
	PairTerms(s *Sequences, p *spec.Params) PairTerms
}

// PreferenceLossFunc adapts a function to PreferenceLoss.
type PreferenceLossFunc func(s *Sequences, p *spec.Params) PairTerms

// PairTerms implements PreferenceLoss.
func (f PreferenceLossFunc) PairTerms(s *Sequences, p *spec.Params) PairTerms { return f(s, p) }

// LossFor returns the built-in loss of that name.
func LossFor(name spec.LossName) PreferenceLoss {
	switch name {
	case spec.AMoPO, spec.SimPO:
		return PreferenceLossFunc(simpoTerms)
	case spec.DPO, spec.ControllableCPO:
		return PreferenceLossFunc(dpoTerms)
	case spec.CalDPO:
		return PreferenceLossFunc(calDPOTerms)
	case spec.ContrastiveCPO:
		return PreferenceLossFunc(cpoTerms)
	case spec.MODPO:
		return PreferenceLossFunc(modpoTerms)
	case spec.AMoPORef:
		return PreferenceLossFunc(amopoRefTerms)
	case spec.ORPO:
		return PreferenceLossFunc(orpoTerms)
	}
	panicf("amopo: no loss named %q", name)
	return nil
}

// LogSigmoid is log(sigmoid(x)) computed as min(x, 0) - log1p(exp(-|x|)): finite for any
// finite x, with a finite gradient.
func LogSigmoid(x *Node) *Node {
	return Sub(MinScalar(x, 0.0), Log1p(Exp(Neg(Abs(x)))))
}

// simpoTerms: -logsig(beta*(s_w - s_l) - gamma), rewards beta*s (AMoPO per dimension).
func simpoTerms(s *Sequences, p *spec.Params) PairTerms {
	rw, rl := MulScalar(s.ChosenLogps, p.Beta), MulScalar(s.RejectedLogps, p.Beta)
	return PairTerms{Loss: Neg(LogSigmoid(AddScalar(Sub(rw, rl), -p.Gamma))), ChosenReward: rw, RejectedReward: rl}
}

// dpoTerms: -logsig(beta*(h_w - h_l)), h = s - ref_s, rewards beta*h.
func dpoTerms(s *Sequences, p *spec.Params) PairTerms {
	rw := MulScalar(Sub(s.ChosenLogps, s.RefChosen), p.Beta)
	rl := MulScalar(Sub(s.RejectedLogps, s.RefRejected), p.Beta)
	return PairTerms{Loss: Neg(LogSigmoid(Sub(rw, rl))), ChosenReward: rw, RejectedReward: rl}
}

// calDPOTerms: -logsig(h_w - h_l) + 0.5*((h_w - 1/(2 beta))^2 + (h_l + 1/(2 beta))^2), rewards h.
func calDPOTerms(s *Sequences, p *spec.Params) PairTerms {
	hw, hl := Sub(s.ChosenLogps, s.RefChosen), Sub(s.RejectedLogps, s.RefRejected)
	target := 1 / (2 * p.Beta)
	calib := MulScalar(Add(Square(AddScalar(hw, -target)), Square(AddScalar(hl, target))), 0.5)
	return PairTerms{Loss: Add(Neg(LogSigmoid(Sub(hw, hl))), calib), ChosenReward: hw, RejectedReward: hl}
}

// cpoTerms (contrastive CPO): -logsig(beta*(s_w - s_l)), rewards beta*s (the NLL term is
// added in Done).
func cpoTerms(s *Sequences, p *spec.Params) PairTerms {
	rw, rl := MulScalar(s.ChosenLogps, p.Beta), MulScalar(s.RejectedLogps, p.Beta)
	return PairTerms{Loss: Neg(LogSigmoid(Sub(rw, rl))), ChosenReward: rw, RejectedReward: rl}
}

// orpoMaxMeanLogp keeps ORPO's log-odds finite when a response has probability ~1.
const orpoMaxMeanLogp = -1e-6

// orpoTerms: -lambda*logsig(lo_w - lo_l), lo = m' - log(-expm1(m')), m' = min(m, -1e-6);
// rewards lambda*m.
func orpoTerms(s *Sequences, p *spec.Params) PairTerms {
	logOdds := func(m *Node) *Node {
		mc := MinScalar(m, orpoMaxMeanLogp)
		return Sub(mc, Log(Neg(expm1(mc))))
	}
	lo := Sub(logOdds(s.ChosenMean), logOdds(s.RejectedMean))
	return PairTerms{
		Loss:           MulScalar(LogSigmoid(lo), -p.Lambda),
		ChosenReward:   MulScalar(s.ChosenMean, p.Lambda),
		RejectedReward: MulScalar(s.RejectedMean, p.Lambda),
	}
}

// expm1 is exp(x)-1 with a gradient: GoMLX v0.26 defines none for Expm1. The value is
// Expm1's, exactly (e - e adds an exact 0); the gradient flows through Exp.
func expm1(x *Node) *Node {
	e := Exp(x)
	return Add(StopGradient(Expm1(x)), Sub(e, StopGradient(e)))
}
