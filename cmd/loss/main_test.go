package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/amopo-engine/amopo/amopo/ref"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/stretchr/testify/require"
)

func call(t *testing.T, body string, args ...string) (spec.Response, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(body), &out, &errOut)
	var resp spec.Response
	if code == 0 {
		require.NoError(t, json.Unmarshal(out.Bytes(), &resp), out.String())
	}
	return resp, errOut.String(), code
}

// request builds a K = 4 body for a loss and policy, with reference log-probs for the
// losses that need them and a one-token rejected response (unbiased std -> NaN draw).
func request(loss spec.LossName, policy spec.PolicyName, extra string) string {
	body := fmt.Sprintf(`{"loss": %q, "policy": %q, "seed": 7, "step": 3,
		"chosen_logps": [[-1.2,-0.4],[-0.5,-2.5,-0.1],[-1e4,-3],[-0.05]],
		"rejected_logps": [[-2.2],[-0.3,-4],[-1,-1,-1],[-0.3,-0.7]]`, loss, policy)
	if loss.NeedsReference() {
		body += `, "ref_chosen_logps": [[-1,-1],[-1,-2,-1],[-2,-3],[-0.5]],
		"ref_rejected_logps": [[-2],[-0.5,-3],[-1,-2,-1],[-0.2,-0.6]]`
	}
	if loss.NeedsMarginRewards() { // two other objectives
		body += `, "objective_weights": [0.5, 0.3, 0.2],
		"chosen_margin_rewards": [[0.5, -1],[2, 0],[-3, 1],[0, 0]],
		"rejected_margin_rewards": [[1, 1],[-2, 0.5],[0, 0],[4, -1]]`
	}
	if policy == spec.Fixed {
		body += `, "weights": [4, 3, 2, 1]`
	}
	return body + extra + "}"
}

func TestLossAnswersTheFloat64ReferenceForEveryLossAndPolicy(t *testing.T) {
	for _, loss := range spec.Losses() {
		for _, policy := range spec.Policies() {
			for _, extra := range []string{"", `, "length_normalize": false, "unbiased_std": true, "softmax": "batch", "reduction": "mean"`} {
				body := request(loss, policy, extra)
				t.Run(fmt.Sprintf("%s/%s/%d", loss, policy, len(extra)), func(t *testing.T) {
					p, pair, err := spec.DecodeRequest(strings.NewReader(body))
					require.NoError(t, err)
					want, err := ref.Compute(&p, []spec.Pair{pair})
					require.NoError(t, err)
					wantResp := want.Response(&p)
					wantResp.Sanitize()
					for _, args := range [][]string{nil, {"--reference"}} {
						got, stderr, code := call(t, body, args...)
						require.Equal(t, 0, code, stderr)
						close := func(a, b []float64, what string) {
							require.Len(t, b, len(a), what)
							for i := range a {
								require.InDelta(t, a[i], b[i], 1e-9*math.Max(1, math.Abs(a[i])), "%s[%d] %v", what, i, args)
							}
						}
						require.InDelta(t, wantResp.Loss, got.Loss, 1e-9*math.Max(1, wantResp.Loss), "loss %v", args)
						close(wantResp.Alpha, got.Alpha, "alpha")
						close(wantResp.Mu, got.Mu, "mu")
						close(wantResp.Sigma, got.Sigma, "sigma")
						close(wantResp.Margins, got.Margins, "margins")
						close(wantResp.Losses, got.Losses, "losses")
						require.Equal(t, wantResp.NonFiniteWeights, got.NonFiniteWeights)
						require.Equal(t, p.Dimensions, got.Dimensions)
					}
				})
			}
		}
	}
}

func TestLossGradientOutput(t *testing.T) {
	body := request(spec.AMoPO, spec.Gaussian, "")
	graph, stderr, code := call(t, body, "--gradient")
	require.Equal(t, 0, code, stderr)
	reference, stderr, code := call(t, body, "--gradient", "--reference")
	require.Equal(t, 0, code, stderr)
	require.Len(t, graph.GradChosenLogps, 4)
	for k := range graph.GradChosenLogps {
		require.Len(t, graph.GradChosenLogps[k], len(reference.GradChosenLogps[k]))
		for i, g := range graph.GradChosenLogps[k] {
			require.InDelta(t, reference.GradChosenLogps[k][i], g, 1e-12)
			require.Less(t, g, 0.0, "raising a chosen log-prob lowers the loss")
		}
		for i, g := range graph.GradRejectedLogps[k] {
			require.InDelta(t, reference.GradRejectedLogps[k][i], g, 1e-12)
		}
	}
}

func TestLossBadRequestsExitTwoWithOneLine(t *testing.T) {
	for name, body := range map[string]string{
		"malformed":      `{"loss": "amopo", `,
		"ragged":         `{"loss":"amopo","chosen_logps":[[-1],[-2]],"rejected_logps":[[-1]]}`,
		"empty arrays":   `{"loss":"amopo","chosen_logps":[[]],"rejected_logps":[[-1]]}`,
		"unknown loss":   `{"loss":"ipo","chosen_logps":[[-1]],"rejected_logps":[[-1]]}`,
		"unknown policy": `{"loss":"amopo","policy":"beta","chosen_logps":[[-1]],"rejected_logps":[[-1]]}`,
		"not json":       `loss=amopo`,
		"cpo is refused": `{"loss":"cpo","chosen_logps":[[-1]],"rejected_logps":[[-1]]}`,
		"modpo, no margin rewards": `{"loss":"modpo","chosen_logps":[[-1]],"rejected_logps":[[-2]],
			"ref_chosen_logps":[[-1]],"ref_rejected_logps":[[-1]]}`,
		"controllable-cpo, no reference": `{"loss":"controllable-cpo","chosen_logps":[[-1]],"rejected_logps":[[-2]]}`,
	} {
		t.Run(name, func(t *testing.T) {
			for _, args := range [][]string{nil, {"--reference"}} {
				_, stderr, code := call(t, body, args...)
				require.Equal(t, 2, code)
				require.True(t, strings.HasPrefix(stderr, "loss: "), stderr)
				require.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
			}
		})
	}
	_, stderr, code := call(t, request(spec.AMoPO, spec.Gaussian, ""), "--backend", "nosuch")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, `backend "nosuch"`)
}
