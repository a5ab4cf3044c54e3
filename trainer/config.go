package trainer

import (
	"flag"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/amopo-engine/amopo/amopo/spec"
)

// Config is a whole run: a file (JSON or YAML, the same keys) plus flags that override it.
// Every field is a flag named by its key path, e.g. --preference.lr or --loss.beta.
type Config struct {
	Backend string `json:"backend" yaml:"backend" help:"GoMLX backend: go (pure Go, default), xla (CUDA via PJRT_PLUGIN_LIBRARY_PATH), xla:/abs/plugin.so, webgpu (engine/, on a Vulkan adapter)"`
	Seed    uint64 `json:"seed" yaml:"seed" help:"seed of the initialisation, the data order and the weight draws"`
	OutDir  string `json:"out_dir" yaml:"out_dir" help:"where checkpoints, metrics and the exported model go"`
	Resume  bool   `json:"resume" yaml:"resume" help:"continue from out_dir's latest checkpoint"`
	// Overwrite: a run that does not resume refuses an out_dir holding an earlier run.
	Overwrite bool `json:"overwrite" yaml:"overwrite" help:"start over in an out_dir that holds an earlier run, deleting its checkpoints and metrics"`

	Model ModelConfig `json:"model" yaml:"model"`
	Data  DataConfig  `json:"data" yaml:"data"`
	SFT   StageConfig `json:"sft" yaml:"sft"`
	Pref  StageConfig `json:"preference" yaml:"preference"`
	Loss  LossConfig  `json:"loss" yaml:"loss"`
	// OnPolicy adds pairs sampled from the SFT model to the preference data (builtin task).
	OnPolicy OnPolicyConfig `json:"on_policy" yaml:"on_policy"`

	LogEvery        int     `json:"log_every" yaml:"log_every" help:"print and log metrics every N steps"`
	EvalEvery       int     `json:"eval_every" yaml:"eval_every" help:"evaluate on the held-out split every N preference steps (0: at the end only)"`
	CheckpointEvery int     `json:"checkpoint_every" yaml:"checkpoint_every" help:"save a checkpoint every N steps (0: at stage ends only)"`
	KeepCheckpoints int     `json:"keep_checkpoints" yaml:"keep_checkpoints" help:"checkpoints kept on disk"`
	PeakTFLOPS      float64 `json:"peak_tflops" yaml:"peak_tflops" help:"the machine's peak TFLOP/s that MFU is a share of (0: the CPU's f32 FMA peak from its features, cores and clock on the pure-Go backend, a per-card dense peak on a GPU)"`
}

// ModelConfig selects the model: a preset with random initialisation, or a Hugging Face
// checkpoint directory.
type ModelConfig struct {
	Preset string `json:"preset" yaml:"preset" help:"random-init model: tiny (the default when empty), small, qwen2.5-0.5b; refused together with dir"`
	Dir    string `json:"dir" yaml:"dir" help:"a Hugging Face Qwen2 or Llama checkpoint directory (config.json, model.safetensors or a sharded index, tokenizer.json + tokenizer_config.json)"`
	DType  string `json:"dtype" yaml:"dtype" help:"f32, or bf16: mixed precision (float32 master weights and optimizer, bfloat16 compute, bf16 export)"`
}

// DataConfig selects the data.
type DataConfig struct {
	Format          string   `json:"format" yaml:"format" help:"builtin (the verifiable task), helpsteer2, helpsteer2-preference, amopo, mapped (JSON lines through data.mapping)"`
	Train           []string `json:"train" yaml:"train" help:"training files (comma-separated; JSON lines, .gz or parquet)"`
	Eval            []string `json:"eval" yaml:"eval" help:"held-out files (comma-separated): eval_ loss, accuracies and margins per dimension"`
	Mapping         string   `json:"mapping" yaml:"mapping" help:"format mapped: the columns, prompt=COL,chosen=COL,rejected=COL,chosen.DIM=COL,rejected.DIM=COL"`
	Tokenizer       string   `json:"tokenizer" yaml:"tokenizer" help:"tokenizer directory (tokenizer.json or GPT-2 files), or bytes for the byte-level one; empty: model.dir's, else bytes"`
	Templates       string   `json:"templates" yaml:"templates" help:"dimension templates file (JSON list of {name, template}); empty: the format's (K = 4 for HelpSteer2)"`
	MaxLength       int      `json:"max_length" yaml:"max_length" help:"longest sequence, prompt + response"`
	MaxPromptLength int      `json:"max_prompt_length" yaml:"max_prompt_length" help:"longest prompt before truncation"`
	SkipBadRows     bool     `json:"skip_bad_rows" yaml:"skip_bad_rows" help:"skip and count bad rows instead of stopping"`
	TrainSize       int      `json:"train_size" yaml:"train_size" help:"builtin task: training pairs generated (the SFT data)"`
	GeneratorPairs  int      `json:"generator_pairs" yaml:"generator_pairs" help:"builtin task: of those, the preference pairs (0: all), next to the on-policy ones"`
	EvalSize        int      `json:"eval_size" yaml:"eval_size" help:"builtin task: held-out prompts generated"`
}

