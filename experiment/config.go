// Package experiment runs the paper's comparison in miniature on the built-in verifiable
// task, whose judges are programs: SFT a small model, build preference pairs (from the
// task's generator and on-policy from the SFT model's own samples scored by the judges),
// train every method from the same SFT weights with the same budget, generate greedily on
// held-out prompts, score every dimension, and compare the methods over several seeds,
// writing a markdown report and PNG plots.
//
// # Protocol
//
// The training pairs, the validation prompts and the test prompts are disjoint (the
// on-policy prompts avoid the held-out ones). Every method's grid (lr included, the same
// number of points per method: PaperMethods) is searched on the first seed and picked on
// the validation prompts; the test prompts only make the report. The claims are one-sided
// paired t-tests over seeds on the mean judge-score sum, Holm-corrected as one family,
// or TOST with a stated bound for an equivalence claim (ClaimTests); the report puts the
// mean change, d_z and the win rate side by side, and floor rows (answers that need no
// model) beside the methods.
//
// # Resuming
//
// Each finished (seed, method) cell is saved atomically in out_dir/cells; a rerun with
// the same config trains only the missing cells (cellStore), so the cpu preset's hours can
// span sittings. Run --estimate first: it measures the throughput and predicts the wall
// time (EstimateCost).
//
// # Baselines
//
// The paper's multi-objective baselines need more than a loss: controllable CPO its CPSFT
// model and reference on control-token prompts, MODPO margin rewards, SPO a schedule of
// stages; methods.go says how each is run, and the report repeats it.
package experiment

import (
	"fmt"
	"math"
	"strings"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/data/task"
	"github.com/amopo-engine/amopo/trainer"
)

// Config is a whole experiment: one file (JSON or YAML, the same keys) or a preset.
type Config struct {
	Preset  string   `json:"preset" yaml:"preset"`   // the preset it started from, for the report
	Backend string   `json:"backend" yaml:"backend"` // as trainer.Config.Backend
	OutDir  string   `json:"out_dir" yaml:"out_dir"` // the report, plots and per-run folders
	Seeds   []uint64 `json:"seeds" yaml:"seeds"`     // one run per method per seed
	// SFTSeed, when set, trains one SFT model (and one CPSFT model for controllable CPO)
	// with this seed as the start of every seed's methods, as the paper starts every method
	// from one released instruct model; the seeds then vary the data order, the on-policy
	// samples and the weight draws of the preference stage. 0 (the default): each seed
	// trains its own SFT model from its own initialisation.
	SFTSeed uint64 `json:"sft_seed,omitempty" yaml:"sft_seed"`
	// RunsDir holds each run's metrics (and checkpoints with keep_runs); default OutDir/runs.
	RunsDir string `json:"runs_dir" yaml:"runs_dir"`
	// Report names the markdown file written in OutDir (default experiment.md).
	Report string `json:"report" yaml:"report"`

	Model trainer.ModelConfig `json:"model" yaml:"model"`
	Data  DataConfig          `json:"data" yaml:"data"`
	// SFT is the warm-up every method starts from; Pref the budget every method gets (its
	// optimizer.lr is the default of methods that give no lr).
	SFT      trainer.StageConfig    `json:"sft" yaml:"sft"`
	Pref     trainer.StageConfig    `json:"preference" yaml:"preference"`
	OnPolicy trainer.OnPolicyConfig `json:"on_policy" yaml:"on_policy"`
	// MaxNewTokens bounds the greedy answers on the validation and test prompts.
	MaxNewTokens int `json:"max_new_tokens" yaml:"max_new_tokens"`
	// LogEvery is how often training prints progress (0: only at the end of a stage).
	LogEvery int `json:"log_every" yaml:"log_every"`
	// KeepRuns keeps each run's checkpoints on disk (default: removed once judged).
	KeepRuns bool `json:"keep_runs" yaml:"keep_runs"`

	Methods []Method `json:"methods" yaml:"methods"`
	// Claims are the paper's claims the report checks against the win rates.
	Claims []Claim `json:"claims" yaml:"claims"`
}

