package amopo

import (
	"math"
	"sort"
	"testing"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/stretchr/testify/require"
)

// samePairs repeats one K = 3 pair n times, so that every raw weight of a dimension is a
// draw from the same Gaussian.
func samePairs(n int) []spec.Pair {
	pair := spec.Pair{
		Chosen:   [][]float64{{-0.1, -2, -0.7, -1.3}, {-0.05, -0.2}, {-3, -0.01, -0.6}},
		Rejected: [][]float64{{-1.5, -0.4}, {-2.5, -0.9, -0.3}, {-0.2}},
	}
	out := make([]spec.Pair, n)
	for i := range out {
		out[i] = pair
	}
	return out
}

// probs returns exp of the log-probs.
func probs(logps ...[]float64) []float64 {
	var out []float64
	for _, side := range logps {
		for _, lp := range side {
			out = append(out, math.Exp(lp))
		}
	}
	return out
}

func meanVar(xs []float64) (mean, variance float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(xs))
}

// ksStatistic is the Kolmogorov-Smirnov distance between the sample and N(mu, sigma^2).
func ksStatistic(sample []float64, mu, sigma float64) float64 {
	xs := append([]float64(nil), sample...)
	sort.Float64s(xs)
	n := float64(len(xs))
	d := 0.0
	for i, x := range xs {
		cdf := 0.5 * math.Erfc(-(x-mu)/(sigma*math.Sqrt2))
		d = math.Max(d, math.Max(math.Abs(float64(i+1)/n-cdf), math.Abs(cdf-float64(i)/n)))
	}
	return d
}

func TestSampledWeightsFollowTheirGaussian(t *testing.T) {
	be := newBackend(t)
	const n = 4000
	batch := samePairs(n)
	for _, policy := range []spec.PolicyName{spec.Gaussian, spec.GaussianSplit} {
		t.Run(string(policy), func(t *testing.T) {
			p := spec.Defaults(spec.AMoPO)
			p.Dimensions = []string{"a", "b", "c"}
			p.Policy, p.Seed = policy, 7
			res, _, err := Evaluate(be, &p, batch, false)
			require.NoError(t, err)
			draws := make([][]float64, p.K())
			for k := range draws {
				// The Gaussian's parameters, computed here from the probabilities directly.
				var mu, variance float64
				if policy == spec.Gaussian {
					mu, variance = meanVar(probs(batch[0].Chosen[k], batch[0].Rejected[k]))
				} else {
					mw, vw := meanVar(probs(batch[0].Chosen[k]))
					ml, vl := meanVar(probs(batch[0].Rejected[k]))
					mu, variance = mw+ml, vw+vl
				}
				sigma := math.Sqrt(variance)
				require.InDelta(t, mu, res.Mu[0][k], 1e-12)
				require.InDelta(t, sigma, res.Sigma[0][k], 1e-12)
				for b := 0; b < n; b++ {
					draws[k] = append(draws[k], res.Raw[b][k])
				}
				// Kolmogorov-Smirnov at the 1% level, plus the first two moments.
				d := ksStatistic(draws[k], mu, sigma)
				require.Less(t, d, 1.63/math.Sqrt(n), "dimension %d: KS distance to N(%.4f, %.4f^2)", k, mu, sigma)
				m, v := meanVar(draws[k])
				require.InDelta(t, mu, m, 4*sigma/math.Sqrt(n), "dimension %d mean", k)
				require.InDelta(t, 1.0, v/variance, 0.1, "dimension %d variance ratio", k)
			}
			// Draws of different dimensions are independent: small correlation.
			for a := 0; a < p.K(); a++ {
				for b := a + 1; b < p.K(); b++ {
					ma, va := meanVar(draws[a])
					mb, vb := meanVar(draws[b])
					cov := 0.0
					for i := range draws[a] {
						cov += (draws[a][i] - ma) * (draws[b][i] - mb)
					}
					corr := cov / float64(n) / math.Sqrt(va*vb)
					require.Less(t, math.Abs(corr), 4/math.Sqrt(n), "dims %d, %d", a, b)
				}
			}
			// alpha is the per-example softmax of the raw draws.
			for b := 0; b < 5; b++ {
				z := 0.0
				for k := range p.Dimensions {
					z += math.Exp(res.Raw[b][k])
				}
				for k := range p.Dimensions {
					require.InDelta(t, math.Exp(res.Raw[b][k])/z, res.Alpha[b][k], 1e-12)
				}
			}
		})
	}
}

func TestSameSeedSameWeights(t *testing.T) {
	be := newBackend(t)
	batch := samePairs(16)
	p := spec.Defaults(spec.AMoPO)
	p.Dimensions = []string{"a", "b", "c"}
	p.Seed, p.Step = 42, 3
	first, _, err := Evaluate(be, &p, batch, false)
	require.NoError(t, err)
	again, _, err := Evaluate(be, &p, batch, false)
	require.NoError(t, err)
	require.Equal(t, first.Alpha, again.Alpha)
	require.Equal(t, first.Loss, again.Loss)
	p.Step = 4
	next, _, err := Evaluate(be, &p, batch, false)
	require.NoError(t, err)
	require.NotEqual(t, first.Alpha, next.Alpha, "another step draws other weights")
	p.Step, p.Seed = 3, 43
	other, _, err := Evaluate(be, &p, batch, false)
	require.NoError(t, err)
	require.NotEqual(t, first.Alpha, other.Alpha, "another seed draws other weights")
}
