package trainer

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestValidateNamesKeyAndValue: each value that would train wrongly (or fail only after
// training started) is refused up front, naming its key and value.
func TestValidateNamesKeyAndValue(t *testing.T) {
	require.NoError(t, func() error { c := Defaults(); return c.Validate() }())
	for _, c := range []struct {
		set  func(*Config)
		want string
	}{
		{func(c *Config) { c.OnPolicy.Prompts = -1 }, "on_policy.prompts = -1"},
		{func(c *Config) { c.OnPolicy.Temperature = math.NaN() }, "on_policy.temperature = NaN"},
		{func(c *Config) { c.OnPolicy.TopK = -2 }, "on_policy.top_k = -2"},
		{func(c *Config) { c.Pref.Optimizer.ClipNorm = math.NaN() }, "preference.optimizer.clip_norm = NaN"},
		{func(c *Config) { c.SFT.Optimizer.Beta2 = 2 }, "sft.optimizer.beta2 = 2: must be in [0, 1)"},
		{func(c *Config) { c.Pref.Optimizer.Beta2 = 1 }, "preference.optimizer.beta2 = 1"},
		{func(c *Config) { c.Pref.Optimizer.Beta1 = -0.1 }, "preference.optimizer.beta1 = -0.1"},
		{func(c *Config) { c.Pref.Optimizer.WeightDecay = -100 }, "preference.optimizer.weight_decay = -100"},
		{func(c *Config) { c.Pref.Optimizer.Epsilon = 0 }, "preference.optimizer.epsilon = 0: must be in (0, +Inf)"},
		{func(c *Config) { c.Pref.Optimizer.LR = math.NaN() }, "preference.optimizer.lr = NaN"},
		{func(c *Config) { c.SFT.Optimizer.LR = math.Inf(1) }, "sft.optimizer.lr = +Inf"},
		{func(c *Config) { c.Pref.Optimizer.LR = 0 }, "preference.optimizer.lr = 0: must be > 0"},
		{func(c *Config) { c.Pref.Optimizer.MinLRRatio = 1.5 }, "preference.optimizer.min_lr_ratio = 1.5"},
		{func(c *Config) { c.Pref.Optimizer.WarmupSteps = -1 }, "preference.optimizer.warmup_steps = -1"},
		{func(c *Config) { c.Pref.BatchSize = 0 }, "preference.batch_size = 0"},
		{func(c *Config) { c.SFT.GradAccum = -1 }, "sft.grad_accum = -1"},
		{func(c *Config) { c.KeepCheckpoints = -1 }, "keep_checkpoints = -1"},
		{func(c *Config) { c.CheckpointEvery = -5 }, "checkpoint_every = -5"},
		{func(c *Config) { c.PeakTFLOPS = math.NaN() }, "peak_tflops = NaN"},
		{func(c *Config) { c.Loss.Beta = math.NaN() }, "loss.beta = NaN"},
		{func(c *Config) { c.Loss.Weights = []float64{1, math.Inf(-1)} }, "loss.weights[1] = -Inf"},
		{func(c *Config) { c.Data.MaxLength, c.Data.MaxPromptLength = 0, -3 }, "data.max_length = 0"},
		{func(c *Config) { c.Resume, c.Overwrite = true, true }, "resume and overwrite"},
	} {
		cfg := Defaults()
		c.set(&cfg)
		require.ErrorContains(t, cfg.Validate(), c.want)
	}
	// A stage that does not train (steps 0) needs no batch size, but its numbers must still
	// be numbers.
	cfg := Defaults()
	cfg.SFT.Steps, cfg.SFT.BatchSize = 0, 0
	require.NoError(t, cfg.Validate())
}

// TestLoadConfigRefusesWhatItWouldIgnore: a second JSON value or YAML document would be
// dropped without a word, and an empty file said only "EOF".
func TestLoadConfigRefusesWhatItWouldIgnore(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, text, want string
	}{
		{"two.json", `{"seed": 3} {"seed": 4}`, "two.json: a second value follows the config"},
		{"junk.json", `{"seed": 3} x`, "junk.json: after the config: invalid character"},
		{"two.yaml", "seed: 3\n---\nseed: 4\n", "two.yaml: a second value follows the config"},
		{"empty.yaml", "", "empty.yaml: empty config"},
		{"comments.yml", "# nothing set\n", "comments.yml: empty config"},
		{"empty.json", "  \n", "empty.json: empty config"},
	} {
		path := filepath.Join(dir, c.name)
		require.NoError(t, os.WriteFile(path, []byte(c.text), 0o644))
		cfg := Defaults()
		require.ErrorContains(t, LoadConfig(path, &cfg), c.want, c.name)
	}
	for name, text := range map[string]string{"one.json": "{\"seed\": 3}\n\n", "one.yaml": "seed: 3\n", "end.yaml": "---\nseed: 3\n"} {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
		cfg := Defaults()
		require.NoError(t, LoadConfig(path, &cfg), name)
		require.Equal(t, uint64(3), cfg.Seed, name)
	}
}

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
