package recipe

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDefaultRunUnchanged runs the default config shortened (cmd/train --sft.steps 5
// --preference.steps 5 --on_policy.prompts 8 --data.eval_size 16 --data.train_size 200
// --data.generator_pairs 40 --log_every 1) and compares every logged number and the
// judged answers with testdata/default-quick-run*.jsonl, which that command wrote with
// the code before trainer/recipe existed (commit 9bfee4b): the redesign must not change
// a bit of the default run (data, initialisation, noise, steps, on-policy pairs, judges).
func TestDefaultRunUnchanged(t *testing.T) {
	cfg := defaultQuickConfig(t)
	var log bytes.Buffer
	_, err := Train(cfg, &log)
	require.NoError(t, err, log.String())
	got := metricRows(t, filepath.Join(cfg.OutDir, "metrics.jsonl"))
	want := metricRows(t, "testdata/default-quick-run.jsonl")
	for _, row := range got {
		delete(row, "tokens_per_second") // timings
		delete(row, "mfu")
	}
	require.Equal(t, want, got)
	answers, err := os.ReadFile(filepath.Join(cfg.OutDir, "answers-after-amopo.jsonl"))
	require.NoError(t, err)
	wantAnswers, err := os.ReadFile("testdata/default-quick-run-answers.jsonl")
	require.NoError(t, err)
	require.Equal(t, string(wantAnswers), string(answers))
}
