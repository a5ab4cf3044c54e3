package spec

import (
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNormalizedWeightsOfHugeWeights: the plain sum of [1e308, 1e308] is +Inf, which passed
// the "> 0" check and turned both weights into 0. The oracle divides in big.Float.
func TestNormalizedWeightsOfHugeWeights(t *testing.T) {
	for _, weights := range [][]float64{
		{1e308, 1e308},
		{math.MaxFloat64, math.MaxFloat64, 0, math.MaxFloat64 / 2},
		{4, 3, 2, 1},
		{5e-324, 0, 1e-323}, // subnormals: dividing by the largest keeps them apart
	} {
		p := Defaults(AMoPO)
		p.Policy, p.Weights = Fixed, weights
		p.Dimensions = p.Dimensions[:0]
		for i := range weights {
			p.Dimensions = append(p.Dimensions, string(rune('a'+i)))
		}
		require.NoError(t, p.Validate(), "%v", weights)
		got := p.NormalizedWeights()
		total := new(big.Float)
		for _, w := range weights {
			total.Add(total, big.NewFloat(w))
		}
		sum := 0.0
		for i, w := range weights {
			want, _ := new(big.Float).Quo(big.NewFloat(w), total).Float64()
			require.InDelta(t, want, got[i], 1e-15, "%v: weight %d", weights, i)
			sum += got[i]
		}
		require.InDelta(t, 1, sum, 1e-15, "%v", weights)
	}
	p := Defaults(AMoPO)
	p.Policy, p.Weights, p.Dimensions = Fixed, []float64{0, 0}, []string{"a", "b"}
	require.ErrorContains(t, p.Validate(), "weights: must not all be 0")
}

// TestNullIsRefused: encoding/json reads null into a float64 as 0, a log-prob of 0
// (probability 1) or a weight of 0.
func TestNullIsRefused(t *testing.T) {
	for body, want := range map[string]string{
		`{"loss":"simpo","chosen_logps":[[null]],"rejected_logps":[[-2]]}`:                                                        "chosen_logps[0][0]: null is not a log-prob",
		`{"loss":"simpo","chosen_logps":[[-1]],"rejected_logps":[[-2, null]]}`:                                                    "rejected_logps[0][1]: null is not a log-prob",
		`{"loss":"amopo","policy":"fixed","weights":[1,null],"chosen_logps":[[-1],[-1]],"rejected_logps":[[-2],[-2]]}`:            "weights[1]: null is not a number",
		`{"loss":"dpo","chosen_logps":[[-1]],"rejected_logps":[[-2]],"ref_chosen_logps":[[null]],"ref_rejected_logps":[[-1]]}`:    "ref_chosen_logps[0][0]: null",
		`{"loss":"dpo","chosen_logps":[[-1]],"rejected_logps":[[-2]],"ref_chosen_logps":[[-1]],"ref_rejected_logps":[[-1,null]]}`: "ref_rejected_logps[0][1]: null",
	} {
		_, _, err := DecodeRequest(strings.NewReader(body))
		require.ErrorContains(t, err, want, body)
	}
	// A null array is no response at all, and says so.
	_, _, err := DecodeRequest(strings.NewReader(`{"loss":"simpo","chosen_logps":[null],"rejected_logps":[[-2]]}`))
	require.ErrorContains(t, err, "chosen_logps[0]: empty response")
}

// TestOverflowingSumOfLogProbsIsNamed: every token is finite, their sum is not; the error
// names the array and the dimension instead of "non-finite log-prob".
func TestOverflowingSumOfLogProbsIsNamed(t *testing.T) {
	for body, want := range map[string]string{
		`{"loss":"simpo","dimensions":["a","b"],"chosen_logps":[[-1],[-1e308,-1e308]],"rejected_logps":[[-2],[-2]]}`:                             `chosen_logps[1]: the sum of its 2 log-probs overflows float64 (-Inf) for dimension "b"`,
		`{"loss":"dpo","chosen_logps":[[-1,-1]],"rejected_logps":[[-2]],"ref_chosen_logps":[[-1,-1]],"ref_rejected_logps":[[-1.5e308]]}`:         ``,
		`{"loss":"dpo","chosen_logps":[[-1,-1]],"rejected_logps":[[-2,-3]],"ref_chosen_logps":[[-1,-1]],"ref_rejected_logps":[[-1e308,-1e308]]}`: `ref_rejected_logps[0]: the sum of its 2 log-probs overflows`,
		`{"loss":"simpo","length_normalize":true,"chosen_logps":[[-1.7e308,-1.7e308,-1.7e308]],"rejected_logps":[[-2]]}`:                         `chosen_logps[0]: the sum of its 3 log-probs overflows`,
	} {
		_, _, err := DecodeRequest(strings.NewReader(body))
		if want == "" {
			require.NoError(t, err, body)
			continue
		}
		require.ErrorContains(t, err, want, body)
	}
}

// TestCheckFiniteNamesTheValue: a Result holding an overflowed reward, margin or loss is
// refused with its field, dimension and inputs; sigma's NaN (unbiased std of one token) is not.
func TestCheckFiniteNamesTheValue(t *testing.T) {
	p := Defaults(SimPO)
	p.Dimensions = []string{"a", "b"}
	row := func(a, b float64) [][]float64 { return [][]float64{{a, b}} }
	good := func() *Result {
		return &Result{Loss: 1, NLL: 1, Losses: row(1, 1), Alpha: row(0.5, 0.5), Raw: row(0.5, 0.5), Mu: row(0.3, 0.3),
			Sigma: row(math.NaN(), 0.1), ChosenRewards: row(-1, -1), RejectedRewards: row(-2, -2),
			ChosenLogps: row(-1, -1), RejectedLogps: row(-2, -2)}
	}
	require.NoError(t, good().CheckFinite(&p))
	for want, spoil := range map[string]func(r *Result){
		`rejected_rewards[1] (dimension "b") is -Inf`: func(r *Result) { r.RejectedRewards[0][1] = math.Inf(-1) },
		`margins[0] (dimension "a") is +Inf`:          func(r *Result) { r.ChosenRewards[0][0], r.RejectedRewards[0][0] = 1e308, -1e308 },
		`losses[1] (dimension "b") is NaN`:            func(r *Result) { r.Losses[0][1] = math.NaN() },
		`chosen_logps[0] (dimension "a") is -Inf`:     func(r *Result) { r.ChosenLogps[0][0] = math.Inf(-1) },
		`alpha[1]`:         func(r *Result) { r.Alpha[0][1] = math.NaN() },
		`nll_loss is +Inf`: func(r *Result) { r.NLL = math.Inf(1) },
		`loss is +Inf`:     func(r *Result) { r.Loss = math.Inf(1) },
	} {
		r := good()
		spoil(r)
		require.ErrorContains(t, r.CheckFinite(&p), want)
	}
}
