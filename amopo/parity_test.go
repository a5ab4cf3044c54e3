package amopo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/amopo-engine/amopo/amopo/internal/testpairs"
	"github.com/amopo-engine/amopo/amopo/ref"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/stretchr/testify/require"
)

// variants returns the parameter sets the parity tests sweep: every loss x policy, with
// length normalisation on and off, and the authors'-code options.
func variants() []spec.Params {
	var out []spec.Params
	for _, loss := range spec.Losses() {
		for _, policy := range spec.Policies() {
			for _, norm := range []bool{true, false} {
				p := spec.Defaults(loss)
				p.Dimensions = spec.DefaultDimensions()
				p.Policy, p.LengthNormalize, p.Seed, p.Step = policy, norm, 11, 5
				p.NLLWeight += 0.25 // every loss with an SFT term too
				testpairs.FitParams(&p)
				if policy == spec.Fixed {
					p.Weights = []float64{1, 2, 3, 4}
				}
				out = append(out, p)
				if policy == spec.GaussianSplit && norm {
					code := p // the authors' code: unbiased std, batch softmax, mean reduction
					code.UnbiasedStd, code.Softmax, code.Reduce = true, spec.OverBatch, spec.MeanOverEntries
					out = append(out, code)
				}
			}
		}
	}
	return out
}

func name(p spec.Params) string {
	s := fmt.Sprintf("%s/%s/norm=%v", p.Loss, p.Policy, p.LengthNormalize)
	if p.UnbiasedStd {
		s += "/authors-code"
	}
	return s
}

// close reports whether a and b agree to a relative 1e-9 (absolute near 0).
func requireClose(t *testing.T, want, got float64, what string) {
	t.Helper()
	if math.IsNaN(want) && math.IsNaN(got) {
		return
	}
	require.InDelta(t, want, got, 1e-9*math.Max(1, math.Abs(want)), what)
}

func requireMatrixClose(t *testing.T, want, got [][]float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for b := range want {
		for k := range want[b] {
			requireClose(t, want[b][k], got[b][k], fmt.Sprintf("%s[%d][%d]", what, b, k))
		}
	}
}

func TestGraphMatchesFloat64Reference(t *testing.T) {
	be := newBackend(t)
	rng := rand.New(rand.NewPCG(9, 9))
	batches := map[string][]spec.Pair{
		"random":  testpairs.Random(rng, 3, 4, -8, -0.01),
		"extreme": testpairs.Extreme(rng),
		"ties":    testpairs.Ties(rng),
	}
	for _, p := range variants() {
		for bname, batch := range batches {
			t.Run(name(p)+"/"+bname, func(t *testing.T) {
				want, err := ref.Compute(&p, batch)
				require.NoError(t, err)
				got, grads, err := Evaluate(be, &p, batch, true)
				require.NoError(t, err)
				requireClose(t, want.Loss, got.Loss, "loss")
				requireClose(t, want.NLL, got.NLL, "nll")
				requireMatrixClose(t, want.Losses, got.Losses, "losses")
				requireMatrixClose(t, want.Alpha, got.Alpha, "alpha")
				requireMatrixClose(t, want.Raw, got.Raw, "raw")
				requireMatrixClose(t, want.Mu, got.Mu, "mu")
				requireMatrixClose(t, want.Sigma, got.Sigma, "sigma")
				requireMatrixClose(t, want.ChosenRewards, got.ChosenRewards, "rewards/chosen")
				requireMatrixClose(t, want.RejectedRewards, got.RejectedRewards, "rewards/rejected")
				requireMatrixClose(t, want.ChosenLogps, got.ChosenLogps, "logps/chosen")
				requireMatrixClose(t, want.RejectedLogps, got.RejectedLogps, "logps/rejected")
				require.Equal(t, want.NonFiniteWeights, got.NonFiniteWeights, "nonfinite weights")
				require.Zero(t, got.InvalidPairs)

				wantGrad, err := ref.Gradient(&p, batch, want.Alpha)
				require.NoError(t, err)
				for b := range batch {
					for k := 0; k < p.K(); k++ {
						for side, g := range [][]float64{grads[b].Chosen[k], grads[b].Rejected[k]} {
							w := [][]float64{wantGrad[b].Chosen[k], wantGrad[b].Rejected[k]}[side]
							for i := range w {
								requireClose(t, w[i], g[i], fmt.Sprintf("grad[%d][%d][side %d][%d]", b, k, side, i))
							}
						}
					}
				}
			})
		}
	}
}

