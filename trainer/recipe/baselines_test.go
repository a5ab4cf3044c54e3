package recipe

import (
	"testing"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/trainer"
	"github.com/stretchr/testify/require"
)

func scoredPair(prompt string, w, l data.Scores) data.Pair {
	return data.Pair{Prompt: prompt, Chosen: data.Response{Text: "w", Scores: w}, Rejected: data.Response{Text: "l", Scores: l}}
}

// PairsByDimension orders each pair by one dimension: kept, swapped, or left out on a tie.
func TestPairsByDimension(t *testing.T) {
	pairs := []data.Pair{
		scoredPair("keep", data.Scores{"c": 3, "h": 1}, data.Scores{"c": 1, "h": 2}),
		scoredPair("swap", data.Scores{"c": 0, "h": 4}, data.Scores{"c": 2, "h": 0}),
		scoredPair("tie", data.Scores{"c": 2, "h": 4}, data.Scores{"c": 2, "h": 0}),
	}
	got, ties, err := PairsByDimension(pairs, "c")
	require.NoError(t, err)
	require.Equal(t, 1, ties)
	require.Len(t, got, 2)
	require.Equal(t, "keep", got[0].Prompt)
	require.Equal(t, "w", got[0].Chosen.Text)
	require.Equal(t, "swap", got[1].Prompt)
	require.Equal(t, "l", got[1].Chosen.Text, "the rejected response scored higher on c")
	require.Equal(t, 2.0, got[1].Chosen.Scores["c"])
	require.Equal(t, "c", got[1].Dimension)
	require.Equal(t, "w", pairs[1].Chosen.Text, "the input is not changed")
	_, _, err = PairsByDimension(pairs, "x")
	require.ErrorContains(t, err, `no "x" score`)
}

// ControlPairs prefixes the chosen response's scores as control tokens, in the given
// dimension order, and keeps the responses (so policy and reference examples pair up).
func TestControlPairs(t *testing.T) {
	pairs := []data.Pair{scoredPair("add 1 and 2.", data.Scores{"helpfulness": 4, "correctness": 3.5}, data.Scores{"helpfulness": 0, "correctness": 1})}
	got, err := ControlPairs(pairs, []string{"helpfulness", "correctness"})
	require.NoError(t, err)
	require.Equal(t, "<helpfulness: 4> <correctness: 3.5> add 1 and 2.", got[0].Prompt)
	require.Equal(t, pairs[0].Chosen, got[0].Chosen)
	require.Equal(t, pairs[0].Rejected, got[0].Rejected)
	require.Equal(t, "add 1 and 2.", pairs[0].Prompt)
	_, err = ControlPairs(pairs, []string{"honesty"})
	require.ErrorContains(t, err, `no "honesty" score`)
}

// cmd/train's recipe refuses the losses whose inputs only cmd/experiment computes, by
// name, before any work; amopo-ref (the reference on the same prompts) is accepted.
func TestRecipeRefusesExperimentOnlyLosses(t *testing.T) {
	for _, name := range []string{"controllable-cpo", "modpo"} {
		cfg := trainer.Defaults()
		cfg.Loss.Name, cfg.Loss.Policy = name, "uniform"
		cfg.Loss.NLLWeight = nil
		_, err := Resolve(cfg)
		require.ErrorContains(t, err, "cmd/experiment runs", name)
	}
	cfg := trainer.Defaults()
	cfg.Loss.Name = "amopo-ref"
	_, err := Resolve(cfg)
	require.NoError(t, err)
}
