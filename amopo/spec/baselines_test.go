package spec

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRefusedLossNamesSayWhy(t *testing.T) {
	_, err := ParseLoss("cpo")
	require.ErrorContains(t, err, `"controllable-cpo"`)
	require.ErrorContains(t, err, `"contrastive-cpo"`)
	require.ErrorContains(t, err, "Guo et al. 2024a")
	_, err = ParseLoss("spo")
	require.ErrorContains(t, err, "spec.SPOSchedule")
	for _, l := range Losses() {
		require.NotContains(t, refusedLosses, string(l), "a refused name must not be a loss")
		got, err := ParseLoss(string(l))
		require.NoError(t, err)
		require.Equal(t, l, got)
	}
}

func TestBaselineDefaultsFollowThePaper(t *testing.T) {
	for _, c := range []struct {
		loss       LossName
		beta       float64
		ref, norm  bool
		dimensions int
	}{
		{ControllableCPO, 0.2, true, false, 1}, // B.1: "For DPO, CPO and Cal-DPO, we set beta to 0.2"
		{MODPO, 0.2, true, false, 1},           // Table 4: beta = 0.2, w = 0.5
		{AMoPORef, 0.8, true, true, 4},         // Table 11: AMoPO's settings, with a reference
		{ContrastiveCPO, 0.2, false, false, 1},
	} {
		p := Defaults(c.loss)
		require.NoError(t, p.Validate(), c.loss)
		require.Equal(t, c.beta, p.Beta, c.loss)
		require.Equal(t, c.ref, c.loss.NeedsReference(), c.loss)
		require.Equal(t, c.norm, p.LengthNormalize, c.loss)
		require.Equal(t, c.dimensions, p.K(), c.loss)
	}
	modpo := Defaults(MODPO)
	require.Equal(t, []float64{0.5, 0.5}, modpo.ObjectiveWeights)
	require.Equal(t, 1, modpo.MarginRewardCount())
	require.Equal(t, 2.0, Defaults(AMoPORef).Gamma)
	require.Equal(t, Gaussian, Defaults(AMoPORef).Policy)
	require.True(t, ControllableCPO.ControlReference())
	require.False(t, DPO.ControlReference())
}

const modpoBody = `{"loss":"modpo","objective_weights":[0.5,0.3,0.2],
	"chosen_logps":[[-1,-1]],"rejected_logps":[[-2]],"ref_chosen_logps":[[-1,-2]],"ref_rejected_logps":[[-1]],
	"chosen_margin_rewards":[[1,2]],"rejected_margin_rewards":[[0,-1]]}`

func TestDecodeMODPORequest(t *testing.T) {
	p, pair, err := DecodeRequest(strings.NewReader(modpoBody))
	require.NoError(t, err)
	require.Equal(t, MODPO, p.Loss)
	require.Equal(t, []float64{0.5, 0.3, 0.2}, p.ObjectiveWeights)
	require.Equal(t, [][]float64{{1, 2}}, pair.MarginChosen)
	require.Equal(t, [][]float64{{0, -1}}, pair.MarginRejected)

	p, _, err = DecodeRequest(strings.NewReader(`{"loss":"modpo","chosen_logps":[[-1]],"rejected_logps":[[-2]],
		"ref_chosen_logps":[[-1]],"ref_rejected_logps":[[-1]],"chosen_margin_rewards":[[3]],"rejected_margin_rewards":[[1]]}`))
	require.NoError(t, err)
	require.Equal(t, []float64{0.5, 0.5}, p.ObjectiveWeights, "omitted: the paper's w = 0.5")
}

