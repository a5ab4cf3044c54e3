package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
)

// tinyModelDir writes a Hugging Face folder with random weights and the byte-level
// tokenizer's files, as an export of the default run.
func tinyModelDir(t *testing.T) string {
	t.Helper()
	cfg := &llm.Config{ModelType: llm.Qwen2, VocabSize: data.ByteVocabSize, HiddenSize: 16, IntermediateSize: 32,
		NumLayers: 1, NumHeads: 2, NumKVHeads: 1, HeadDim: 8, RMSNormEps: 1e-6, RopeTheta: 1e4,
		TieWordEmbeddings: true, QKVBias: true, MaxPositionEmbeddings: 128}
	dir := filepath.Join(t.TempDir(), "model")
	ctx := context.New().In("model")
	require.NoError(t, llm.InitRandom(ctx, cfg, 1, dtypes.Float32))
	require.NoError(t, llm.Save(ctx, cfg, dir).Done())
	require.NoError(t, data.ByteTokenizer{}.SaveHF(dir, 128))
	return dir
}

// TestBadModelDirIsOneLineError: a missing folder, a truncated safetensors file and a
// vocabulary smaller than the tokenizer's each stop cmd/train with exit status 1 and
// one line on stderr naming the file.
func TestBadModelDirIsOneLineError(t *testing.T) {
	truncated := tinyModelDir(t)
	weights := filepath.Join(truncated, llm.WeightsFile)
	st, err := os.Stat(weights)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(weights, st.Size()/2))
	small := tinyModelDir(t)
	conf := filepath.Join(small, llm.ConfigFile)
	text, err := os.ReadFile(conf)
	require.NoError(t, err)
	require.Contains(t, string(text), `"vocab_size": 259`)
	require.NoError(t, os.WriteFile(conf, bytes.Replace(text, []byte(`"vocab_size": 259`), []byte(`"vocab_size": 200`), 1), 0o644))

	for _, c := range []struct{ dir, file, why string }{
		{"/nonexistent/model", "/nonexistent/model", "no such file"},
		{truncated, weights, "truncated"},
		{small, conf, "smaller than the tokenizer's 259"},
	} {
		var stdout, stderr bytes.Buffer
		code := run([]string{"--model.dir", c.dir, "--out_dir", filepath.Join(t.TempDir(), "run")}, &stdout, &stderr)
		require.Equal(t, 1, code, stderr.String())
		msg := strings.TrimSuffix(stderr.String(), "\n")
		require.NotContains(t, msg, "\n", "one line")
		require.Contains(t, msg, c.file)
		require.Contains(t, msg, c.why)
	}
}

// TestFromOwnExport: a folder cmd/train exported (the byte-level tokenizer's files)
// is a model.dir to continue from, with SFT skipped (--sft.steps 0, on a new out_dir).
func TestFromOwnExport(t *testing.T) {
	dir := tinyModelDir(t)
	out := filepath.Join(t.TempDir(), "run")
	var stdout, stderr bytes.Buffer
	code := run([]string{"--model.dir", dir, "--out_dir", out, "--sft.steps", "0", "--preference.steps", "1",
		"--on_policy.prompts", "2", "--on_policy.max_new_tokens", "4", "--data.train_size", "8", "--data.eval_size", "2",
		"--preference.batch_size", "1", "--peak_tflops", "1"}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String()+stdout.String())
	require.Contains(t, stdout.String(), "start: judge scores", "the model before preference training is judged")
	require.NotContains(t, stdout.String(), "[sft]")
	for _, f := range []string{"answers-start.jsonl", "answers-after-amopo.jsonl", "model/model.safetensors", "model/tokenizer.json"} {
		_, err := os.Stat(filepath.Join(out, f))
		require.NoError(t, err, f)
	}
}

// TestStrayArgumentIsRefused: the flag package stops at the first non-flag argument, so
// "preference.steps 50" (a missing "--") would drop it and every flag after it, and the
// run would train with the defaults. (The unknown backend makes a run that gets past the
// argument check fail at once, with code 1.)
func TestStrayArgumentIsRefused(t *testing.T) {
	out := filepath.Join(t.TempDir(), "o")
	var stdout, stderr bytes.Buffer
	code := run([]string{"--backend", "nosuch", "--out_dir", out, "preference.steps", "50", "--sft.steps", "99"}, &stdout, &stderr)
	require.Equal(t, 2, code, stderr.String())
	require.Contains(t, stderr.String(), `unexpected argument "preference.steps"`)
	require.Contains(t, stderr.String(), "it and the 3 after it would be ignored")
	require.NoDirExists(t, out, "nothing ran")
}