// StageConfig is one training stage.
type StageConfig struct {
	Steps     int `json:"steps" yaml:"steps" help:"optimizer steps (0 skips the stage)"`
	BatchSize int `json:"batch_size" yaml:"batch_size" help:"pairs (or sequences for SFT) per micro-batch"`
	GradAccum int `json:"grad_accum" yaml:"grad_accum" help:"micro-batches per optimizer step"`
	// MicroSequences splits each micro-batch's gradient into groups of this many
	// sequences (0: all at once): the model's activations exist for that many sequences at
	// a time, for one more forward pass over the batch. The update is the same, to float32
	// rounding: every loss is a function of the token log-probs, so the gradient is
	// Σ dL/dlogp · dlogp/dθ, which the groups sum term by term (seqsplit.go). Omitted from
	// JSON at 0, so that configs recorded before the key (experiment cells) still match.
	MicroSequences int             `json:"micro_sequences,omitempty" yaml:"micro_sequences" help:"sequences whose gradient is computed at once (0: the whole micro-batch); lowers memory for one more forward pass"`
	Optimizer      OptimizerConfig `json:"optimizer" yaml:"optimizer"`
}

// LossConfig is the preference loss (see docs/loss.md); numbers left at their zero value
// take the loss's defaults.
type LossConfig struct {
	Name         string    `json:"name" yaml:"name" help:"amopo (default), simpo, dpo, orpo, cpo, cal-dpo"`
	Policy       string    `json:"policy" yaml:"policy" help:"gaussian, gaussian-split, fixed, uniform (default: the loss's)"`
	Weights      []float64 `json:"weights" yaml:"weights" help:"ratios of the fixed policy (comma-separated)"`
	Beta         float64   `json:"beta" yaml:"beta" help:"beta (0: the loss's default)"`
	Lambda       *float64  `json:"lambda" yaml:"lambda" help:"ORPO's odds-ratio weight (unset: the loss's default)"`
	Gamma        *float64  `json:"gamma" yaml:"gamma" help:"gamma, the target margin (unset: the loss's default)"`
	NLLWeight    *float64  `json:"nll_weight" yaml:"nll_weight" help:"weight of an SFT (NLL) term on the chosen responses (0, the default: the paper's AMoPO and plain baselines)"`
	NoLengthNorm bool      `json:"no_length_normalize" yaml:"no_length_normalize" help:"sum instead of mean log-probs (the paper's ablation)"`
	AuthorsCode  bool      `json:"authors_code" yaml:"authors_code" help:"unbiased std, batch softmax and mean reduction, as the authors' code"`
}

// Defaults is the no-flag run: a tiny model on the built-in task, SFT then AMoPO, on the
// pure-Go backend, sized for about six minutes on 2 cores. It is the experiment's cpu
// preset (experiment.Preset) run once: SFT 1,500 steps of 32 over 48,000 generated pairs
// (one epoch, where the tiny model learns the task's content), limits 240/184 that keep
// every prompt whole under the longest dimension template, then 40 of the generator's
// pairs plus on-policy pairs from the SFT model's own samples (SimPO's recipe), two
// epochs of AMoPO at batch 4 with the paper's loss. Beta and lr are the ones the
// experiment picked for AMoPO on its validation prompts (never the test prompts):
// docs/experiment.md. --loss.nll_weight adds an SFT term on the chosen answers.
func Defaults() Config {
	sftOpt := DefaultOptimizer(1e-3)
	prefOpt := DefaultOptimizer(AMoPOLR)
	prefOpt.WarmupSteps = 4
	beta := AMoPOBeta
	return Config{
		Backend: "go",
		Seed:    1,
		OutDir:  "out/run",
		Model:   ModelConfig{DType: "f32"},
		Data: DataConfig{Format: "builtin", MaxLength: 240, MaxPromptLength: 184,
			TrainSize: 48000, GeneratorPairs: 40, EvalSize: 200},
		OnPolicy:        OnPolicyConfig{Prompts: 48, Samples: 4, Temperature: 1.0, MaxNewTokens: 32},
		SFT:             StageConfig{Steps: 1500, BatchSize: 32, GradAccum: 1, Optimizer: sftOpt},
		Pref:            StageConfig{Steps: 40, BatchSize: 4, GradAccum: 1, Optimizer: prefOpt},
		Loss:            LossConfig{Name: "amopo", Beta: beta},
		LogEvery:        50,
		CheckpointEvery: 250,
		KeepCheckpoints: 2,
	}
}