func TestBaselineRequestErrorsNameTheField(t *testing.T) {
	one := `"chosen_logps":[[-1]],"rejected_logps":[[-2]]`
	refs := `,"ref_chosen_logps":[[-1]],"ref_rejected_logps":[[-1]]`
	cases := map[string]struct{ body, want string }{
		"modpo, no margins": {`{"loss":"modpo",` + one + refs + `}`,
			`chosen_margin_rewards: missing (loss "modpo" needs each response's rewards on the 1 other objective(s))`},
		"modpo, M mismatch": {`{"loss":"modpo",` + one + refs + `,"chosen_margin_rewards":[[1,2]],"rejected_margin_rewards":[[1,2]]}`,
			"chosen_margin_rewards[0]: 2 rewards, but objective_weights [0.5 0.5] name 1 other objective(s)"},
		"modpo, K mismatch": {`{"loss":"modpo",` + one + refs + `,"chosen_margin_rewards":[[1],[2]],"rejected_margin_rewards":[[1]]}`,
			"chosen_margin_rewards: 2 arrays for K = 1 dimensions"},
		"modpo, w_k = 0": {`{"loss":"modpo","objective_weights":[0,1],` + one + refs + `,"chosen_margin_rewards":[[1]],"rejected_margin_rewards":[[1]]}`,
			"objective_weights[0]: w_k must be > 0"},
		"modpo, one weight": {`{"loss":"modpo","objective_weights":[1],` + one + refs + `}`,
			"objective_weights: modpo needs [w_k, w_-k...]"},
		"modpo, no reference": {`{"loss":"modpo",` + one + `,"chosen_margin_rewards":[[1]],"rejected_margin_rewards":[[1]]}`,
			`ref_chosen_logps: missing (loss "modpo" needs it)`},
		"weights unasked": {`{"loss":"dpo","objective_weights":[0.5,0.5],` + one + refs + `}`,
			`objective_weights: only modpo takes it (loss is "dpo")`},
		"margins unasked": {`{"loss":"amopo","chosen_margin_rewards":[[1]],` + one + `}`,
			`chosen_margin_rewards: only modpo takes it (loss is "amopo")`},
		"controllable-cpo, no reference": {`{"loss":"controllable-cpo",` + one + `}`,
			"given the control-token prompt (c, x)"},
		"cpo": {`{"loss":"cpo",` + one + `}`, `"cpo" is ambiguous`},
		"spo": {`{"loss":"spo",` + one + `}`, `"spo" (Lou et al. 2024) is a schedule, not a loss`},
		"ragged": {`{"loss":"amopo-ref",` + one + `,"ref_chosen_logps":[[-1,-1]],"ref_rejected_logps":[[-1]]}`,
			"ref_chosen_logps[0]: 2 reference log-probs for a response of 1 tokens"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := DecodeRequest(strings.NewReader(c.body))
			require.ErrorContains(t, err, c.want)
			require.NotContains(t, err.Error(), "\n", "errors are one line")
		})
	}
}

func TestSPOScheduleRunsOneDimensionAfterAnother(t *testing.T) {
	dims := []string{"helpfulness", "correctness", "instruction_following"}
	stages, err := SPOSchedule(dims, Defaults(DPO), false)
	require.NoError(t, err)
	require.Len(t, stages, 3)
	for i, s := range stages {
		require.Equal(t, i, s.Index)
		require.Equal(t, dims[i], s.Dimension, "the stages follow the given order")
		require.Equal(t, []string{"general"}, s.Params.Dimensions, "the plain prompt, K = 1")
		require.Equal(t, DPO, s.Params.Loss)
		require.NoError(t, s.Params.Validate())
		require.Equal(t, i-1, s.InitFrom, "each stage starts from the previous stage's model")
		require.Equal(t, i-1, s.ReferenceFrom, "and takes it as the reference")
	}
	require.Equal(t, SFTModel, stages[0].InitFrom)
	require.Equal(t, SFTModel, stages[0].ReferenceFrom)

	templated, err := SPOSchedule(dims, Defaults(SimPO), true)
	require.NoError(t, err)
	for i, s := range templated {
		require.Equal(t, []string{dims[i]}, s.Params.Dimensions, "the dimension's own template")
	}

	for name, c := range map[string]struct {
		dims  []string
		stage Params
		want  string
	}{
		"no dimensions": {nil, Defaults(DPO), "at least one dimension"},
		"twice":         {[]string{"a", "a"}, Defaults(DPO), `dimensions[1]: "a" named twice`},
		"empty":         {[]string{""}, Defaults(DPO), "dimensions[0]: empty name"},
		"modpo stage":   {dims, Defaults(MODPO), `stage loss "modpo" is itself a multi-objective method`},
		"ccpo stage":    {dims, Defaults(ControllableCPO), `stage loss "controllable-cpo"`},
		"fixed weights": {dims, func() Params { p := Defaults(DPO); p.Policy, p.Weights = Fixed, []float64{1, 1}; return p }(), "needs 1 weight"},
		"bad stage":     {dims, func() Params { p := Defaults(DPO); p.Beta = -1; return p }(), "spo: stage 0 (helpfulness): beta"},
	} {
		_, err := SPOSchedule(c.dims, c.stage, false)
		require.ErrorContains(t, err, c.want, name)
	}
}
