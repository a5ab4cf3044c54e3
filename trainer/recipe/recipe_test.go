package recipe

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/data/task"
	"github.com/amopo-engine/amopo/engine/backend"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/amopo-engine/amopo/tokenizer"
	"github.com/amopo-engine/amopo/trainer"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
)

// tinyConfig is the default run shrunk to seconds.
func tinyConfig(t *testing.T) trainer.Config {
	cfg := trainer.Defaults()
	cfg.OutDir = t.TempDir()
	cfg.Data.TrainSize, cfg.Data.EvalSize = 40, 8
	cfg.OnPolicy = trainer.OnPolicyConfig{Prompts: 6, Samples: 2, Temperature: 1.5, MaxNewTokens: 8}
	cfg.SFT.Steps, cfg.SFT.BatchSize = 4, 8
	cfg.Pref.Steps, cfg.Pref.BatchSize, cfg.Pref.GradAccum = 3, 2, 2
	cfg.LogEvery, cfg.CheckpointEvery = 1, 2
	cfg.PeakTFLOPS = 0.005
	return cfg
}

func TestTrainEndToEndAtATinySize(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Data.MaxLength, cfg.Data.MaxPromptLength = 130, 96 // the long dimension templates' prompts are cut: the log says so
	var log bytes.Buffer
	report, err := Train(cfg, &log)
	require.NoError(t, err, log.String())
	require.Contains(t, log.String(), "after SFT")
	require.Contains(t, log.String(), "MFU")
	require.Regexp(t, `sft: 4 steps, \d+ tokens in \d+ s`, log.String(), "where the time goes, per stage")
	require.Regexp(t, `after SFT: judge scores .* \[8 prompts in \d+ s\]`, log.String())
	require.Regexp(t, `truncation \(data.max_length \d+, data.max_prompt_length \d+\): \d+% of training pairs .* \d+% of held-out prompts are cut`, log.String())
	for _, stage := range []string{"after SFT", "after amopo"} {
		require.Len(t, report.Judge[stage], 3, stage)
	}
	// The export loads back as a Hugging Face checkpoint.
	ctx := context.New()
	mcfg, err := llm.Load(ctx, filepath.Join(cfg.OutDir, "model")).Done()
	require.NoError(t, err)
	require.Equal(t, 259, mcfg.VocabSize)
	// ... with its tokenizer: the byte tokenizer's ids and special tokens.
	hfTok, err := tokenizer.Load(filepath.Join(cfg.OutDir, "model"))
	require.NoError(t, err)
	require.Equal(t, []int{'A', ':', ' ', data.ByteEOS}, hfTok.Encode("A: <|eos|>"))
	eos, ok := hfTok.EOS()
	require.True(t, ok)
	require.Equal(t, data.ByteEOS, eos)
	_, err = os.Stat(filepath.Join(cfg.OutDir, "model", llm.GenerationConfigFile))
	require.NoError(t, err)
	// The answers name the text the model read: the chat-formatted prompt.
	answers, err := os.ReadFile(filepath.Join(cfg.OutDir, "answers-after-amopo.jsonl"))
	require.NoError(t, err)
	for _, line := range bytes.Split(bytes.TrimSpace(answers), []byte("\n")) {
		var row struct{ Prompt, Input string }
		require.NoError(t, json.Unmarshal(line, &row))
		full := "Q: " + row.Prompt + "\nA: "
		if 1+len(full) <= cfg.Data.MaxPromptLength { // BOS + the chat-formatted prompt
			require.Equal(t, full, row.Input, "a prompt that fits is not cut")
			continue
		}
		require.Equal(t, cfg.Data.MaxPromptLength, 1+len(row.Input), "a long prompt is cut to max_prompt_length")
		require.True(t, strings.HasPrefix(row.Input, "Q: ") && strings.HasSuffix(full, row.Input[3:]), "cut from the left: %q", row.Input)
	}
	// What cmd/train/check_export.py relies on: the exported weights, given BOS + the
	// recorded input, generate the recorded answers greedily.
	var prompts [][]int32
	var want []string
	for _, line := range bytes.Split(bytes.TrimSpace(answers), []byte("\n")) {
		var row struct{ Input, Answer string }
		require.NoError(t, json.Unmarshal(line, &row))
		ids := []int32{data.ByteBOS}
		for _, b := range []byte(row.Input) {
			ids = append(ids, int32(b))
		}
		prompts, want = append(prompts, ids), append(want, row.Answer)
	}
	outs, err := llm.Generate(toyBackend(t), ctx, mcfg, prompts).MaxNewTokens(32).EOS(data.ByteEOS).PadID(data.BytePad).Done()
	require.NoError(t, err)
	for i, ids := range outs {
		require.Equal(t, want[i], trainer.DecodeUntilEOS(data.ByteTokenizer{}, ids), "answer %d", i)
	}
	rows := losses(t, filepath.Join(cfg.OutDir, "metrics.jsonl"))
	require.Len(t, rows, 4+3)

	// Running again with --resume finds the run finished and redoes nothing.
	cfg.Resume = true
	log.Reset()
	_, err = Train(cfg, &log)
	require.NoError(t, err, log.String())
	require.Contains(t, log.String(), "resuming from")
	require.NotContains(t, log.String(), "[preference] 1/")
}

