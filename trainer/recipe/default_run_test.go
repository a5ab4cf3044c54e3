package recipe

import (
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/amopo-engine/amopo/trainer"
	"github.com/stretchr/testify/require"
)

// TestDefaultRunUnchanged runs the default config shortened (cmd/train --sft.steps 5
// --preference.steps 5 --on_policy.prompts 8 --data.eval_size 16 --data.train_size 200
// --data.generator_pairs 40 --log_every 1) and compares every logged number and the
// judged answers with testdata/default-quick-run*.jsonl, which that command wrote with
// the code before trainer/recipe existed (commit 9bfee4b): the redesign must not change
// the default run (data, initialisation, noise, steps, on-policy pairs, judges). The
// record was written with GoMLX's own executors; the engine's CPU kernels (engine/cpu)
// sum matmuls in another order, so numbers agree to f32 rounding carried through ten
// Adam steps (relative 1e-4), not bit for bit; every key, step and answer is the same.
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
	require.Equal(t, len(want), len(got), "rows")
	for i := range want {
		require.ElementsMatch(t, keys(want[i]), keys(got[i]), "row %d", i)
		for k, w := range want[i] {
			if wf, ok := w.(float64); ok {
				require.InDelta(t, wf, got[i][k], 1e-4*max(1, math.Abs(wf)), "row %d (%v/%v) %s", i, want[i]["stage"], want[i]["step"], k)
			} else {
				require.Equal(t, w, got[i][k], "row %d %s", i, k)
			}
		}
	}
	answers, err := os.ReadFile(filepath.Join(cfg.OutDir, "answers-after-amopo.jsonl"))
	require.NoError(t, err)
	wantAnswers, err := os.ReadFile("testdata/default-quick-run-answers.jsonl")
	require.NoError(t, err)
	require.Equal(t, string(wantAnswers), string(answers))
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestDefaultKeepsHeldOutPromptsWhole: the default length limits fit every held-out prompt
// of the built-in task (the judge must score answers to questions the model saw whole),
// on the default seed and the two seeds the default was chosen on. 96/64, the limits
// before, cut about half of them.
func TestDefaultKeepsHeldOutPromptsWhole(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		cfg := trainer.Defaults()
		cfg.Seed, cfg.OutDir = seed, t.TempDir()
		plan, err := Resolve(cfg)
		require.NoError(t, err)
		j, err := Load(plan, configText(cfg), io.Discard)
		require.NoError(t, err)
		require.Len(t, plan.Data.Prompts, cfg.Data.EvalSize)
		for i, prompt := range plan.Data.Prompts {
			fits, err := j.Encoder.PromptFits(prompt, nil, 0)
			require.NoError(t, err)
			require.True(t, fits, "seed %d, held-out prompt %d is cut by data.max_prompt_length %d: %q",
				seed, i, cfg.Data.MaxPromptLength, prompt)
		}
		j.Close()
	}
}
