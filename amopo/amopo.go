// Package amopo is the one AMoPO loss and weight module of the engine, written as GoMLX
// graph functions so that every GoMLX backend (pure Go, XLA/PJRT, WebGPU) runs the same
// code, and so that a Go programmer can put it in their own GoMLX model.
//
// A model scores 2*K sequences per preference pair: the chosen and the rejected
// response, each under the K dimension templates x*_k = f(x, d_k). TokenLogProbs turns
// its logits into per-token log-probs of the response tokens; New(...).Done() turns
// those into the loss of the whole family (AMoPO with or without a reference model,
// SimPO, DPO, ORPO, contrastive and controllable CPO, Cal-DPO, MODPO), the
// adaptive weights of a pluggable policy, and the metrics a trainer logs:
//
//	logps, mask := amopo.TokenLogProbs(logits, tokens, responseMask) // [B*K*2, S]
//	in := amopo.Inputs{
//		Logps: Reshape(logps, B, K, 2, S), Mask: Reshape(mask, B, K, 2, S),
//		Noise: noise, // [B, K, 2] standard normals: amopo.NoiseTensor(seed, step, B, K)
//	}
//	out := amopo.New(in).Params(spec.Defaults(spec.AMoPO)).Done()
//	loss := out.Loss
//
// The exact definitions are in package spec (doc.go); the float64 reference in package
// ref computes the same numbers and is what the tests hold this package to.
package amopo

import (
	"fmt"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code.
	"github.com/pkg/errors"
)

// Inputs are the graph inputs of the loss, for B pairs, K dimensions and T token slots.
type Inputs struct {
	// Logps [B, K, 2, T]: per-token log-probs of the response tokens; index 0 of axis 2 is
	// the chosen response, 1 the rejected one. Values at masked-out slots are ignored,
	// even if they are NaN or infinite.
	Logps *Node
	// Mask [B, K, 2, T]: 1 (or true) where a slot holds a response token.
	Mask *Node
	// RefSums [B, K, 2]: the reference model's summed log-probs of the same response tokens
	// under the same prompt (computed once before training). Needed by the losses with
	// spec.LossName.NeedsReference, except controllable-cpo (ControlRefSums).
	RefSums *Node
	// ControlRefSums [B, K, 2]: controllable CPO's reference, the reference model's summed
	// log-probs of the response tokens given the control-token prompt (c, x), while Logps
	// are the policy's given x. A separate input, so that a trainer that scores the
	// reference on the policy's prompt (DPO's RefSums) cannot pass it for this loss.
	ControlRefSums *Node
	// MarginRewards [B, K, 2, M]: MODPO's margin rewards, the rewards of the chosen (axis 2
	// index 0) and rejected response on the M other objectives (e.g. a reward model's
	// outputs, or the data's per-dimension scores), M = len(ObjectiveWeights) - 1.
	MarginRewards *Node
	// Noise [B, K, 2]: standard normal draws for the sampled policies (gaussian,
	// gaussian-split); see NoiseTensor. Ignored by fixed and uniform.
	Noise *Node
}

// Outputs are what the loss computes. Per-pair tensors are [B, K].
type Outputs struct {
	// Loss is the scalar to minimise.
	Loss *Node
	// PairLosses are l[b][k], the per-dimension losses (NLL term included).
	PairLosses *Node
	// NLL is the mean over pairs of the chosen response's mean per-token NLL.
	NLL *Node
	// Alpha are the weights (no gradient flows through them); Raw their pre-softmax draws;
	// Mu and Sigma the Gaussians' parameters (reported for every policy).
	Alpha, Raw, Mu, Sigma *Node
	// ChosenRewards and RejectedRewards are the implicit rewards; their difference is the
	// reward margin.
	ChosenRewards, RejectedRewards *Node
	// ChosenLogps and RejectedLogps are the sequence log-probs the loss used (sum or mean).
	ChosenLogps, RejectedLogps *Node
	// NonFiniteWeights counts raw weights that were NaN/Inf and were set to 0 (int32 scalar).
	NonFiniteWeights *Node
	// InvalidPairs counts pairs left out of the loss because a side had no response token
	// or a non-finite log-prob (int32 scalar). A trainer should log it and check masks on
	// the host first (CheckMask), so that it stays 0.
	InvalidPairs *Node

	params spec.Params
}

// Builder configures the loss; create it with New and finish with Done.
type Builder struct {
	in     Inputs
	params spec.Params
	loss   PreferenceLoss
	policy WeightPolicy
}

// New starts building the loss for the given inputs, with the AMoPO defaults of the paper
// (beta 0.8, gamma 2, length normalisation, gaussian weights, K = 4 default dimensions).
func New(in Inputs) *Builder {
	return &Builder{in: in, params: spec.Defaults(spec.AMoPO)}
}

// Params replaces every hyper-parameter at once (e.g. with spec.Defaults(spec.DPO), or
// with a resolved spec.Request).
func (b *Builder) Params(p spec.Params) *Builder { b.params = p; return b }

