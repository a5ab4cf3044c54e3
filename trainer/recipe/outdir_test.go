package recipe

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestResumeInACopiedOutDir: an out_dir copied elsewhere (another disk, a backup) resumes
// there; neither out_dir nor overwrite is part of the "same config" comparison.
func TestResumeInACopiedOutDir(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.SFT.Steps, cfg.Pref.Steps, cfg.OnPolicy.Prompts = 2, 2, 0
	cfg.Overwrite = true
	var log bytes.Buffer
	_, err := Train(cfg, &log)
	require.NoError(t, err, log.String())

	copied := filepath.Join(t.TempDir(), "copy")
	require.NoError(t, os.CopyFS(copied, os.DirFS(cfg.OutDir)))
	cfg.OutDir, cfg.Resume, cfg.Overwrite = copied, true, false
	log.Reset()
	_, err = Train(cfg, &log)
	require.NoError(t, err, log.String())
	require.Contains(t, log.String(), "resuming from "+filepath.Join(copied, "checkpoints", checkpointAt(t, copied, "preference", 2)))
}

// TestRerunRefusedBeforeAnyWrite: with sft.steps 0 the first file a run writes is the
// evaluation's answers; a second run in the same out_dir (no --resume, no --overwrite)
// is refused before it replaces the earlier run's answers.
func TestRerunRefusedBeforeAnyWrite(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.SFT.Steps, cfg.Pref.Steps, cfg.OnPolicy.Prompts = 0, 1, 0
	var log bytes.Buffer
	_, err := Train(cfg, &log)
	require.NoError(t, err, log.String())
	answers := filepath.Join(cfg.OutDir, "answers-start.jsonl") // the evaluation before training
	require.FileExists(t, answers)
	require.NoError(t, os.WriteFile(answers, []byte("the earlier run's answers\n"), 0o644))

	log.Reset()
	_, err = Train(cfg, &log)
	require.ErrorContains(t, err, "--overwrite")
	text, rerr := os.ReadFile(answers)
	require.NoError(t, rerr)
	require.Equal(t, "the earlier run's answers\n", string(text), "refused before writing")
}