// AMoPOLR and AMoPOBeta are the default run's preference lr and beta: the grid point the
// experiment's cpu preset picked for AMoPO on its validation prompts.
const (
	AMoPOLR   = 5e-5
	AMoPOBeta = 0.8
)

// LoadConfig reads a JSON or YAML config file over the defaults (by extension: .json,
// .yaml, .yml). Unknown keys are errors naming the file.
func LoadConfig(path string, cfg *Config) error {
	return DecodeFile(path, cfg)
}

// BindFlags defines one flag per config field, named by its key path, writing into cfg
// when parsed. Parse the config file first, then the flags, so flags override it.
func BindFlags(fs *flag.FlagSet, cfg *Config) {
	bindStruct(fs, reflect.ValueOf(cfg).Elem(), "")
}

func bindStruct(fs *flag.FlagSet, v reflect.Value, prefix string) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := strings.Split(f.Tag.Get("json"), ",")[0]
		if key == "" || key == "-" {
			continue
		}
		name := prefix + key
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			bindStruct(fs, fv, name+".")
			continue
		}
		fs.Var(&fieldValue{v: fv}, name, f.Tag.Get("help"))
	}
}

// fieldValue adapts a config field to flag.Value.
type fieldValue struct{ v reflect.Value }

func (f *fieldValue) String() string {
	if !f.v.IsValid() {
		return ""
	}
	if f.v.Kind() == reflect.Pointer {
		if f.v.IsNil() {
			return ""
		}
		return fmt.Sprint(f.v.Elem().Interface())
	}
	return fmt.Sprint(f.v.Interface())
}

func (f *fieldValue) IsBoolFlag() bool { return f.v.IsValid() && f.v.Kind() == reflect.Bool }

func (f *fieldValue) Set(s string) error {
	return setValue(f.v, s)
}

func setValue(v reflect.Value, s string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(n))
	case reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return err
		}
		v.SetUint(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		v.SetFloat(x)
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		if err := setValue(elem.Elem(), s); err != nil {
			return err
		}
		v.Set(elem)
	case reflect.Slice:
		parts := strings.Split(s, ",")
		out := reflect.MakeSlice(v.Type(), len(parts), len(parts))
		for i, p := range parts {
			if err := setValue(out.Index(i), strings.TrimSpace(p)); err != nil {
				return err
			}
		}
		v.Set(out)
	default:
		return fmt.Errorf("unsupported flag type %s", v.Type())
	}
	return nil
}

// LossParams resolves the loss section into validated spec.Params for K dimensions.
func (c *Config) LossParams(dimensions []string) (spec.Params, error) {
	name, err := spec.ParseLoss(c.Loss.Name)
	if err != nil {
		return spec.Params{}, fmt.Errorf("loss.name: %w", err)
	}
	p := spec.Defaults(name)
	p.Dimensions = dimensions
	if c.Loss.Policy != "" {
		if p.Policy, err = spec.ParsePolicy(c.Loss.Policy); err != nil {
			return spec.Params{}, fmt.Errorf("loss.policy: %w", err)
		}
	}
	p.Weights = c.Loss.Weights
	if c.Loss.Beta != 0 {
		p.Beta = c.Loss.Beta
	}
	if c.Loss.Gamma != nil {
		p.Gamma = *c.Loss.Gamma
	}
	if c.Loss.Lambda != nil {
		if name != spec.ORPO {
			return spec.Params{}, fmt.Errorf("loss.lambda: only orpo has an odds-ratio weight (loss.name is %s)", name)
		}
		p.Lambda = *c.Loss.Lambda
	}
	if c.Loss.NLLWeight != nil {
		p.NLLWeight = *c.Loss.NLLWeight
	}
	if c.Loss.NoLengthNorm {
		p.LengthNormalize = false
	}
	if c.Loss.AuthorsCode {
		p.UnbiasedStd, p.Softmax, p.Reduce = true, spec.OverBatch, spec.MeanOverEntries
	}
	p.Seed = c.Seed
	if err := p.Validate(); err != nil {
		return spec.Params{}, fmt.Errorf("loss: %w", err)
	}
	return p, nil
}