// TestResumeMidPreferenceReusesOnPolicyPairs rolls a finished run back to a mid-preference
// checkpoint and resumes it: the model is no longer the SFT one, so the on-policy pairs
// must be read back from out_dir, and the losses must equal the straight run's.
func TestResumeMidPreferenceReusesOnPolicyPairs(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Data.GeneratorPairs = 2
	// Enough SFT that some sampled answers pass the judges' gate (an untrained model's
	// babble scores 0 everywhere: ties, no pairs).
	cfg.Data.TrainSize, cfg.SFT.Steps, cfg.SFT.BatchSize, cfg.SFT.Optimizer.LR = 960, 60, 16, 3e-3
	cfg.OnPolicy = trainer.OnPolicyConfig{Prompts: 48, Samples: 4, Temperature: 1, MaxNewTokens: 12}
	cfg.Pref.Steps, cfg.Pref.GradAccum, cfg.KeepCheckpoints = 4, 1, 3
	var log bytes.Buffer
	_, err := Train(cfg, &log)
	require.NoError(t, err, log.String())
	require.Contains(t, log.String(), "on-policy: ")
	pairs, err := trainer.ReadPairs(filepath.Join(cfg.OutDir, "onpolicy-pairs.jsonl"))
	require.NoError(t, err)
	t.Logf("%d on-policy pairs", len(pairs))
	require.GreaterOrEqual(t, len(pairs), 2, "the sampled answers of an early model differ: pairs, not ties")
	want := losses(t, filepath.Join(cfg.OutDir, "metrics.jsonl"))
	require.Contains(t, want, "preference/4")
	wantRows := rowsWithoutTimings(t, filepath.Join(cfg.OutDir, "metrics.jsonl"))

	require.NoError(t, os.WriteFile(filepath.Join(cfg.OutDir, "checkpoints", "LATEST"), []byte(checkpointAt(t, cfg.OutDir, "preference", 2)+"\n"), 0o644))
	cfg.Resume = true
	log.Reset()
	_, err = Train(cfg, &log)
	require.NoError(t, err, log.String())
	require.Contains(t, log.String(), "resuming from")
	require.Contains(t, log.String(), "pairs read back from")
	require.Contains(t, log.String(), "[preference] 3/4")
	require.Equal(t, want, losses(t, filepath.Join(cfg.OutDir, "metrics.jsonl")))
	// Every row, the judge rows included (timings aside): the after-SFT judge row, written
	// before the checkpoint, stays.
	require.Equal(t, wantRows, rowsWithoutTimings(t, filepath.Join(cfg.OutDir, "metrics.jsonl")),
		"every row, every value, as the straight run's")
}

// TestDPOReferencesSurviveResume: DPO's reference log-probs are the SFT model's, computed
// once and saved; a run resumed mid-preference (its model no longer the SFT one) reads
// them back and logs what the straight run logged.
func TestDPOReferencesSurviveResume(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Loss.Name, cfg.OnPolicy.Prompts = "dpo", 0
	cfg.Pref.Steps, cfg.Pref.GradAccum, cfg.KeepCheckpoints = 4, 1, 3
	var log bytes.Buffer
	_, err := Train(cfg, &log)
	require.NoError(t, err, log.String())
	require.Contains(t, log.String(), "reference log-probs of")
	want := stageRows(t, filepath.Join(cfg.OutDir, "metrics.jsonl"))
	require.NotEmpty(t, want["preference/4"])

	require.NoError(t, os.WriteFile(filepath.Join(cfg.OutDir, "checkpoints", "LATEST"), []byte(checkpointAt(t, cfg.OutDir, "preference", 2)+"\n"), 0o644))
	cfg.Resume = true
	log.Reset()
	_, err = Train(cfg, &log)
	require.NoError(t, err, log.String())
	require.Contains(t, log.String(), "[preference] 3/4")
	require.NotContains(t, log.String(), "reference log-probs of", "read back, not recomputed with the trained model")
	require.Equal(t, want, stageRows(t, filepath.Join(cfg.OutDir, "metrics.jsonl")))
}

// TestSafeExecutorDoesNotHang trains the tiny default model for enough steps to have
// caught GoMLX v0.26's parallel-executor deadlock (it hung within a few steps), with a
// watchdog instead of a hung test.
func TestSafeExecutorDoesNotHang(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.SFT.Steps, cfg.Pref.Steps, cfg.CheckpointEvery = 25, 15, 0
	done := make(chan error, 1)
	var log bytes.Buffer
	go func() {
		_, err := Train(cfg, &log)
		done <- err
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(4 * time.Minute):
		t.Fatalf("training hung on backend %q:\n%s", backend.SafeGoConfig(), log.String())
	}
}

func TestTruncationNote(t *testing.T) {
	tok := data.ByteTokenizer{}
	items := []task.Item{{Prompt: "add 2 and 3."}, {Prompt: strings.Repeat("long prompt ", 10)}}
	for _, c := range []struct {
		maxLen, maxPrompt int
		want              string
	}{
		{96, 64, "50% of held-out prompts are cut"},
		{200, 150, ""},
	} {
		enc, err := data.NewEncoder(data.EncodeConfig{Tokenizer: tok, Chat: data.UserTurn(tok.ApplyChatTemplate),
			Templates: task.Templates(), MaxLength: c.maxLen, MaxPromptLength: c.maxPrompt, EOS: tok.EOS(), AddBOS: true, BOS: tok.BOS()})
		require.NoError(t, err)
		note, err := truncationNote(enc, []data.Example{{PromptTruncated: c.want != ""}, {}}, Prompts(items),
			&Plan{MaxLength: c.maxLen, MaxPromptLength: c.maxPrompt})
		require.NoError(t, err)
		if c.want == "" {
			require.Empty(t, note)
			continue
		}
		require.Contains(t, note, c.want)
		require.Contains(t, note, "50% of training pairs had the prompt cut")
	}
}
