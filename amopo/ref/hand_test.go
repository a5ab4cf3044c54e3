package ref

import (
	"testing"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/stretchr/testify/require"
)

// The expected values below were computed with python3 (standard library math only),
// independently of this package, by this script:
//
//	import math
//	M = (1 << 64) - 1
//	def sm(x):  # SplitMix64, as spec.splitMix64
//	    x = (x + 0x9e3779b97f4a7c15) & M
//	    x = ((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9) & M
//	    x = ((x ^ (x >> 27)) * 0x94d049bb133111eb) & M
//	    return x ^ (x >> 31)
//	def normal(seed, step, b, k, s):  # spec.StandardNormal: hash chain, then Box-Muller
//	    h = sm(seed); h = sm(h ^ step); h = sm(h ^ b); h = sm(h ^ k); h = sm(h ^ s)
//	    h2 = sm(h ^ 0x6a09e667f3bcc909)
//	    u1 = ((h >> 11) + 1) / 2**53; u2 = (h2 >> 11) / 2**53
//	    return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
//	def logsig(x): return -math.log(1 + math.exp(-x))  # the plain formula: |x| is small here
//	mean = lambda v: sum(v) / len(v)
//	W, L = handChosen, handRejected  # the arrays below
//	beta, gamma = 0.8, 2.0
//	l = [[-logsig(beta * (mean(W[b][k]) - mean(L[b][k])) - gamma) for k in range(4)] for b in range(2)]
//	fw = [w / 10 for w in (1, 2, 3, 4)]
//	fixed_loss = sum(fw[k] * l[b][k] for b in range(2) for k in range(4)) / 2
//	z = [[normal(42, 7, b, k, 0) for k in range(4)] for b in range(2)]
//	raw, alpha = [[0.0] * 4 for _ in range(2)], [None, None]
//	for b in range(2):                      # gaussian: pooled tokens, 1/n variance
//	    for k in range(4):
//	        P = [math.exp(v) for v in W[b][k] + L[b][k]]
//	        mu = mean(P); sigma = math.sqrt(sum((p - mu) ** 2 for p in P) / len(P))
//	        raw[b][k] = mu + sigma * z[b][k]
//	    alpha[b] = [math.exp(r) / sum(math.exp(q) for q in raw[b]) for r in raw[b]]
//	gaussian_loss = sum(alpha[b][k] * l[b][k] for b in range(2) for k in range(4)) / 2
//
// and printed with repr. Go and Python round differently in places (the log-sigmoid
// formula, summation order), so the comparisons allow 1e-12 (all values are O(1)).
const handTol = 1e-12

var (
	handChosen = [][][]float64{
		{{-0.5, -1.0}, {-0.2}, {-1.5, -0.3, -0.7}, {-2.0, -0.1}},
		{{-0.05}, {-0.6, -0.6}, {-1.0, -2.0}, {-0.3, -0.3, -0.3}},
	}
	handRejected = [][][]float64{
		{{-1.2, -0.8, -2.5}, {-0.9, -1.1}, {-0.4}, {-3.0, -0.6, -1.0, -0.2}},
		{{-0.05}, {-0.2, -4.0}, {-0.7, -0.1, -0.9}, {-1.5}},
	}
	handLosses = [][]float64{
		{1.620417409918451, 1.5884580260064678, 2.438048768793534, 2.022011675701859},
		{2.1269280110429727, 1.1711006659477776, 2.8088348585676095, 1.342660347397739},
	}
)

func handBatch() []spec.Pair {
	return []spec.Pair{
		{Chosen: handChosen[0], Rejected: handRejected[0]},
		{Chosen: handChosen[1], Rejected: handRejected[1]},
	}
}

func requireMatrixInDelta(t *testing.T, want, got [][]float64, tol float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for b := range want {
		require.Len(t, got[b], len(want[b]), what)
		for k := range want[b] {
			require.InDelta(t, want[b][k], got[b][k], tol, "%s[%d][%d]", what, b, k)
		}
	}
}

// TestHandAMoPOFixed: 2 examples, K = 4, fixed weights 1:2:3:4, beta 0.8, gamma 2,
// length-normalised, reduction sum. Expected: fixed_loss of the script above.
func TestHandAMoPOFixed(t *testing.T) {
	p := spec.Defaults(spec.AMoPO)
	p.Policy, p.Weights = spec.Fixed, []float64{1, 2, 3, 4}
	out, err := Compute(&p, handBatch())
	require.NoError(t, err)
	requireMatrixInDelta(t, handLosses, out.Losses, handTol, "losses")
	requireMatrixInDelta(t, [][]float64{{0.1, 0.2, 0.3, 0.4}, {0.1, 0.2, 0.3, 0.4}}, out.Alpha, handTol, "alpha")
	require.InDelta(t, 1.923290088967587, out.Loss, handTol)
}

