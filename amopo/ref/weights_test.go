package ref

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/amopo-engine/amopo/amopo/internal/testpairs"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/stretchr/testify/require"
)

// TestGaussianPooled checks mu, sigma, raw and alpha of the gaussian policy against a
// direct computation that uses another variance formula, the pairwise one
// sum_{i,j} (p_i - p_j)^2 / (2 n^2) (or / (2 n (n-1))), so agreement is to 1e-12, not
// exact, for the 1/n and the n-1 variance, and both softmax scopes.
func TestGaussianPooled(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	batch := testpairs.Random(rng, 3, 4, -3, 0)
	for _, unbiased := range []bool{false, true} {
		for _, scope := range []spec.SoftmaxScope{spec.PerExample, spec.OverBatch} {
			p := paramsK4(spec.AMoPO)
			p.Policy, p.UnbiasedStd, p.Softmax, p.Seed, p.Step = spec.Gaussian, unbiased, scope, 5, 9
			alpha, raw, mu, sigma, nonFinite, err := Weights(&p, batch)
			require.NoError(t, err)
			require.Zero(t, nonFinite)
			expRaw := make([][]float64, 3)
			for b, pair := range batch {
				for k := range 4 {
					tokens := append(append([]float64(nil), pair.Chosen[k]...), pair.Rejected[k]...)
					n := float64(len(tokens))
					m, pairSS := 0.0, 0.0
					for _, lpi := range tokens {
						m += math.Exp(lpi) / n
						for _, lpj := range tokens {
							d := math.Exp(lpi) - math.Exp(lpj)
							pairSS += d * d
						}
					}
					v := pairSS / (2 * n * n)
					if unbiased {
						v = pairSS / (2 * n * (n - 1))
					}
					require.InDelta(t, m, mu[b][k], 1e-12)
					require.InDelta(t, math.Sqrt(v), sigma[b][k], 1e-12)
					r := m + math.Sqrt(v)*spec.StandardNormal(5, 9, b, k, 0)
					require.InDelta(t, r, raw[b][k], 1e-12)
					expRaw[b] = append(expRaw[b], raw[b][k])
				}
			}
			// alpha: plain softmax of raw over the scope.
			z := 0.0
			for b := range 3 {
				rowZ := 0.0
				for k := range 4 {
					rowZ += math.Exp(expRaw[b][k])
				}
				z += rowZ
				if scope == spec.PerExample {
					for k := range 4 {
						require.InDelta(t, math.Exp(expRaw[b][k])/rowZ, alpha[b][k], 1e-12)
					}
				}
			}
			if scope == spec.OverBatch {
				total := 0.0
				for b := range 3 {
					for k := range 4 {
						require.InDelta(t, math.Exp(expRaw[b][k])/z, alpha[b][k], 1e-12)
						total += alpha[b][k]
					}
				}
				require.InDelta(t, 1, total, 1e-12, "batch softmax sums to 1 over the batch")
			}
		}
	}
}

// TestGaussianSplit: mu = mu_w + mu_l, sigma = sqrt(var_w + var_l), raw = the two draws
// summed; with UnbiasedStd a length-1 side has a NaN variance: raw becomes 0 and is counted.
func TestGaussianSplit(t *testing.T) {
	p := paramsK4(spec.AMoPO)
	p.Policy, p.Seed, p.Step = spec.GaussianSplit, 1, 2
	pair := spec.Pair{
		Chosen:   [][]float64{{-0.1, -0.5}, {-0.2}, {-1, -2, -3}, {-0.7, -0.7}},
		Rejected: [][]float64{{-1, -2}, {-0.3, -0.4}, {-0.5}, {-0.9, -0.1}},
	}
	batch := []spec.Pair{pair}
	alpha, raw, mu, sigma, nonFinite, err := Weights(&p, batch)
	require.NoError(t, err)
	require.Zero(t, nonFinite)
	// k = 0 by hand: p_w = e^-0.1, e^-0.5; p_l = e^-1, e^-2, 1/n variances.
	pw0, pw1, pl0, pl1 := math.Exp(-0.1), math.Exp(-0.5), math.Exp(-1), math.Exp(-2)
	muW, muL := (pw0+pw1)/2, (pl0+pl1)/2
	varW, varL := (pw0-pw1)*(pw0-pw1)/4, (pl0-pl1)*(pl0-pl1)/4
	require.InDelta(t, muW+muL, mu[0][0], 1e-15)
	require.InDelta(t, math.Sqrt(varW+varL), sigma[0][0], 1e-15)
	want := muW + math.Sqrt(varW)*spec.StandardNormal(1, 2, 0, 0, 0) + muL + math.Sqrt(varL)*spec.StandardNormal(1, 2, 0, 0, 1)
	require.InDelta(t, want, raw[0][0], 1e-15)
	requireSumsToOne(t, alpha[0])

	// Unbiased: k = 1 (chosen has 1 token) and k = 2 (rejected has 1 token) are NaN -> 0.
	p.UnbiasedStd = true
	alpha, raw, _, sigma, nonFinite, err = Weights(&p, batch)
	require.NoError(t, err)
	require.Equal(t, 2, nonFinite)
	require.Equal(t, 0.0, raw[0][1])
	require.Equal(t, 0.0, raw[0][2])
	require.NotZero(t, raw[0][0])
	require.True(t, math.IsNaN(sigma[0][1]), "the reported sigma stays NaN")
	requireSumsToOne(t, alpha[0])
	out, err := Compute(&p, batch)
	require.NoError(t, err)
	require.Equal(t, 2, out.NonFiniteWeights)

	// The pooled gaussian never has fewer than 2 tokens: no NaN there.
	p.Policy = spec.Gaussian
	_, _, _, _, nonFinite, err = Weights(&p, batch)
	require.NoError(t, err)
	require.Zero(t, nonFinite)
}

