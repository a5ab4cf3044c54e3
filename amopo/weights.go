package amopo

import (
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
)

// ProbStats are the statistics of the response tokens' probabilities p = exp(logp) per
// pair and dimension, [B, K] each, computed without gradient. Var* follow
// spec.Params.UnbiasedStd (NaN when an unbiased variance has fewer than 2 tokens).
type ProbStats struct {
	// Pooled over the chosen and rejected tokens (paper Eq. 10).
	Mu, Var *Node
	// Per side (the authors' code).
	ChosenMu, ChosenVar, RejectedMu, RejectedVar *Node
}

// Weights are a policy's output, [B, K] each: the normalised weights and, for logging,
// the pre-normalisation values and the Gaussian's parameters.
type Weights struct {
	Alpha, Raw, Mu, Sigma *Node
}

// A WeightPolicy chooses alpha_k for every pair. noise is [B, K, 2] of standard normals
// (nil for policies that draw nothing). Raw values that are not finite are set to 0 and
// counted by Done; sampled policies leave Alpha nil and Done applies the softmax of
// spec.Params.Softmax to Raw.
type WeightPolicy interface {
	Weights(st *ProbStats, noise *Node, p *spec.Params) Weights
}

// WeightPolicyFunc adapts a function to WeightPolicy.
type WeightPolicyFunc func(st *ProbStats, noise *Node, p *spec.Params) Weights

// Weights implements WeightPolicy.
func (f WeightPolicyFunc) Weights(st *ProbStats, noise *Node, p *spec.Params) Weights {
	return f(st, noise, p)
}

// PolicyFor returns the built-in weight policy of that name.
func PolicyFor(name spec.PolicyName) WeightPolicy {
	switch name {
	case spec.Gaussian:
		return WeightPolicyFunc(gaussianWeights)
	case spec.GaussianSplit:
		return WeightPolicyFunc(gaussianSplitWeights)
	case spec.Fixed:
		return WeightPolicyFunc(fixedWeights)
	case spec.Uniform:
		return WeightPolicyFunc(uniformWeights)
	}
	panicf("amopo: no weight policy named %q", name)
	return nil
}

// gaussianWeights is paper Eq. 10: raw = mu + sigma*z0 over the pooled tokens.
func gaussianWeights(st *ProbStats, noise *Node, _ *spec.Params) Weights {
	sigma := Sqrt(st.Var)
	return Weights{Raw: Add(st.Mu, Mul(sigma, pick(noise, 0))), Mu: st.Mu, Sigma: sigma}
}

// gaussianSplitWeights is the authors' code: one draw per side, summed.
func gaussianSplitWeights(st *ProbStats, noise *Node, _ *spec.Params) Weights {
	drawW := Add(st.ChosenMu, Mul(Sqrt(st.ChosenVar), pick(noise, 0)))
	drawL := Add(st.RejectedMu, Mul(Sqrt(st.RejectedVar), pick(noise, 1)))
	return Weights{
		Raw:   Add(drawW, drawL),
		Mu:    Add(st.ChosenMu, st.RejectedMu),
		Sigma: Sqrt(Add(st.ChosenVar, st.RejectedVar)),
	}
}

// fixedWeights broadcasts the user's normalised ratios to every example.
func fixedWeights(st *ProbStats, _ *Node, p *spec.Params) Weights {
	w := p.NormalizedWeights()
	g, dtype := st.Mu.Graph(), st.Mu.DType()
	alpha := BroadcastToShape(InsertAxes(ConstAsDType(g, dtype, w), 0), st.Mu.Shape())
	return Weights{Alpha: alpha, Raw: alpha, Mu: st.Mu, Sigma: Sqrt(st.Var)}
}

// uniformWeights gives every dimension 1/K.
func uniformWeights(st *ProbStats, _ *Node, p *spec.Params) Weights {
	alpha := FillScalar(st.Mu.Graph(), st.Mu.Shape(), 1/float64(p.K()))
	return Weights{Alpha: alpha, Raw: alpha, Mu: st.Mu, Sigma: Sqrt(st.Var)}
}

// probStats computes ProbStats from the sanitised log-probs [B, K, 2, T] and the mask of
// the tokens that count. No gradient flows through it.
func probStats(safeLogps, tokenMask *Node, counts *Node, p *spec.Params) *ProbStats {
	zeros := ZerosLike(safeLogps)
	probs := Where(tokenMask, Exp(StopGradient(safeLogps)), zeros)
	sumP := ReduceSum(probs, -1) // [B, K, 2]
	safeCounts := MaxScalar(counts, 1.0)
	// varianceDenominator is n, or n-1 for the unbiased variance (0 for a single token:
	// 0/0 = NaN, as torch.std).
	varianceDenominator := func(n *Node) *Node {
		if p.UnbiasedStd {
			return AddScalar(n, -1)
		}
		return MaxScalar(n, 1.0)
	}
	sumSquares := func(mu *Node) *Node { // mu broadcastable to [B, K, 2, 1]
		dev := Sub(probs, mu)
		return ReduceSum(Where(tokenMask, Square(dev), zeros), -1)
	}
	// Per side.
	sideMu := Div(sumP, safeCounts)                     // [B, K, 2]
	sideSS := sumSquares(InsertAxes(sideMu, -1))        // [B, K, 2]
	sideVar := Div(sideSS, varianceDenominator(counts)) // [B, K, 2]
	// Pooled.
	n := ReduceSum(counts, -1)
	mu := Div(ReduceSum(sumP, -1), MaxScalar(n, 1.0))             // [B, K]
	pooledSS := ReduceSum(sumSquares(InsertAxes(mu, -1, -1)), -1) // [B, K]
	return &ProbStats{
		Mu: mu, Var: Div(pooledSS, varianceDenominator(n)),
		ChosenMu: pick(sideMu, 0), ChosenVar: pick(sideVar, 0),
		RejectedMu: pick(sideMu, 1), RejectedVar: pick(sideVar, 1),
	}
}

// finishWeights zeroes non-finite raw values, counts them, and applies the softmax of
// the sampled policies. It returns the weights with Alpha set, and the count.
func finishWeights(w Weights, p *spec.Params) (Weights, *Node) {
	finite := IsFinite(w.Raw)
	nonFinite := ReduceAllSum(ConvertDType(LogicalNot(finite), dtypes.Int32))
	w.Raw = Where(finite, w.Raw, ZerosLike(w.Raw))
	if w.Alpha == nil {
		if p.Softmax == spec.OverBatch {
			w.Alpha = Softmax(w.Raw, 0, 1)
		} else {
			w.Alpha = Softmax(w.Raw, -1)
		}
	}
	w.Alpha = StopGradient(w.Alpha)
	return w, nonFinite
}

// pick returns x[..., i]: of a [B, K, 2] tensor as [B, K], of a [K] vector as a scalar. It multiplies by a one-hot
// and sums rather than slicing: the gradient of a slice is a Pad, which the pure-Go
// backend lacks.
func pick(x *Node, i int) *Node {
	oneHot := make([]float64, x.Shape().Dimensions[x.Rank()-1])
	oneHot[i] = 1
	sel := ConstAsDType(x.Graph(), x.DType(), oneHot)
	sel = Reshape(sel, append(onesDims(x.Rank()-1), len(oneHot))...)
	return ReduceSum(Mul(x, sel), -1)
}

func onesDims(n int) []int {
	d := make([]int, n)
	for i := range d {
		d[i] = 1
	}
	return d
}
