package trainer

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConfigFileAndFlags(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.yaml")
	require.NoError(t, os.WriteFile(path, []byte("seed: 7\npreference:\n  steps: 12\n  optimizer:\n    lr: 0.001\n    warmup_steps: 3\nloss:\n  name: simpo\n  weights: [1, 2]\n"), 0o644))
	cfg := Defaults()
	require.NoError(t, LoadConfig(path, &cfg))
	require.Equal(t, uint64(7), cfg.Seed)
	require.Equal(t, 12, cfg.Pref.Steps)
	require.Equal(t, 0.001, cfg.Pref.Optimizer.LR)
	require.Equal(t, 3, cfg.Pref.Optimizer.WarmupSteps, "snake_case keys in YAML too")
	require.Equal(t, Defaults().Pref.BatchSize, cfg.Pref.BatchSize, "keys the file leaves out keep their defaults")
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	BindFlags(fs, &cfg)
	require.NoError(t, fs.Parse([]string{"--preference.steps", "30", "--loss.gamma", "0", "--loss.authors_code",
		"--data.train", "a.jsonl,b.jsonl"}))
	require.Equal(t, 30, cfg.Pref.Steps, "flags override the file")
	require.NotNil(t, cfg.Loss.Gamma)
	require.Equal(t, 0.0, *cfg.Loss.Gamma)
	require.True(t, cfg.Loss.AuthorsCode)
	require.Equal(t, []string{"a.jsonl", "b.jsonl"}, cfg.Data.Train)

	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"preference": {"stepz": 3}}`), 0o644))
	require.ErrorContains(t, LoadConfig(bad, &cfg), `bad.json: json: unknown field "stepz"`)
	cfg = Defaults()
	cfg.Data.MaxPromptLength = cfg.Data.MaxLength
	require.ErrorContains(t, cfg.Validate(), "max_prompt_length")
	def := Defaults()
	p, err := def.LossParams([]string{"a", "b"})
	require.NoError(t, err)
	require.Equal(t, 0.8, p.Beta)
}

// TestShippedConfigs: the config files that docs point to load over the defaults, change
// what they say and validate.
func TestShippedConfigs(t *testing.T) {
	cfg := Defaults()
	require.NoError(t, LoadConfig("../cmd/train/full-prompts.yaml", &cfg))
	require.NoError(t, cfg.Validate())
	require.Equal(t, 130, cfg.Data.MaxLength)
	require.Equal(t, 96, cfg.Data.MaxPromptLength)
	require.InDelta(t, 1e-3, cfg.Pref.Optimizer.LR, 1e-12)
	require.Equal(t, Defaults().SFT, cfg.SFT, "the rest stays the default")
}