// DataConfig sizes the built-in task. The data are the same for every seed (DataSeed):
// the seeds vary the initialisation, the data order, the samples and the weight draws.
type DataConfig struct {
	DataSeed        uint64 `json:"seed" yaml:"seed"`
	TrainSize       int    `json:"train_size" yaml:"train_size"`           // generator pairs: SFT data
	GeneratorPairs  int    `json:"generator_pairs" yaml:"generator_pairs"` // of those, used as preference pairs (0: all)
	ValidationSize  int    `json:"validation_size" yaml:"validation_size"` // held-out prompts that pick grid points
	TestSize        int    `json:"test_size" yaml:"test_size"`             // held-out prompts of the table
	MaxLength       int    `json:"max_length" yaml:"max_length"`
	MaxPromptLength int    `json:"max_prompt_length" yaml:"max_prompt_length"`
}

// Method is one trained method. Beta, Gamma, Lambda and LR are grids: with more than one point
// in all, every combination is trained on the first seed, the best on the validation
// prompts (mean judge-score sum) is kept and used for the other seeds. Empty: the loss's
// default (spec.Defaults) and the preference stage's lr.
type Method struct {
	Name         string    `json:"name" yaml:"name"`
	Loss         string    `json:"loss" yaml:"loss"`
	Policy       string    `json:"policy" yaml:"policy"`
	Weights      []float64 `json:"weights" yaml:"weights"`
	NoLengthNorm bool      `json:"no_length_normalize" yaml:"no_length_normalize"`
	// NLLWeight, when set, weighs an SFT term on the chosen responses (unset: the loss's).
	NLLWeight *float64 `json:"nll_weight" yaml:"nll_weight"`
	// Templates: "all" (the K = 4 dimension templates) or "general" (K = 1, the plain
	// prompt). Default: all for amopo and amopo-ref, general for the baselines.
	Templates string    `json:"templates" yaml:"templates"`
	Beta      []float64 `json:"beta" yaml:"beta"`
	Gamma     []float64 `json:"gamma" yaml:"gamma"`
	Lambda    []float64 `json:"lambda" yaml:"lambda"` // ORPO's odds-ratio weight
	LR        []float64 `json:"lr" yaml:"lr"`
	// Schedule "spo" runs Loss as SPO's stage loss, one dimension after another
	// (spec.SPOSchedule); "" trains the loss once.
	Schedule string `json:"schedule,omitempty" yaml:"schedule"`
	// ObjectiveWeights are MODPO's w = [w_k, w_-k...] over the task's dimensions in order
	// (the first orders the pairs, the others weigh the margin rewards); default uniform.
	ObjectiveWeights []float64 `json:"objective_weights,omitempty" yaml:"objective_weights"`
}

// ScheduleSPO names SPO's sequential schedule in Method.Schedule.
const ScheduleSPO = "spo"

// Dimensions are the templates the method trains on: the K dimension templates or the
// general one.
func (m Method) Dimensions() []string {
	if m.UsesAllTemplates() {
		return task.Templates().Names()
	}
	return []string{"general"}
}

// Claim says that Method beats each of Over: its mean judge-score sum on the test prompts
// is higher, paired by seed (one-sided paired t-test, Holm-corrected over every
// comparison of every claim). With Equivalence > 0 it says instead that the two do as well,
// within +-Equivalence on the judge-score sum (TOST).
type Claim struct {
	Text        string   `json:"text" yaml:"text"`
	Method      string   `json:"method" yaml:"method"`
	Over        []string `json:"over" yaml:"over"`
	Equivalence float64  `json:"equivalence,omitempty" yaml:"equivalence"`
}

// Point is one grid point of a method: its resolved hyper-parameters.
type Point struct {
	Beta, Gamma, LR float64
	Lambda          float64 `json:",omitempty"`
}

func (p Point) String() string {
	if p.Lambda != 0 {
		return fmt.Sprintf("lambda=%g lr=%g", p.Lambda, p.LR)
	}
	return fmt.Sprintf("beta=%g gamma=%g lr=%g", p.Beta, p.Gamma, p.LR)
}