// Loss selects the loss and resets the other hyper-parameters to that loss's defaults,
// keeping the dimensions.
func (b *Builder) Loss(name spec.LossName) *Builder {
	dims := b.params.Dimensions
	b.params = spec.Defaults(name)
	b.params.Dimensions = dims
	return b
}

// Dimensions names the K dimension templates, in the order of the K axis.
func (b *Builder) Dimensions(names ...string) *Builder { b.params.Dimensions = names; return b }

// Beta sets beta.
func (b *Builder) Beta(beta float64) *Builder { b.params.Beta = beta; return b }

// Gamma sets the target reward margin of AMoPO/SimPO.
func (b *Builder) Gamma(gamma float64) *Builder { b.params.Gamma = gamma; return b }

// LengthNormalize chooses mean (true) or summed (false) sequence log-probs.
func (b *Builder) LengthNormalize(on bool) *Builder { b.params.LengthNormalize = on; return b }

// ObjectiveWeights sets MODPO's w = [w_k, w_-k...]: the trained objective's weight, then
// one per margin reward (Inputs.MarginRewards has len(w) - 1 of them per response).
func (b *Builder) ObjectiveWeights(w ...float64) *Builder { b.params.ObjectiveWeights = w; return b }

// Policy selects the weight policy; weights are the ratios of the fixed policy.
func (b *Builder) Policy(name spec.PolicyName, weights ...float64) *Builder {
	b.params.Policy, b.params.Weights = name, weights
	return b
}

// CustomLoss replaces the per-pair terms of the named loss with your own (the masking,
// NLL term, weights and reduction stay the shared ones). The loss name still selects
// whether reference sums are required.
func (b *Builder) CustomLoss(l PreferenceLoss) *Builder { b.loss = l; return b }

// CustomPolicy replaces the weight policy with your own; the policy name still selects
// whether Inputs.Noise is required (name a sampled one if yours draws).
func (b *Builder) CustomPolicy(w WeightPolicy) *Builder { b.policy = w; return b }

// Done builds the loss graph. Like every GoMLX graph function it panics, with context,
// on invalid parameters or input shapes.
func (b *Builder) Done() *Outputs {
	p := b.params
	if err := p.Validate(); err != nil {
		panic(errors.Wrap(err, "amopo: invalid parameters"))
	}
	checkInputs(&p, &b.in)
	loss, policy := b.loss, b.policy
	if loss == nil {
		loss = LossFor(p.Loss)
	}
	if policy == nil {
		policy = PolicyFor(p.Policy)
	}
	return build(&p, &b.in, loss, policy)
}

// checkInputs panics with a clear message when the inputs do not fit the parameters.
func checkInputs(p *spec.Params, in *Inputs) {
	if in.Logps == nil || in.Mask == nil {
		panicf("amopo: Inputs.Logps and Inputs.Mask are required")
	}
	ls := in.Logps.Shape()
	if ls.Rank() != 4 || ls.Dimensions[2] != 2 {
		panicf("amopo: Inputs.Logps must be [B, K, 2, T] (axis 2: chosen, rejected), got %s", ls)
	}
	if !ls.DType.IsFloat() {
		panicf("amopo: Inputs.Logps must be a float tensor, got %s", ls)
	}
	if k := ls.Dimensions[1]; k != p.K() {
		panicf("amopo: Inputs.Logps has K = %d dimensions but the parameters name %d: %v", k, p.K(), p.Dimensions)
	}
	if ms := in.Mask.Shape(); !equalDims(ms.Dimensions, ls.Dimensions) {
		panicf("amopo: Inputs.Mask shape %s does not match Inputs.Logps %s", ms, ls)
	}
	bk2 := ls.Dimensions[:3]
	if p.Loss.ControlReference() {
		checkControlInputs(p, in, bk2)
	} else if p.Loss.NeedsReference() {
		if in.RefSums == nil {
			panicf("amopo: loss %q needs Inputs.RefSums [B, K, 2], the reference model's summed log-probs", p.Loss)
		}
		if !equalDims(in.RefSums.Shape().Dimensions, bk2) {
			panicf("amopo: Inputs.RefSums must be %v, got %s", bk2, in.RefSums.Shape())
		}
	}
	if p.Loss.NeedsMarginRewards() {
		checkMarginInputs(p, in, bk2)
	}
	if p.Policy.Sampled() {
		if in.Noise == nil {
			panicf("amopo: policy %q needs Inputs.Noise [B, K, 2] of standard normals (see NoiseTensor)", p.Policy)
		}
		if !equalDims(in.Noise.Shape().Dimensions, bk2) {
			panicf("amopo: Inputs.Noise must be %v, got %s", bk2, in.Noise.Shape())
		}
	}
}

func equalDims(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func panicf(format string, args ...any) {
	panic(errors.WithStack(fmt.Errorf(format, args...)))
}

// asDType converts x to dtype when needed (bool masks, f32 reference sums, ...).
func asDType(x *Node, dtype dtypes.DType) *Node {
	if x.DType() == dtype {
		return x
	}
	return ConvertDType(x, dtype)
}