// TestGraphGradientMatchesFiniteDifferences checks the graph's autodiff against central
// differences of the graph's own loss, with the weights frozen (they carry no gradient):
// each pair alone, its sampled alpha passed back as fixed weights.
func TestGraphGradientMatchesFiniteDifferences(t *testing.T) {
	be := newBackend(t)
	rng := rand.New(rand.NewPCG(10, 10))
	pairs := append(testpairs.Random(rng, 2, 4, -6, -0.05), testpairs.Ties(rng)[0])
	for _, loss := range spec.Losses() {
		for _, norm := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/norm=%v", loss, norm), func(t *testing.T) {
				p := spec.Defaults(loss)
				p.Dimensions, p.LengthNormalize, p.Seed, p.NLLWeight = spec.DefaultDimensions(), norm, 3, p.NLLWeight+0.5
				p.Policy = spec.Gaussian
				testpairs.FitParams(&p)
				for i, pair := range pairs {
					batch := []spec.Pair{pair}
					sampled, grads, err := Evaluate(be, &p, batch, true)
					require.NoError(t, err)
					frozen := p
					frozen.Policy, frozen.Weights = spec.Fixed, sampled.Alpha[0]
					lossAt := func(b []spec.Pair) float64 {
						r, _, err := Evaluate(be, &frozen, b, false)
						require.NoError(t, err)
						return r.Loss
					}
					require.InDelta(t, sampled.Loss, lossAt(batch), 1e-12, "frozen weights give the same loss")
					for k := 0; k < p.K(); k++ {
						for side := 0; side < 2; side++ {
							tokens := [][][]float64{pair.Chosen, pair.Rejected}[side][k]
							g := [][][]float64{grads[0].Chosen, grads[0].Rejected}[side][k]
							for j := range tokens {
								const h = 1e-6
								moved := testpairs.Clone(batch)
								at := [][][]float64{moved[0].Chosen, moved[0].Rejected}[side][k]
								at[j] = tokens[j] + h
								up := lossAt(moved)
								at[j] = tokens[j] - h
								down := lossAt(moved)
								fd := (up - down) / (2 * h)
								require.InDelta(t, fd, g[j], 1e-6*math.Max(1, math.Abs(fd)),
									"pair %d dim %d side %d token %d", i, k, side, j)
							}
						}
					}
				}
			})
		}
	}
}

func TestSingleDimensionAMoPOIsSimPO(t *testing.T) {
	be := newBackend(t)
	rng := rand.New(rand.NewPCG(12, 12))
	batch := testpairs.Random(rng, 4, 1, -5, -0.1)
	p := spec.Defaults(spec.AMoPO)
	p.Dimensions = []string{"general"}
	got, _, err := Evaluate(be, &p, batch, false)
	require.NoError(t, err)
	// SimPO written directly: mean over examples of -log sigmoid(beta*(m_w - m_l) - gamma).
	mean := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	want := 0.0
	for _, pair := range batch {
		x := p.Beta*(mean(pair.Chosen[0])-mean(pair.Rejected[0])) - p.Gamma
		want += -math.Log(1 / (1 + math.Exp(-x)))
	}
	want /= float64(len(batch))
	for b := range batch {
		require.Equal(t, 1.0, got.Alpha[b][0], "K = 1: softmax of one weight is 1")
	}
	require.InDelta(t, want, got.Loss, 1e-14)
	simpo := spec.Defaults(spec.SimPO)
	fromSimPO, _, err := Evaluate(be, &simpo, batch, false)
	require.NoError(t, err)
	require.Equal(t, fromSimPO.Loss, got.Loss, "amopo with K = 1 and simpo are the same number")
}