// Grid lists the method's grid points (Cartesian product), defaults filled in.
func (m Method) Grid(defaultLR float64) ([]Point, error) {
	name, err := spec.ParseLoss(m.Loss)
	if err != nil {
		return nil, fmt.Errorf("method %s: %w", m.Name, err)
	}
	d := spec.Defaults(name)
	or := func(xs []float64, def float64) []float64 {
		if len(xs) == 0 {
			return []float64{def}
		}
		return xs
	}
	var out []Point
	for _, b := range or(m.Beta, d.Beta) {
		for _, g := range or(m.Gamma, d.Gamma) {
			for _, l := range or(m.Lambda, d.Lambda) {
				for _, lr := range or(m.LR, defaultLR) {
					out = append(out, Point{Beta: b, Gamma: g, Lambda: l, LR: lr})
				}
			}
		}
	}
	return out, nil
}

// UsesAllTemplates reports whether the method trains on the K dimension templates.
func (m Method) UsesAllTemplates() bool {
	switch m.Templates {
	case "all":
		return true
	case "general":
		return false
	}
	return m.Loss == string(spec.AMoPO) || m.Loss == string(spec.AMoPORef)
}

// Params resolves the loss of one grid point for the given dimensions, as cmd/train
// resolves its loss section (trainer.Config.LossParams).
func (m Method) Params(p Point, dims []string, seed uint64) (spec.Params, error) {
	name, err := spec.ParseLoss(m.Loss)
	if err != nil {
		return spec.Params{}, fmt.Errorf("method %s: %w", m.Name, err)
	}
	loss := trainer.LossConfig{Name: m.Loss, Policy: m.Policy, Weights: m.Weights, Beta: p.Beta, Gamma: &p.Gamma,
		NLLWeight: m.NLLWeight, NoLengthNorm: m.NoLengthNorm}
	if name == spec.ORPO {
		loss.Lambda = &p.Lambda
	} else if p.Lambda != 0 {
		return spec.Params{}, fmt.Errorf("method %s: lambda is ORPO's odds-ratio weight (loss %s)", m.Name, name)
	}
	cfg := trainer.Config{Seed: seed, Loss: loss}
	sp, err := cfg.LossParams(dims)
	if err != nil {
		return spec.Params{}, fmt.Errorf("method %s: %w", m.Name, err)
	}
	switch {
	case name == spec.MODPO:
		n := len(task.Dimensions())
		sp.ObjectiveWeights = m.ObjectiveWeights
		if sp.ObjectiveWeights == nil {
			for range n {
				sp.ObjectiveWeights = append(sp.ObjectiveWeights, 1/float64(n))
			}
		}
		if len(sp.ObjectiveWeights) != n {
			return spec.Params{}, fmt.Errorf("method %s: objective_weights %v: one per task dimension %v",
				m.Name, sp.ObjectiveWeights, task.Dimensions())
		}
		if err := sp.Validate(); err != nil {
			return spec.Params{}, fmt.Errorf("method %s: %w", m.Name, err)
		}
	case m.ObjectiveWeights != nil:
		return spec.Params{}, fmt.Errorf("method %s: objective_weights are MODPO's (loss %s)", m.Name, name)
	}
	return sp, nil
}