func requireSumsToOne(t *testing.T, row []float64) {
	t.Helper()
	s := 0.0
	for _, a := range row {
		require.Greater(t, a, 0.0)
		s += a
	}
	require.InDelta(t, 1, s, 1e-15)
}

// TestFixedAndUniform: fixed normalises the ratios (whatever the softmax scope); uniform
// gives 1/K; both report the pooled mu and sigma.
func TestFixedAndUniform(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	batch := testpairs.Random(rng, 3, 4, -3, 0)
	for _, scope := range []spec.SoftmaxScope{spec.PerExample, spec.OverBatch} {
		p := paramsK4(spec.AMoPO)
		p.Policy, p.Weights, p.Softmax = spec.Fixed, []float64{2, 0, 1, 1}, scope
		alpha, raw, mu, _, _, err := Weights(&p, batch)
		require.NoError(t, err)
		for b := range 3 {
			require.Equal(t, []float64{0.5, 0, 0.25, 0.25}, alpha[b])
			require.Equal(t, alpha[b], raw[b])
		}
		p.Policy, p.Weights = spec.Gaussian, nil
		_, _, muG, _, _, err := Weights(&p, batch)
		require.NoError(t, err)
		require.Equal(t, muG, mu)

		p.Policy = spec.Uniform
		alpha, _, _, _, _, err = Weights(&p, batch)
		require.NoError(t, err)
		for b := range 3 {
			require.Equal(t, []float64{0.25, 0.25, 0.25, 0.25}, alpha[b])
		}
	}
}

// TestReductionMean: the mean reduction is the sum reduction divided by K.
func TestReductionMean(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	batch := testpairs.Random(rng, 3, 4, -5, 0)
	for _, loss := range spec.Losses() {
		p := paramsK4(loss)
		p.Policy = spec.Gaussian
		sum, err := Compute(&p, batch)
		require.NoError(t, err)
		p.Reduce = spec.MeanOverEntries
		mean, err := Compute(&p, batch)
		require.NoError(t, err)
		require.InEpsilon(t, sum.Loss/4, mean.Loss, 1e-14, "%s", loss)
		require.Equal(t, sum.Losses, mean.Losses)
	}
}

// TestResponse: row 0 of a one-pair Output in the JSON contract.
func TestResponse(t *testing.T) {
	p := spec.Defaults(spec.AMoPO)
	p.Seed = 3
	batch := handBatch()[:1]
	out, err := Compute(&p, batch)
	require.NoError(t, err)
	r := out.Response(&p)
	require.Equal(t, out.Loss, r.Loss)
	require.Equal(t, p.Dimensions, r.Dimensions)
	require.Equal(t, out.Alpha[0], r.Alpha)
	require.Equal(t, out.Raw[0], r.RawWeights)
	require.Equal(t, out.Mu[0], r.Mu)
	require.Equal(t, out.Sigma[0], r.Sigma)
	require.Equal(t, out.Losses[0], r.Losses)
	require.Equal(t, out.ChosenLogps[0], r.ChosenLogps)
	require.Equal(t, out.RejectedLogps[0], r.RejectedLogps)
	require.Equal(t, out.NLL, r.NLL)
	require.Zero(t, out.InvalidPairs)
	for k := range 4 {
		require.Equal(t, out.ChosenRewards[0][k]-out.RejectedRewards[0][k], r.Margins[k])
		// rewards are beta*s
		require.Equal(t, 0.8*out.ChosenLogps[0][k], r.ChosenRewards[k])
	}
	_, err = json.Marshal(r)
	require.NoError(t, err)
}
