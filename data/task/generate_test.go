package task

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/amopo-engine/amopo/data"
	"github.com/stretchr/testify/require"
)

func serialize(t *testing.T, ds *Dataset) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, p := range append(append([]data.Pair{}, ds.Train...), ds.EvalPairs...) {
		require.NoError(t, data.WriteAMoPO(&b, p, Dimensions()))
	}
	for _, it := range ds.Eval {
		require.NoError(t, WriteItem(&b, it))
	}
	return b.Bytes()
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, err := Generate(Config{Seed: 7, Train: 300, Eval: 50})
	require.NoError(t, err)
	b, err := Generate(Config{Seed: 7, Train: 300, Eval: 50})
	require.NoError(t, err)
	require.Equal(t, serialize(t, a), serialize(t, b), "same seed, same bytes")
	c, err := Generate(Config{Seed: 8, Train: 300, Eval: 50})
	require.NoError(t, err)
	require.NotEqual(t, serialize(t, a), serialize(t, c))

	// The held-out set does not depend on the training size.
	d, err := Generate(Config{Seed: 7, Train: 10, Eval: 50})
	require.NoError(t, err)
	require.Equal(t, a.Eval, d.Eval)
	require.Equal(t, a.Train[:10], d.Train)
}

func TestGeneratedData(t *testing.T) {
	ds, err := Generate(Config{Seed: 1, Train: 2000, Eval: 200})
	require.NoError(t, err)
	require.Len(t, ds.Train, 2000)
	require.Len(t, ds.Eval, 200)
	require.Len(t, ds.EvalPairs, 200)

	held := map[string]bool{}
	for _, it := range ds.Eval {
		held[it.Prompt] = true
		// The reference answer is what the judges call perfect.
		require.Equal(t, data.Scores{Helpfulness: 4, Correctness: 4, InstructionFollowing: 4}, Judge(it.Meta, it.Reference), it.Prompt)
	}
	for _, p := range ds.Train {
		require.False(t, held[p.Prompt], "a held-out prompt leaked into training: %q", p.Prompt)
		require.Greater(t, Total(p.Chosen.Scores), Total(p.Rejected.Scores))
		require.NotEqual(t, p.Chosen.Text, p.Rejected.Text)
		for _, s := range []string{p.Prompt, p.Chosen.Text, p.Rejected.Text} {
			for _, c := range []byte(s) {
				require.True(t, c >= ' ' && c < 127, "printable ASCII only: %q", s)
			}
		}
		require.LessOrEqual(t, len(p.Prompt), 100)
		require.LessOrEqual(t, len(p.Chosen.Text), 60)
		for _, d := range Dimensions() {
			v := p.Chosen.Scores[d]
			require.True(t, v >= 0 && v <= 4)
		}
	}
	// Ties and conflicts on every dimension: the data exercises both.
	for _, d := range Dimensions() {
		require.Greater(t, ds.Stats.TiedPairs[d], 50, d)
		require.Greater(t, ds.Stats.Conflicts[d], 5, d)
	}
}

func TestItemsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var items []Item
	var b bytes.Buffer
	for i := 0; i < 20; i++ {
		it := NewItem(rng)
		items = append(items, it)
		require.NoError(t, WriteItem(&b, it))
	}
	path := filepath.Join(t.TempDir(), "eval_prompts.jsonl")
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	got, err := ReadItems(path)
	require.NoError(t, err)
	require.Equal(t, items, got)

	require.NoError(t, os.WriteFile(path, []byte("{\"prompt\": \"x\"}\n"), 0o644))
	_, err = ReadItems(path)
	require.ErrorContains(t, err, path+":1: meta:")
}

func TestTaskTemplatesEncode(t *testing.T) {
	ts := Templates()
	require.NoError(t, ts.Validate())
	require.Equal(t, []string{"general", Helpfulness, Correctness, InstructionFollowing}, ts.Names())
	ds, err := Generate(Config{Seed: 1, Train: 1})
	require.NoError(t, err)
	got, err := ts.Apply(&ds.Train[0], data.DefaultScale())
	require.NoError(t, err)
	p := ds.Train[0]
	require.Equal(t, fmt.Sprintf("give an answer of instruction following %g of 4 (exactly the asked format): %s",
		p.Chosen.Scores[InstructionFollowing], p.Prompt), got[3])
	require.Equal(t, fmt.Sprintf("give an answer of correctness %g of 4 (the right value): %s", p.Chosen.Scores[Correctness], p.Prompt), got[2])
	require.Equal(t, p.Prompt, got[0])
}
