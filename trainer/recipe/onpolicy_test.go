package recipe

import (
	"path/filepath"
	"testing"

	"github.com/amopo-engine/amopo/data/task"
	"github.com/amopo-engine/amopo/trainer"
	"github.com/stretchr/testify/require"
)

func TestOnPolicyPairs(t *testing.T) {
	items, err := OnPolicyPrompts(7, 3, nil)
	require.NoError(t, err)
	again, err := OnPolicyPrompts(7, 3, nil)
	require.NoError(t, err)
	require.Equal(t, items, again, "the same seed draws the same prompts")
	later, err := OnPolicyPrompts(7, 3, items[:2])
	require.NoError(t, err)
	require.NotContains(t, []string{later[0].Prompt, later[1].Prompt, later[2].Prompt}, items[0].Prompt)
	require.NotContains(t, []string{later[0].Prompt, later[1].Prompt, later[2].Prompt}, items[1].Prompt)

	right := func(it task.Item) string { return task.Render(it.Meta.Type, it.Meta.Format, it.Meta.Expected) }
	answers := []string{
		"I don't know", right(items[0]), "", // item 0: best the right answer, worst "" or the refusal (both 0)
		"x", "x", "x", // item 1: all tie: skipped
		"", right(items[2]) + " Hope this helps!", right(items[2]),
	}
	pairs, skipped, err := OnPolicyPairs(items, answers, 3)
	require.NoError(t, err)
	require.Equal(t, 1, skipped)
	require.Len(t, pairs, 2)
	require.Equal(t, right(items[0]), pairs[0].Chosen.Text)
	require.Equal(t, "I don't know", pairs[0].Rejected.Text, "the first of the tied worst answers")
	require.Equal(t, right(items[2]), pairs[1].Chosen.Text, "filler costs helpfulness and format")
	require.Equal(t, "", pairs[1].Rejected.Text)
	for _, p := range pairs {
		require.Greater(t, task.Total(p.Chosen.Scores), task.Total(p.Rejected.Scores))
		require.Equal(t, task.Judge(findItem(items, p.Prompt).Meta, p.Chosen.Text), p.Chosen.Scores)
	}
	_, _, err = OnPolicyPairs(items, answers[:8], 3)
	require.ErrorContains(t, err, "8 answers for 3 prompts x 3 samples")

	// Saved and read back unchanged, the empty answer and a cut UTF-8 character included
	// (what --resume trains on).
	pairs[1].Chosen.Text += "\xe2\x82"
	path := filepath.Join(t.TempDir(), "onpolicy-pairs.jsonl")
	require.NoError(t, trainer.WritePairs(path, pairs))
	back, err := trainer.ReadPairs(path)
	require.NoError(t, err)
	require.Len(t, back, len(pairs))
	for i := range pairs {
		require.Equal(t, pairs[i].Prompt, back[i].Prompt)
		require.Equal(t, pairs[i].Chosen, back[i].Chosen)
		require.Equal(t, pairs[i].Rejected, back[i].Rejected)
	}
	_, err = trainer.ReadPairs(filepath.Join(t.TempDir(), "none.jsonl"))
	require.Error(t, err)
}

func findItem(items []task.Item, prompt string) task.Item {
	for _, it := range items {
		if it.Prompt == prompt {
			return it
		}
	}
	return task.Item{}
}