// Validate checks what does not need the data or the model.
func (c *Config) Validate() error {
	if len(c.Seeds) == 0 {
		return fmt.Errorf("seeds: at least one seed")
	}
	if len(c.Methods) == 0 {
		return fmt.Errorf("methods: at least one method")
	}
	if c.OutDir == "" {
		return fmt.Errorf("out_dir: empty")
	}
	if c.Data.TestSize < 1 || c.Data.TrainSize < 1 {
		return fmt.Errorf("data: train_size and test_size must be >= 1")
	}
	if c.Data.MaxPromptLength >= c.Data.MaxLength {
		return fmt.Errorf("data.max_prompt_length must be < data.max_length")
	}
	if c.SFT.Steps < 1 || c.SFT.BatchSize < 1 || c.Pref.Steps < 1 || c.Pref.BatchSize < 1 {
		return fmt.Errorf("sft and preference: steps and batch_size must be >= 1")
	}
	if err := c.OnPolicy.Validate(); err != nil {
		return err
	}
	if c.MaxNewTokens < 1 {
		return fmt.Errorf("max_new_tokens must be >= 1")
	}
	seen := map[string]bool{"sft": true}
	for i, m := range c.Methods {
		if m.Name == "" || strings.ContainsAny(m.Name, "/\\ ") || seen[m.Name] {
			return fmt.Errorf("methods[%d]: name %q: empty, repeated, \"sft\" or not a file name", i, m.Name)
		}
		seen[m.Name] = true
		if m.Templates != "" && m.Templates != "all" && m.Templates != "general" {
			return fmt.Errorf("method %s: templates %q (all or general)", m.Name, m.Templates)
		}
		grid, err := m.Grid(c.Pref.Optimizer.LR)
		if err != nil {
			return err
		}
		dims := m.Dimensions()
		switch m.Schedule {
		case "":
		case ScheduleSPO:
			if m.UsesAllTemplates() {
				return fmt.Errorf("method %s: spo stages train K = 1 (templates: general)", m.Name)
			}
			if n := len(task.Dimensions()); c.Pref.Steps < n {
				return fmt.Errorf("method %s: spo splits preference.steps (%d) over %d dimension stages: at least one step each",
					m.Name, c.Pref.Steps, n)
			}
		default:
			return fmt.Errorf("method %s: schedule %q (\"\" or %q)", m.Name, m.Schedule, ScheduleSPO)
		}
		if (m.Loss == string(spec.ControllableCPO) || m.Loss == string(spec.MODPO)) && m.UsesAllTemplates() {
			return fmt.Errorf("method %s: %s trains K = 1 (templates: general): its multi-objective inputs are the "+
				"control tokens or margin rewards", m.Name, m.Loss)
		}
		for _, p := range grid {
			if _, err := m.Params(p, dims, 1); err != nil {
				return err
			}
			if p.LR <= 0 {
				return fmt.Errorf("method %s: lr must be > 0", m.Name)
			}
		}
	}
	for i, cl := range c.Claims {
		if cl.Equivalence < 0 || math.IsNaN(cl.Equivalence) || math.IsInf(cl.Equivalence, 0) {
			return fmt.Errorf("claims[%d]: equivalence %g: a bound > 0 on the judge-score sum (0: a directional claim)", i, cl.Equivalence)
		}
		for _, n := range append([]string{cl.Method}, cl.Over...) {
			if !seen[n] {
				return fmt.Errorf("claims[%d]: unknown method %q", i, n)
			}
		}
	}
	return nil
}

// Load reads a JSON or YAML config file over cfg (by extension), as cmd/train reads its
// own (trainer.DecodeFile). Unknown keys are errors.
func Load(path string, cfg *Config) error {
	return trainer.DecodeFile(path, cfg)
}