// TestHandAMoPOGaussian: the same batch with the gaussian policy (pooled tokens, 1/n
// variance, per-example softmax), seed 42, step 7. Expected: z, mu, sigma, raw, alpha and
// gaussian_loss of the script above.
func TestHandAMoPOGaussian(t *testing.T) {
	z := [][]float64{
		{-1.4730504538024907, 1.3234287425819993, 0.5910886718820323, 0.11814123888360546},
		{-0.6032537189575921, -1.2098556704166206, -1.7294009427834303, 0.5376340823502173},
	}
	for b := range 2 {
		for k := range 4 {
			require.InDelta(t, z[b][k], spec.StandardNormal(42, 7, b, k, 0), handTol, "z[%d][%d]", b, k)
		}
	}
	p := spec.Defaults(spec.AMoPO)
	require.Equal(t, spec.Gaussian, p.Policy)
	p.Seed, p.Step = 42, 7
	out, err := Compute(&p, handBatch())
	require.NoError(t, err)
	requireMatrixInDelta(t, [][]float64{
		{0.3614036551074796, 0.5193904988388868, 0.532713432664299, 0.4708969333306477},
		{0.951229424500714, 0.48366741603869223, 0.4622414211952046, 0.6113962055483959},
	}, out.Mu, handTol, "mu")
	requireMatrixInDelta(t, [][]float64{
		{0.17291855485515595, 0.21379321923082326, 0.19961852817110654, 0.3203932881128507},
		{0.0, 0.29039079493751363, 0.251372977873004, 0.22416550582886186},
	}, out.Sigma, handTol, "sigma")
	requireMatrixInDelta(t, [][]float64{
		{0.10668589940722129, 0.8023305901380928, 0.6507056833640045, 0.5087485933182918},
		{0.951229424500714, 0.13233646614675132, 0.027516756271353138, 0.7319152215692684},
	}, out.Raw, handTol, "raw")
	requireMatrixInDelta(t, [][]float64{
		{0.1606987170937086, 0.3222011307506218, 0.27687082825372744, 0.24022932390194215},
		{0.3786399986821332, 0.16694975915373617, 0.15033606387051224, 0.3040741782936183},
	}, out.Alpha, handTol, "alpha")
	requireMatrixInDelta(t, handLosses, out.Losses, handTol, "losses")
	require.InDelta(t, 1.8821827813793623, out.Loss, handTol)
	require.Zero(t, out.NonFiniteWeights)
}

// TestHandDPO: K = 1, beta 0.2, summed log-probs:
//
//	cw, cl, rw, rl = [-1.0, -2.0, -0.5], [-3.0, -1.5], [-1.5, -2.0, -1.0], [-2.0, -1.0]
//	hw, hl = sum(cw) - sum(rw), sum(cl) - sum(rl)          # 1.0, -1.5
//	loss = -logsig(0.2 * (hw - hl)) = log(1 + exp(-0.5))   # 0.4740769841801067
//	rewards 0.2*hw, 0.2*hl                                 # 0.2, -0.3
func TestHandDPO(t *testing.T) {
	p := spec.Defaults(spec.DPO)
	batch := []spec.Pair{{
		Chosen: [][]float64{{-1.0, -2.0, -0.5}}, Rejected: [][]float64{{-3.0, -1.5}},
		RefChosen: [][]float64{{-1.5, -2.0, -1.0}}, RefRejected: [][]float64{{-2.0, -1.0}},
	}}
	out, err := Compute(&p, batch)
	require.NoError(t, err)
	require.InDelta(t, 0.4740769841801067, out.Loss, handTol)
	require.InDelta(t, 0.2, out.ChosenRewards[0][0], handTol)
	require.InDelta(t, -0.3, out.RejectedRewards[0][0], handTol)
	require.InDelta(t, -3.5, out.ChosenLogps[0][0], handTol)
	require.InDelta(t, -4.5, out.RejectedLogps[0][0], handTol)
	require.InDelta(t, 3.5/3, out.NLL, handTol)
}

// TestHandORPO: K = 1, lambda 0.1, NLL weight 1, mean log-probs:
//
//	cw, cl = [-0.2, -0.4], [-1.0, -2.0, -0.6]
//	lo = lambda m: math.log(math.exp(m) / (1 - math.exp(m)))   # log-odds of the mean prob
//	mw, ml = mean(cw), mean(cl)                                # -0.3, -1.2
//	loss = -0.1 * logsig(lo(mw) - lo(ml)) - mw                 # 0.31404518004607
//	rewards 0.1*mw, 0.1*ml                                     # -0.03, -0.12
func TestHandORPO(t *testing.T) {
	p := spec.Defaults(spec.ORPO)
	batch := []spec.Pair{{Chosen: [][]float64{{-0.2, -0.4}}, Rejected: [][]float64{{-1.0, -2.0, -0.6}}}}
	out, err := Compute(&p, batch)
	require.NoError(t, err)
	require.InDelta(t, 0.31404518004607, out.Loss, handTol)
	require.InDelta(t, -0.03, out.ChosenRewards[0][0], handTol)
	require.InDelta(t, -0.12, out.RejectedRewards[0][0], handTol)
	require.InDelta(t, 0.3, out.NLL, handTol)
}