// Validate checks the parts of the config that do not need the data or the model. Errors
// name the key and its value.
func (c *Config) Validate() error {
	if c.Resume && c.Overwrite {
		return fmt.Errorf("resume and overwrite: choose one (continue the run in out_dir, or delete it and start over)")
	}
	for _, s := range []struct {
		name string
		st   StageConfig
	}{{"sft", c.SFT}, {"preference", c.Pref}} {
		if s.st.Steps < 0 {
			return fmt.Errorf("%s.steps = %d: must be >= 0", s.name, s.st.Steps)
		}
		if s.st.MicroSequences < 0 {
			return fmt.Errorf("%s.micro_sequences = %d: must be >= 0 (0: the whole micro-batch at once)", s.name, s.st.MicroSequences)
		}
		if err := s.st.Optimizer.Validate(s.name + ".optimizer"); err != nil {
			return err
		}
		if s.st.Steps == 0 {
			continue
		}
		for _, f := range []struct {
			key string
			v   int
		}{{"batch_size", s.st.BatchSize}, {"grad_accum", s.st.GradAccum}} {
			if f.v <= 0 {
				return fmt.Errorf("%s.%s = %d: must be > 0", s.name, f.key, f.v)
			}
		}
		if s.st.Optimizer.LR <= 0 {
			return fmt.Errorf("%s.optimizer.lr = %v: must be > 0", s.name, s.st.Optimizer.LR)
		}
	}
	if c.Data.MaxLength <= 0 || c.Data.MaxPromptLength <= 0 {
		return fmt.Errorf("data.max_length = %d, data.max_prompt_length = %d: must be > 0", c.Data.MaxLength, c.Data.MaxPromptLength)
	}
	if c.Data.MaxPromptLength >= c.Data.MaxLength {
		return fmt.Errorf("data.max_prompt_length (%d) must be < data.max_length (%d): a response needs room",
			c.Data.MaxPromptLength, c.Data.MaxLength)
	}
	if c.OutDir == "" {
		return fmt.Errorf("out_dir: empty")
	}
	for _, f := range []struct {
		key string
		v   int
	}{{"data.train_size", c.Data.TrainSize}, {"data.eval_size", c.Data.EvalSize}, {"data.generator_pairs", c.Data.GeneratorPairs},
		{"log_every", c.LogEvery}, {"eval_every", c.EvalEvery}, {"checkpoint_every", c.CheckpointEvery}, {"keep_checkpoints", c.KeepCheckpoints}} {
		if f.v < 0 {
			return fmt.Errorf("%s = %d: must be >= 0", f.key, f.v)
		}
	}
	if err := checkRange("peak_tflops", c.PeakTFLOPS, 0, math.Inf(1), true, false); err != nil {
		return err
	}
	if err := checkFinite("loss.beta", c.Loss.Beta); err != nil {
		return err
	}
	for _, p := range []struct {
		key string
		v   *float64
	}{{"loss.gamma", c.Loss.Gamma}, {"loss.nll_weight", c.Loss.NLLWeight}} {
		if p.v != nil {
			if err := checkFinite(p.key, *p.v); err != nil {
				return err
			}
		}
	}
	for i, w := range c.Loss.Weights {
		if err := checkFinite(fmt.Sprintf("loss.weights[%d]", i), w); err != nil {
			return err
		}
	}
	return c.OnPolicy.Validate()
}

// checkFinite refuses NaN and infinities for key.
func checkFinite(key string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%s = %v: must be a finite number", key, v)
	}
	return nil
}

// checkRange requires key's value to be finite and within [lo, hi] (each end open
// unless closed).
func checkRange(key string, v, lo, hi float64, loClosed, hiClosed bool) error {
	if err := checkFinite(key, v); err != nil {
		return err
	}
	if v < lo || (v == lo && !loClosed) || v > hi || (v == hi && !hiClosed) {
		l, h := "(", ")"
		if loClosed {
			l = "["
		}
		if hiClosed {
			h = "]"
		}
		return fmt.Errorf("%s = %v: must be in %s%v, %v%s", key, v, l, lo, hi, h)
	}
	return nil
}