// PaperMethods are the methods of the comparison: AMoPO, its ablations (split and fixed
// weights, no length normalisation, a reference model: Table 11), the single-objective
// baselines and the paper's multi-objective ones (controllable CPO, MODPO, SPO), with the
// search ranges of the paper's appendix B (Table 4): DPO, contrastive CPO, Cal-DPO,
// controllable CPO, MODPO and SPO's DPO stages beta in {0.1, 0.2}; ORPO lambda in {0.1,
// 0.2}; SimPO, AMoPO and its ablations beta in {0.8, 1.0} with gamma 2 (the same term). The
// no-length-normalisation ablation sums log-probs, ~25x the means on this task, so its own
// beta grid is scaled down to {0.05, 0.1}. The paper's lr range [3e-7, 5e-6] is for 7B
// models; for the 0.8M model it is scaled to {5e-5, 2e-4} (40 steps at batch 4: at 80
// steps, 2.5e-4 and 1e-3 both took AMoPO's validation score from the SFT model's ~7.8 of
// 12 to 4.7 and 2.0). Every method has the same number of grid points (a test holds it), all
// searched on the first seed and picked on the validation prompts, never the test ones.
// Level 0: one point per method (the first of each range); 1 (the CPU budget): 2 x 2
// points; 2: 2 x 3 (lr also 5e-4).
func PaperMethods(level int) []Method {
	g := func(full []float64) []float64 {
		if level == 0 {
			return full[:1]
		}
		return full
	}
	lrs := []float64{5e-5, 2e-4}
	if level >= 2 {
		lrs = append(lrs, 5e-4)
	}
	lrs = g(lrs)
	b12 := g([]float64{0.1, 0.2})
	b810 := g([]float64{0.8, 1.0})
	return []Method{
		{Name: "amopo", Loss: "amopo", Policy: "gaussian", Beta: b810, LR: lrs},
		{Name: "amopo-split", Loss: "amopo", Policy: "gaussian-split", Beta: b810, LR: lrs},
		{Name: "amopo-fixed", Loss: "amopo", Policy: "fixed", Weights: []float64{1, 1, 1, 1}, Beta: b810, LR: lrs},
		{Name: "amopo-no-ln", Loss: "amopo", Policy: "gaussian", NoLengthNorm: true, Beta: g([]float64{0.05, 0.1}), LR: lrs},
		{Name: "amopo-ref", Loss: "amopo-ref", Policy: "gaussian", Beta: b810, LR: lrs},
		{Name: "simpo", Loss: "simpo", Beta: b810, LR: lrs},
		{Name: "dpo", Loss: "dpo", Beta: b12, LR: lrs},
		{Name: "orpo", Loss: "orpo", Lambda: b12, LR: lrs},
		{Name: "contrastive-cpo", Loss: "contrastive-cpo", Beta: b12, LR: lrs},
		{Name: "cal-dpo", Loss: "cal-dpo", Beta: b12, LR: lrs},
		{Name: "controllable-cpo", Loss: "controllable-cpo", Beta: b12, LR: lrs},
		{Name: "modpo", Loss: "modpo", Beta: b12, LR: lrs},
		{Name: "spo", Loss: "dpo", Schedule: ScheduleSPO, Beta: b12, LR: lrs},
	}
}

// FixedWeightsBound is the equivalence bound of the "Gaussian and fixed weights do as
// well" claim: a difference in mean judge-score sum (0-12) under 0.25, about 2% of the
// scale, is taken as no practical difference.
const FixedWeightsBound = 0.25

// PaperClaims are the claims of the paper the report checks; each comparison is a
// one-sided paired t-test over seeds on the mean judge-score sum, Holm-corrected over all
// of them, except the equivalence claim (TOST with its bound).
func PaperClaims() []Claim {
	return []Claim{
		{Text: "AMoPO beats the baselines", Method: "amopo", Over: []string{"simpo", "dpo", "orpo", "contrastive-cpo",
			"cal-dpo", "controllable-cpo", "modpo", "spo"}},
		{Text: "adaptive (Gaussian) weights beat fixed weights", Method: "amopo", Over: []string{"amopo-fixed"}},
		{Text: "Gaussian and fixed weights do as well (equivalence)", Method: "amopo", Over: []string{"amopo-fixed"},
			Equivalence: FixedWeightsBound},
		{Text: "length normalisation helps", Method: "amopo", Over: []string{"amopo-no-ln"}},
		{Text: "no reference model is needed (AMoPO beats AMoPO with one)", Method: "amopo", Over: []string{"amopo-ref"}},
		{Text: "AMoPO beats the SFT model", Method: "amopo", Over: []string{"sft"}},
	}
}

