package sampling

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/amopo-engine/amopo/amopo/ref"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/stretchr/testify/require"
)

func probsRequest(policy string) Request {
	return Request{Policy: policy, Seed: 7, N: 50,
		ChosenProbs:   [][]float64{{0.9, 0.8}, {0.5}, {0.7, 0.2, 0.4}},
		RejectedProbs: [][]float64{{0.3}, {0.6, 0.1}, {0.2}}}
}

// Draw i is what cmd/loss answers for the same pair with step i: the contract the page
// and the edge worker promise.
func TestDrawIIsTheLossContractsWeightsAtStepI(t *testing.T) {
	for _, policy := range []string{"gaussian", "gaussian-split", "fixed", "uniform"} {
		req := probsRequest(policy)
		if policy == "fixed" {
			req.Weights = []float64{1, 2, 3}
		}
		resp, err := Sample(&req)
		require.NoError(t, err, policy)
		require.Len(t, resp.Alpha, req.N)
		for _, draw := range []int{0, 17, 49} {
			lossReq, err := req.LossRequest("amopo", draw)
			require.NoError(t, err)
			p, pair, err := lossReq.Resolve()
			require.NoError(t, err)
			want, err := ref.Compute(&p, []spec.Pair{pair})
			require.NoError(t, err)
			require.Equal(t, want.Alpha[0], resp.Alpha[draw], "%s draw %d", policy, draw)
			require.Equal(t, want.Raw[0], resp.Raw[draw], "%s draw %d", policy, draw)
			require.Equal(t, want.Mu[0], resp.Mu)
		}
	}
}

// Giving mu and sigma directly draws what the probabilities with that Gaussian draw.
func TestMuSigmaInputDrawsLikeTheProbabilities(t *testing.T) {
	req := probsRequest("gaussian")
	fromProbs, err := Sample(&req)
	require.NoError(t, err)
	direct := Request{Policy: "gaussian", Seed: req.Seed, N: req.N, Mu: fromProbs.Mu, Sigma: fromProbs.Sigma}
	resp, err := Sample(&direct)
	require.NoError(t, err)
	for i := range resp.Raw {
		require.InDeltaSlice(t, fromProbs.Raw[i], resp.Raw[i], 1e-15)
		require.InDeltaSlice(t, fromProbs.Alpha[i], resp.Alpha[i], 1e-15)
	}
	require.Equal(t, []string{"dim_1", "dim_2", "dim_3"}, resp.Dimensions)
}

func TestBadRequestsSayWhy(t *testing.T) {
	cases := map[string]struct{ body, want string }{
		"empty":          {``, "empty body"},
		"unknown field":  {`{"n": 1, "muu": [1]}`, `unknown field "muu"`},
		"two values":     {`{"n":1,"mu":[0],"sigma":[1]} {}`, "more than one JSON value"},
		"no dimensions":  {`{"n": 1}`, "one entry per dimension"},
		"both inputs":    {`{"n":1,"mu":[0],"sigma":[1],"chosen_probs":[[0.5]],"rejected_probs":[[0.5]]}`, "not both"},
		"n zero":         {`{"mu":[0],"sigma":[1]}`, "n: 0 draws"},
		"n too large":    {`{"n":1000000,"mu":[0],"sigma":[1]}`, "must be 1..20000"},
		"bad policy":     {`{"n":1,"policy":"dirichlet","mu":[0],"sigma":[1]}`, `unknown weight policy "dirichlet"`},
		"split needs p":  {`{"n":1,"policy":"gaussian-split","mu":[0],"sigma":[1]}`, "gaussian-split draws one Gaussian per side"},
		"sigma missing":  {`{"n":1,"mu":[0,1],"sigma":[1]}`, "sigma: 1 values for K = 2"},
		"sigma negative": {`{"n":1,"mu":[0],"sigma":[-1]}`, "sigma[0]: must be finite and >= 0"},
		"prob zero":      {`{"n":1,"chosen_probs":[[0]],"rejected_probs":[[0.5]]}`, "chosen_probs[0][0]: a probability must be in (0, 1]"},
		"prob above 1":   {`{"n":1,"chosen_probs":[[0.5]],"rejected_probs":[[1.5]]}`, "rejected_probs[0][0]"},
		"ragged":         {`{"n":1,"chosen_probs":[[0.5],[0.5]],"rejected_probs":[[0.5]]}`, "rejected_probs: 1 arrays for K = 2"},
		"empty side":     {`{"n":1,"chosen_probs":[[]],"rejected_probs":[[0.5]]}`, "chosen_probs[0]: 0 tokens"},
		"fixed weights":  {`{"n":1,"policy":"fixed","mu":[0],"sigma":[1]}`, "weights: the fixed policy needs one weight"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			req, err := Decode(strings.NewReader(c.body))
			if err == nil {
				_, err = Sample(&req)
			}
			require.ErrorContains(t, err, c.want)
			require.NotContains(t, err.Error(), "\n")
		})
	}
}

func TestResponseIsJSON(t *testing.T) {
	req := probsRequest("gaussian-split")
	req.UnbiasedStd = true // one-token sides: NaN sigma, which JSON cannot carry
	resp, err := Sample(&req)
	require.NoError(t, err)
	require.Positive(t, resp.NonFiniteWeights)
	var buf bytes.Buffer
	require.NoError(t, json.NewEncoder(&buf).Encode(resp))
}
