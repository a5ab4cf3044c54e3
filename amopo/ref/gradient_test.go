package ref

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/amopo-engine/amopo/amopo/internal/testpairs"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/stretchr/testify/require"
)

const eps = 0x1p-52 // float64 machine epsilon

// paramsK4 returns the loss's defaults with the K = 4 default dimensions and the uniform
// policy (fixed weights are passed explicitly in these tests anyway).
func paramsK4(loss spec.LossName) spec.Params {
	p := spec.Defaults(loss)
	p.Dimensions = spec.DefaultDimensions()
	p.Policy = spec.Uniform
	testpairs.FitParams(&p)
	return p
}

func randomAlpha(rng *rand.Rand, b, k int) [][]float64 {
	a := newMatrix(b, k)
	for i := range a {
		for j := range a[i] {
			a[i][j] = 0.05 + rng.Float64()
		}
	}
	return a
}

func sumAbs(arrays ...[]float64) float64 {
	s := 0.0
	for _, a := range arrays {
		for _, v := range a {
			s += math.Abs(v)
		}
	}
	return s
}

// TestGradientMatchesFiniteDifferences holds the analytic Gradient to central finite
// differences of LossWithWeights (alpha fixed), for every loss, with and without length
// normalisation, both reductions, an NLL term on every loss, on random batches (B = 3,
// K = 4, lengths 1..7, log-probs in [-8, -0.01]), a batch with log-probs down to -1e4 and
// length-1 responses, and a batch of ties (chosen == rejected).
//
// Step: h = 1e-6*max(1, |v|) for a token of log-prob v (v + h stays <= 0).
//
// Per entry: the analytic gradient g of a token of pair (b, k) is compared with
// c*(l+[b][k] - l-[b][k])/(2h), c = alpha[b][k]/D, l from LossWithWeights, within
//
//	1e-5*|g| + 1e-10 + 32*eps*S*(c + |g|)/h,
//
// S = 1 + |l[b][k]| + the sum of |log-prob| over the pair's four arrays: a bound on the
// size of every intermediate, so the last term bounds the rounding error of the difference.
// On the moderate batches (not the -1e4 one, where the total is dominated by other
// entries' huge losses) the total is also checked: |g - (L+ - L-)/(2h)| <= 1e-5*|g| + 1e-7.
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	batches := []struct {
		name     string
		batch    []spec.Pair
		moderate bool
	}{
		{"random1", testpairs.Random(rng, 3, 4, -8, -0.01), true},
		{"random2", testpairs.Random(rng, 3, 4, -8, -0.01), true},
		{"extreme", testpairs.Extreme(rng), false},
		{"tie", testpairs.Ties(rng), true},
	}
	worst := 0.0 // the largest |g - fd|/tol seen, logged as the margin of the check
	defer func() { t.Logf("largest |g - fd| / tolerance: %.3g", worst) }()
	for _, loss := range spec.Losses() {
		for _, ln := range []bool{false, true} {
			for bi, tc := range batches {
				name := fmt.Sprintf("%s/ln=%v/%s", loss, ln, tc.name)
				t.Run(name, func(t *testing.T) {
					p := paramsK4(loss)
					p.LengthNormalize = ln
					p.NLLWeight = 0.5
					if bi%2 == 1 {
						p.Reduce = spec.MeanOverEntries
					}
					batch := testpairs.Clone(tc.batch)
					if !loss.NeedsReference() {
						for b := range batch {
							batch[b].RefChosen, batch[b].RefRejected = nil, nil
						}
					}
					alpha := randomAlpha(rng, 3, 4)
					grads, err := Gradient(&p, batch, alpha)
					require.NoError(t, err)
					_, losses0, err := LossWithWeights(&p, batch, alpha)
					require.NoError(t, err)
					d := denominator(&p, len(batch))
					for b := range batch {
						for k := range 4 {
							c := alpha[b][k] / d
							pair := batch[b]
							scale := 1 + math.Abs(losses0[b][k]) +
								sumAbs(pair.Chosen[k], pair.Rejected[k]) + sumAbs(refArrays(pair, k)...)
							for side, tokens := range [][]float64{pair.Chosen[k], pair.Rejected[k]} {
								g := grads[b].Chosen[k]
								if side == 1 {
									g = grads[b].Rejected[k]
								}
								require.Len(t, g, len(tokens))
								for i := range tokens {
									v := tokens[i]
									h := 1e-6 * math.Max(1, math.Abs(v))
									tokens[i] = v + h
									lPlus, lsPlus, err := LossWithWeights(&p, batch, alpha)
									require.NoError(t, err)
									tokens[i] = v - h
									lMinus, lsMinus, err := LossWithWeights(&p, batch, alpha)
									require.NoError(t, err)
									tokens[i] = v
									fd := c * (lsPlus[b][k] - lsMinus[b][k]) / (2 * h)
									tol := 1e-5*math.Abs(g[i]) + 1e-10 + 32*eps*scale*(c+math.Abs(g[i]))/h
									worst = math.Max(worst, math.Abs(fd-g[i])/tol)
									require.InDelta(t, fd, g[i], tol, "b=%d k=%d side=%d t=%d (entry)", b, k, side, i)
									if tc.moderate {
										fdTotal := (lPlus - lMinus) / (2 * h)
										require.InDelta(t, fdTotal, g[i], 1e-5*math.Abs(g[i])+1e-7,
											"b=%d k=%d side=%d t=%d (total)", b, k, side, i)
									}
								}
							}
						}
					}
				})
			}
		}
	}
}

