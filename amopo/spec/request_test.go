package spec

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const goodBody = `{"loss": "amopo", "beta": 0.8, "gamma": 2.0, "length_normalize": true, "policy": "fixed",
 "weights": [1,1,1,1], "seed": 1,
 "dimensions": ["general", "helpfulness", "correctness", "instruction_following"],
 "chosen_logps": [[-1,-2],[-0.5],[-1,-1,-1],[-0.1]],
 "rejected_logps": [[-2],[-3,-1],[-1],[-0.3,-0.2]]}`

func TestDecodeRequestResolvesDefaultsAndFields(t *testing.T) {
	p, pair, err := DecodeRequest(strings.NewReader(goodBody))
	require.NoError(t, err)
	require.Equal(t, AMoPO, p.Loss)
	require.Equal(t, Fixed, p.Policy)
	require.Equal(t, []float64{1, 1, 1, 1}, p.Weights)
	require.Equal(t, 4, p.K())
	require.Len(t, pair.Chosen, 4)

	// Omitted numbers take the loss's defaults; gamma may be set to 0 explicitly.
	p, _, err = DecodeRequest(strings.NewReader(`{"loss":"simpo","gamma":0,"chosen_logps":[[-1]],"rejected_logps":[[-2]]}`))
	require.NoError(t, err)
	require.Equal(t, 0.8, p.Beta)
	require.Equal(t, 0.0, p.Gamma)
	require.Equal(t, []string{"dim_1"}, p.Dimensions)
	require.Equal(t, Uniform, p.Policy)

	p, pair, err = DecodeRequest(strings.NewReader(`{"loss":"dpo","chosen_logps":[[-1]],"rejected_logps":[[-2]],
		"ref_chosen_logps":[[-1.5]],"ref_rejected_logps":[[-1.5]]}`))
	require.NoError(t, err)
	require.Equal(t, 0.2, p.Beta)
	require.Equal(t, [][]float64{{-1.5}}, pair.RefChosen)
}

func TestDecodeRequestErrorsNameTheField(t *testing.T) {
	cases := map[string]struct{ body, want string }{
		"empty body":       {``, "empty body"},
		"malformed":        {"{\"loss\": \"amopo\",\n \"beta\": }", "request:2:11: malformed JSON"},
		"truncated":        {`{"loss": "amopo", "chosen_logps": [[-1]`, "truncated JSON"},
		"wrong type":       {`{"loss": "amopo", "beta": "high"}`, `field "beta": expected float64`},
		"unknown field":    {`{"loss": "amopo", "betta": 1}`, `unknown field "betta"`},
		"two values":       {`{"loss":"simpo","chosen_logps":[[-1]],"rejected_logps":[[-2]]} {}`, "more than one JSON value"},
		"missing loss":     {`{"chosen_logps":[[-1]],"rejected_logps":[[-2]]}`, "loss: missing"},
		"unknown loss":     {`{"loss":"kto","chosen_logps":[[-1]],"rejected_logps":[[-2]]}`, `unknown loss "kto"`},
		"unknown policy":   {`{"loss":"amopo","policy":"dirichlet","chosen_logps":[[-1]],"rejected_logps":[[-2]]}`, `unknown weight policy "dirichlet"`},
		"unknown softmax":  {`{"loss":"amopo","softmax":"all","chosen_logps":[[-1]],"rejected_logps":[[-2]]}`, `softmax: unknown scope "all"`},
		"ragged K":         {`{"loss":"amopo","chosen_logps":[[-1],[-2]],"rejected_logps":[[-2]]}`, "rejected_logps: 1 arrays for K = 2"},
		"dims mismatch":    {`{"loss":"amopo","dimensions":["a","b","c"],"chosen_logps":[[-1],[-2]],"rejected_logps":[[-2],[-1]]}`, "chosen_logps: 2 arrays for K = 3"},
		"empty response":   {`{"loss":"amopo","chosen_logps":[[-1],[]],"rejected_logps":[[-2],[-1]]}`, `chosen_logps[1]: empty response for dimension "dim_2"`},
		"no arrays":        {`{"loss":"amopo","chosen_logps":[],"rejected_logps":[]}`, "dimensions: at least one dimension"},
		"positive logp":    {`{"loss":"amopo","chosen_logps":[[-1, 0.5]],"rejected_logps":[[-2]]}`, "chosen_logps[0][1]: log-prob must be <= 0, got 0.5"},
		"missing ref":      {`{"loss":"cal-dpo","chosen_logps":[[-1]],"rejected_logps":[[-2]]}`, `ref_chosen_logps: missing (loss "cal-dpo" needs it)`},
		"ref length":       {`{"loss":"dpo","chosen_logps":[[-1,-1]],"rejected_logps":[[-2]],"ref_chosen_logps":[[-1]],"ref_rejected_logps":[[-2]]}`, "ref_chosen_logps[0]: 1 reference log-probs for a response of 2 tokens"},
		"fixed no weights": {`{"loss":"amopo","policy":"fixed","chosen_logps":[[-1]],"rejected_logps":[[-2]]}`, "weights: the fixed policy needs one weight per dimension: got 0 for K = 1"},
		"weights unasked":  {`{"loss":"amopo","weights":[1],"chosen_logps":[[-1]],"rejected_logps":[[-2]]}`, "only the fixed policy takes weights"},
		"negative beta":    {`{"loss":"amopo","beta":-1,"chosen_logps":[[-1]],"rejected_logps":[[-2]]}`, "must be >= 0"},
		"duplicate dims":   {`{"loss":"amopo","dimensions":["a","a"],"chosen_logps":[[-1],[-1]],"rejected_logps":[[-2],[-2]]}`, `dimensions[1]: "a" named twice`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := DecodeRequest(strings.NewReader(c.body))
			require.ErrorContains(t, err, c.want)
			require.NotContains(t, err.Error(), "\n", "errors are one line")
		})
	}
}

func TestNoiseIsStandardNormalAndDeterministic(t *testing.T) {
	require.Equal(t, Noise(5, 2, 3, 4), Noise(5, 2, 3, 4))
	require.NotEqual(t, Noise(5, 2, 3, 4), Noise(5, 3, 3, 4))
	require.Equal(t, StandardNormal(5, 2, 1, 2, 1), Noise(5, 2, 3, 4)[(1*4+2)*NoiseSlots+1], "row-major [B, K, 2]")
	n := 0
	var sum, sumSq float64
	for step := uint64(0); step < 2000; step++ {
		for _, z := range Noise(9, step, 4, 4) {
			require.False(t, math.IsNaN(z) || math.IsInf(z, 0))
			sum, sumSq, n = sum+z, sumSq+z*z, n+1
		}
	}
	mean := sum / float64(n)
	require.InDelta(t, 0, mean, 4/math.Sqrt(float64(n)))
	require.InDelta(t, 1, sumSq/float64(n)-mean*mean, 0.03)
}