// Preset returns a named configuration: tiny (the end-to-end test, every kind of method,
// seconds), cpu (the protocol on 2 cores: 10 seeds, every method's grid; hours, see
// Estimate; it resumes at (seed, method) granularity, so it can span sittings), cpu-3 (the
// same on 3 seeds), gpu (10 seeds, a larger model and data).
func Preset(name string) (Config, error) {
	sftOpt := trainer.DefaultOptimizer(1e-3)
	prefOpt := trainer.DefaultOptimizer(2e-4)
	prefOpt.WarmupSteps = 4
	base := Config{
		Preset: name, Backend: "go", OutDir: "out/experiment", Seeds: seedsUpTo(10), SFTSeed: 1,
		Model: trainer.ModelConfig{Preset: "tiny", DType: "f32"},
		// 48,000 SFT pairs: one epoch of 1,500 steps x 32, where the tiny model learns
		// the task (SFT correctness about 2 of 4). The limits keep every prompt whole
		// under the longest dimension template (about 175 bytes with the chat turn).
		Data: DataConfig{DataSeed: 1, TrainSize: 48000, GeneratorPairs: 40, ValidationSize: 48, TestSize: 200,
			MaxLength: 240, MaxPromptLength: 184},
		SFT: trainer.StageConfig{Steps: 1500, BatchSize: 32, GradAccum: 1, Optimizer: sftOpt},
		// 40 generator + about 35 on-policy pairs, 2 epochs at batch 4.
		Pref:         trainer.StageConfig{Steps: 40, BatchSize: 4, GradAccum: 1, Optimizer: prefOpt},
		OnPolicy:     trainer.OnPolicyConfig{Prompts: 48, Samples: 4, Temperature: 1, MaxNewTokens: 32},
		MaxNewTokens: 32, LogEvery: 0,
		Methods: PaperMethods(1), Claims: PaperClaims(),
	}
	switch name {
	case "cpu":
		return base, nil
	case "cpu-3":
		c := base
		c.Seeds = seedsUpTo(3)
		return c, nil
	case "tiny":
		c := base
		c.Seeds = []uint64{1, 2}
		c.Data = DataConfig{DataSeed: 1, TrainSize: 32, GeneratorPairs: 8, ValidationSize: 4, TestSize: 6,
			MaxLength: 80, MaxPromptLength: 64}
		c.SFT.Steps, c.SFT.BatchSize = 3, 8
		c.SFT.Optimizer.WarmupSteps, c.Pref.Optimizer.WarmupSteps = 1, 1
		c.Pref.Steps, c.Pref.BatchSize = 3, 2 // SPO: one step per dimension
		c.OnPolicy = trainer.OnPolicyConfig{Prompts: 6, Samples: 3, Temperature: 1.5, MaxNewTokens: 8}
		c.MaxNewTokens = 8
		c.LogEvery = 0
		c.Methods = []Method{
			{Name: "amopo", Loss: "amopo", Policy: "gaussian", LR: []float64{1e-4, 3e-4}},
			{Name: "dpo", Loss: "dpo", LR: []float64{1e-4, 3e-4}},
			{Name: "amopo-fixed", Loss: "amopo", Policy: "fixed", Weights: []float64{1, 1, 1, 1}},
			{Name: "amopo-ref", Loss: "amopo-ref"},
			{Name: "contrastive-cpo", Loss: "contrastive-cpo"},
			{Name: "controllable-cpo", Loss: "controllable-cpo"},
			{Name: "modpo", Loss: "modpo"},
			{Name: "spo", Loss: "dpo", Schedule: ScheduleSPO},
		}
		c.Claims = []Claim{
			{Text: "AMoPO beats DPO", Method: "amopo", Over: []string{"dpo"}},
			{Text: "AMoPO beats the multi-objective baselines", Method: "amopo",
				Over: []string{"controllable-cpo", "modpo", "spo"}},
			{Text: "Gaussian and fixed weights do as well", Method: "amopo", Over: []string{"amopo-fixed"},
				Equivalence: FixedWeightsBound},
		}
		return c, nil
	case "gpu":
		c := base
		c.Backend = "xla"
		c.Model = trainer.ModelConfig{Preset: "small", DType: "f32"}
		c.Data = DataConfig{DataSeed: 1, TrainSize: 20000, GeneratorPairs: 4000, ValidationSize: 200, TestSize: 1000,
			MaxLength: 96, MaxPromptLength: 64}
		c.SFT.Steps, c.SFT.BatchSize = 1000, 64
		c.Pref.Steps, c.Pref.BatchSize = 400, 16
		c.Pref.Optimizer = trainer.DefaultOptimizer(1e-4)
		c.OnPolicy = trainer.OnPolicyConfig{Prompts: 4000, Samples: 8, Temperature: 1.0, MaxNewTokens: 32}
		c.LogEvery = 50
		c.Methods = PaperMethods(2)
		return c, nil
	}
	return Config{}, fmt.Errorf("unknown preset %q (tiny, cpu, cpu-3, gpu)", name)
}

// seedsUpTo is 1..n.
func seedsUpTo(n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}