func refArrays(pair spec.Pair, k int) [][]float64 {
	if pair.RefChosen == nil {
		return nil
	}
	return [][]float64{pair.RefChosen[k], pair.RefRejected[k]}
}

// TestGradientShapeAndRefNil checks that the gradient has the batch's shape and no Ref fields.
func TestGradientShapeAndRefNil(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	p := paramsK4(spec.DPO)
	batch := testpairs.Random(rng, 3, 4, -8, -0.01)
	grads, err := Gradient(&p, batch, randomAlpha(rng, 3, 4))
	require.NoError(t, err)
	require.Len(t, grads, 3)
	for b := range grads {
		require.Nil(t, grads[b].RefChosen)
		require.Nil(t, grads[b].RefRejected)
		for k := range 4 {
			require.Len(t, grads[b].Chosen[k], len(batch[b].Chosen[k]))
			require.Len(t, grads[b].Rejected[k], len(batch[b].Rejected[k]))
		}
	}
}

// TestORPOClamp: where m > -1e-6 the clamp m' = min(m, -1e-6) is active and ORPO's term
// has no gradient w.r.t. the chosen tokens (exactly 0 with NLLWeight = 0; -c*NLLWeight/n
// with the NLL term), while the loss stays finite for all-zero log-probs.
func TestORPOClamp(t *testing.T) {
	p := spec.Defaults(spec.ORPO)
	p.NLLWeight = 0
	batch := []spec.Pair{{Chosen: [][]float64{{0, -1e-7}}, Rejected: [][]float64{{-1, -2}}}}
	alpha := [][]float64{{1}}
	out, err := Compute(&p, batch)
	require.NoError(t, err)
	require.False(t, math.IsNaN(out.Loss) || math.IsInf(out.Loss, 0))
	grads, err := Gradient(&p, batch, alpha)
	require.NoError(t, err)
	require.Equal(t, []float64{0, 0}, grads[0].Chosen[0])
	require.Greater(t, grads[0].Rejected[0][0], 0.0) // a likelier rejected response raises the loss
	// Backward difference (the clamp stays active for a step of 1e-9).
	p.NLLWeight = 1
	grads, err = Gradient(&p, batch, alpha)
	require.NoError(t, err)
	require.Equal(t, -0.5, grads[0].Chosen[0][0]) // -c*NLLWeight/n, c = 1, n = 2
	l0, _, err := LossWithWeights(&p, batch, alpha)
	require.NoError(t, err)
	batch[0].Chosen[0][0] = -1e-9
	l1, _, err := LossWithWeights(&p, batch, alpha)
	require.NoError(t, err)
	require.InDelta(t, -0.5, (l0-l1)/1e-9, 1e-5)
}

// TestExtremeFinite: log-probs of -1e4 and length-1 responses give finite outputs for
// every loss and policy.
func TestExtremeFinite(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	batch := testpairs.Extreme(rng)
	for _, loss := range spec.Losses() {
		for _, pol := range spec.Policies() {
			p := paramsK4(loss)
			p.Policy = pol
			if pol == spec.Fixed {
				p.Weights = []float64{1, 1, 1, 1}
			}
			b := testpairs.Clone(batch)
			out, err := Compute(&p, b)
			require.NoError(t, err, "%s/%s", loss, pol)
			for _, m := range [][][]float64{out.Losses, out.Alpha, out.Raw, out.Mu, out.Sigma, out.ChosenRewards, out.RejectedRewards} {
				for _, row := range m {
					for _, v := range row {
						require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "%s/%s: %v", loss, pol, v)
					}
				}
			}
			grads, err := Gradient(&p, b, out.Alpha)
			require.NoError(t, err)
			for _, g := range grads {
				for _, side := range append(append([][]float64(nil), g.Chosen...), g.Rejected...) {
					for _, v := range side {
						require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "%s/%s: gradient %v", loss, pol, v)
					}
				}
			}
		}
	}
}

// TestSimPOWhenK1 holds AMoPO with K = 1 (so alpha = softmax of one value = 1) to SimPO
// written out inline, exactly: mean over pairs of -log sigmoid(beta*(s_w - s_l) - gamma),
// s the mean per-token log-prob, log sigmoid computed as min(x,0) - log1p(exp(-|x|)).
// Exact equality holds because the operations are the same, in the same order.
func TestSimPOWhenK1(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, pol := range []spec.PolicyName{spec.Gaussian, spec.GaussianSplit, spec.Uniform} {
		p := spec.Defaults(spec.AMoPO)
		p.Dimensions = []string{"general"}
		p.Policy = pol
		p.Seed, p.Step = 11, 3
		batch := testpairs.Random(rng, 5, 1, -8, 0)
		for b := range batch {
			batch[b].RefChosen, batch[b].RefRejected = nil, nil
		}
		out, err := Compute(&p, batch)
		require.NoError(t, err)

		mean := func(v []float64) float64 {
			s := 0.0
			for _, x := range v {
				s += x
			}
			return s / float64(len(v))
		}
		total := 0.0
		for _, pair := range batch {
			x := 0.8*(mean(pair.Chosen[0])-mean(pair.Rejected[0])) - 2.0
			total += -(math.Min(x, 0) - math.Log1p(math.Exp(-math.Abs(x))))
		}
		simpo := total / float64(len(batch))
		require.Equal(t, simpo, out.Loss, "policy %s", pol)
		for b := range batch {
			require.Equal(t, 1.0, out.Alpha[b][0])
		}
	}
}
