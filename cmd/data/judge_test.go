package main

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/amopo-engine/amopo/data/task"
	"github.com/stretchr/testify/require"
)

// answersFile writes n drawn prompts with answer(item) as cmd/train's answers lines.
func answersFile(t *testing.T, dir, name string, n int, answer func(task.Item) string) (string, []task.Item) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var lines []string
	var items []task.Item
	for range n {
		it := task.NewItem(rng)
		b, err := json.Marshal(map[string]any{"prompt": it.Prompt, "reference": it.Reference, "answer": answer(it),
			"input": "Q: " + it.Prompt + "\nA: ", "scores": map[string]float64{"correctness": 4}})
		require.NoError(t, err)
		lines, items = append(lines, string(b)), append(items, it)
	}
	return write(t, dir, name, lines...), items
}

func judged(t *testing.T, out string) judgeSummary {
	t.Helper()
	var s judgeSummary
	require.NoError(t, json.Unmarshal([]byte(out), &s), out)
	return s
}

// TestJudgeScoresAnswersFiles: references score 4 on every dimension, echoes 0, the
// means are over all files' lines, and the file's own scores field is not trusted.
func TestJudgeScoresAnswersFiles(t *testing.T) {
	dir := t.TempDir()
	ref, _ := answersFile(t, dir, "ref.jsonl", 50, func(it task.Item) string { return it.Reference })
	echo, _ := answersFile(t, dir, "echo.jsonl", 50, func(it task.Item) string { return it.Prompt })
	code, out, errOut := runCmd("judge", ref)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, judgeSummary{N: 50, Mean: map[string]float64{"helpfulness": 4, "correctness": 4, "instruction_following": 4}}, judged(t, out))
	code, out, _ = runCmd("judge", echo)
	require.Equal(t, 0, code)
	require.Equal(t, judgeSummary{N: 50, Mean: map[string]float64{"helpfulness": 0, "correctness": 0, "instruction_following": 0}}, judged(t, out))
	code, out, _ = runCmd("judge", ref, echo)
	require.Equal(t, 0, code)
	require.Equal(t, judgeSummary{N: 100, Mean: map[string]float64{"helpfulness": 2, "correctness": 2, "instruction_following": 2}}, judged(t, out))
}

// TestJudgeMatchesTheJudges: a mix of answers gets the task's judges' mean, per dimension.
func TestJudgeMatchesTheJudges(t *testing.T) {
	dir := t.TempDir()
	answer := func(it task.Item) string {
		if len(it.Prompt)%3 == 0 {
			return "The answer is " + it.Reference + "."
		}
		return task.Render(it.Meta.Type, task.Bare, it.Meta.Expected)
	}
	path, items := answersFile(t, dir, "mix.jsonl", 200, answer)
	want := map[string]float64{}
	for _, it := range items {
		for d, s := range task.Judge(it.Meta, answer(it)) {
			want[d] += s / float64(len(items))
		}
	}
	code, out, errOut := runCmd("judge", path)
	require.Equal(t, 0, code, errOut)
	got := judged(t, out)
	require.Equal(t, 200, got.N)
	for d, w := range want {
		require.InDelta(t, w, got.Mean[d], 1e-12, d)
	}
}

func TestJudgeRefusesBadLines(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ line, want string }{
		{`{"prompt": "add 2 and 3. answer with just the number.", "reference": "5"}`, "bad.jsonl:2: answer: missing"},
		{`{"prompt": "add 2 and 3. answer with just the number.", "answer": "5"}`, "bad.jsonl:2: reference: missing"},
		{`{"prompt": "what is love?", "reference": "baby", "answer": "x"}`, "bad.jsonl:2: prompt: "},
		{`{"prompt": "add 2 and 3. answer with just the number.", "reference": "6", "answer": "6"}`, `bad.jsonl:2: prompt: `},
		{`[1, 2]`, "bad.jsonl:2: json"},
	} {
		path := write(t, dir, "bad.jsonl", `{"prompt": "add 2 and 3. answer with just the number.", "reference": "5", "answer": "5"}`, c.line)
		code, out, errOut := runCmd("judge", path)
		require.Equal(t, 1, code, c.line)
		require.Empty(t, out)
		require.Contains(t, errOut, c.want, c.line)
	}
	code, _, _ := runCmd("judge")
	require.Equal(t, 2, code)
}
