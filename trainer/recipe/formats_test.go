package recipe

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/amopo-engine/amopo/trainer"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/stretchr/testify/require"
)

// byteModelDir writes a small Qwen2 folder with the byte-level tokenizer's files, as an
// export of the default run.
func byteModelDir(t *testing.T) string {
	t.Helper()
	cfg := &llm.Config{ModelType: llm.Qwen2, VocabSize: data.ByteVocabSize, HiddenSize: 32, IntermediateSize: 64,
		NumLayers: 1, NumHeads: 2, NumKVHeads: 1, HeadDim: 16, RMSNormEps: 1e-6, RopeTheta: 1e4,
		TieWordEmbeddings: true, QKVBias: true, MaxPositionEmbeddings: 256}
	dir := writeModelDir(t, cfg, dtypes.BFloat16, "", nil, nil)
	require.NoError(t, byteTokens().save(dir, 256))
	return dir
}

// TestPreferenceAndMappedFormats: HelpSteer2's preference file feeds its train split to
// training and its validation split to evaluation, with the general template only (its
// pairs carry no scores); mapped JSON lines read through data.mapping, with a template
// per mapped dimension.
func TestPreferenceAndMappedFormats(t *testing.T) {
	dir := t.TempDir()
	pref := filepath.Join(dir, "preference.jsonl.gz")
	var rows []map[string]any
	for i, split := range []string{"train", "train", "train", "validation"} {
		rows = append(rows, map[string]any{"split": split, "prompt": "Q" + string(rune('a'+i)),
			"response_1": "good", "response_2": "bad", "preference_strength": -2})
	}
	writeGzipLines(t, pref, rows)
	cfg := trainer.Defaults()
	cfg.Data.Format, cfg.Data.Train, cfg.Data.Eval = "helpsteer2-preference", []string{pref}, []string{pref}
	plan, err := Resolve(cfg)
	require.NoError(t, err)
	require.Len(t, plan.Data.Train, 3)
	require.Len(t, plan.Data.Eval, 1)
	require.Equal(t, "Qd", plan.Data.Eval[0].Prompt, "the validation split is held out")
	require.Equal(t, []string{"general"}, plan.Loss.Dimensions)

	mapped := filepath.Join(dir, "mapped.jsonl")
	require.NoError(t, os.WriteFile(mapped, []byte(`{"q": "hi", "a": "hello", "b": "go away", "sa": 4, "sb": 1}`+"\n"), 0o644))
	cfg = trainer.Defaults()
	cfg.Data.Format, cfg.Data.Train = "mapped", []string{mapped}
	_, err = Resolve(cfg)
	require.ErrorContains(t, err, "data.mapping: data.format mapped needs the columns")
	cfg.Data.Mapping = "prompt=q,chosen=a,rejected=b,chosen.helpfulness=sa,rejected.helpfulness=sb"
	plan, err = Resolve(cfg)
	require.NoError(t, err)
	require.Equal(t, []string{"general", "helpfulness"}, plan.Loss.Dimensions)
	require.Equal(t, "go away", plan.Data.Train[0].Rejected.Text)
}

// TestRealPathResumesBitExactly: a model.dir run on HelpSteer2 files, rolled back to a
// mid-preference checkpoint and resumed, logs what the straight run logged.
func TestRealPathResumesBitExactly(t *testing.T) {
	dataDir := t.TempDir()
	train := filepath.Join(dataDir, "train.jsonl.gz")
	writeGzipLines(t, train, helpSteer2Rows(4, []string{"helpfulness", "correctness", "coherence"}))
	cfg := realPathConfig(t, byteModelDir(t), "helpsteer2", []string{train}, []string{train})
	cfg.Data.MaxLength, cfg.Data.MaxPromptLength = 256, 200
	cfg.Pref.Steps, cfg.KeepCheckpoints, cfg.CheckpointEvery = 4, 3, 2
	var log bytes.Buffer
	_, err := Train(cfg, &log)
	require.NoError(t, err, log.String())
	want := stageRows(t, filepath.Join(cfg.OutDir, "metrics.jsonl"))
	require.NotEmpty(t, want["preference/4/eval"])
	weights, err := os.ReadFile(filepath.Join(cfg.OutDir, "model", llm.WeightsFile))
	require.NoError(t, err)

	require.NoError(t, os.WriteFile(filepath.Join(cfg.OutDir, "checkpoints", "LATEST"), []byte(checkpointAt(t, cfg.OutDir, "preference", 2)+"\n"), 0o644))
	cfg.Resume = true
	log.Reset()
	_, err = Train(cfg, &log)
	require.NoError(t, err, log.String())
	require.Contains(t, log.String(), "[preference] 3/4")
	require.Equal(t, want, stageRows(t, filepath.Join(cfg.OutDir, "metrics.jsonl")))
	again, err := os.ReadFile(filepath.Join(cfg.OutDir, "model", llm.WeightsFile))
	require.NoError(t, err)
	require.Equal(t, weights, again, "the same exported weights, bit for bit")
}
