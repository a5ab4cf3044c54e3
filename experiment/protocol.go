package experiment

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/data/task"
	enginebackend "github.com/amopo-engine/amopo/engine/backend"
	"github.com/amopo-engine/amopo/gomlx/fastgrad"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/amopo-engine/amopo/trainer"
	"github.com/amopo-engine/amopo/trainer/recipe"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Eval is one model's greedy answers on the test prompts, judged.
type Eval struct {
	// Scores[i] are the judge scores (0-4 per dimension) of test prompt i's answer.
	Scores  []data.Scores `json:"scores"`
	Answers []string      `json:"answers"`
	// Mean is the mean score per dimension over the prompts, plus "total" (their sum).
	Mean map[string]float64 `json:"mean"`
}

// MethodRun is one method trained on one seed.
type MethodRun struct {
	Method string `json:"method"`
	Seed   uint64 `json:"seed"`
	Point  Point  `json:"point"`
	// Validation is the mean judge-score sum on the validation prompts.
	Validation float64 `json:"validation"`
	Test       Eval    `json:"test"`
	// Alpha[d][step-1] is the logged weight of dimension d (AMoPO runs).
	Alpha   map[string][]float64 `json:"alpha,omitempty"`
	Seconds float64              `json:"seconds"`
	// Tried lists the grid points trained on this seed with their validation score.
	Tried []Tried `json:"tried,omitempty"`
}

// Tried is a grid point and its validation score.
type Tried struct {
	Point      Point   `json:"point"`
	Validation float64 `json:"validation"`
}

// SeedRun is everything one seed produced.
type SeedRun struct {
	Seed uint64 `json:"seed"`
	SFT  Eval   `json:"sft"`
	// GeneratorPairs and OnPolicyPairs count the preference pairs; OnPolicySkipped the
	// prompts whose samples all had the same judge-score sum.
	GeneratorPairs, OnPolicyPairs, OnPolicySkipped int
	// SFTSeconds is the SFT stage and its judging; PairsSeconds the on-policy sampling.
	SFTSeconds, PairsSeconds float64
	Methods                  map[string]*MethodRun `json:"methods"`
}

// Results is a whole experiment's output.
type Results struct {
	Config     Config     `json:"config"`
	Dimensions []string   `json:"dimensions"`
	Test       []string   `json:"test_prompts"`
	Seeds      []*SeedRun `json:"seeds"`
	// Chosen is the grid point picked per method (on the first seed).
	Chosen      map[string]Point `json:"chosen"`
	ModelParams int64            `json:"model_params"`
	Seconds     float64          `json:"seconds"`
	// Meta is how the run was made (set by Write), so that the report can be rendered
	// again from results.json alone (cmd/experiment --rewrite).
	Meta *Meta `json:"meta,omitempty"`
}

// Run runs the protocol of cfg, logging progress to log.
func Run(cfg Config, log io.Writer) (*Results, error) {
	start := time.Now()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	fastgrad.RegisterFastDotGrad()
	backend, err := enginebackend.New(cfg.Backend)
	if err != nil {
		return nil, err
	}
	defer backend.Finalize()
	e, err := newEnv(cfg, backend, log)
	if err != nil {
		return nil, err
	}
	res := &Results{Config: cfg, Dimensions: task.Dimensions(), Chosen: map[string]Point{}, ModelParams: e.mcfg.NumParams()}
	for _, it := range e.test {
		res.Test = append(res.Test, it.Prompt)
	}
	fmt.Fprintf(log, "experiment: %d seeds x %d methods; model %.2fM parameters; %d SFT pairs, %d generator preference pairs, %d validation and %d test prompts\n",
		len(cfg.Seeds), len(cfg.Methods), float64(e.mcfg.NumParams())/1e6, len(e.ds.Train), len(e.genPairs), len(e.val), len(e.test))
	for si, seed := range cfg.Seeds {
		sr, err := e.runSeed(seed, si == 0, res.Chosen)
		if err != nil {
			return nil, fmt.Errorf("seed %d: %w", seed, err)
		}
		res.Seeds = append(res.Seeds, sr)
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// env is what every seed shares: data, encoders, the model config.
type env struct {
	cfg      Config
	backend  backends.Backend
	log      io.Writer
	ds       *task.Dataset
	val      []task.Item
	test     []task.Item
	onPolicy []task.Item // training prompts for on-policy pairs
	genPairs []data.Pair
	tok      data.ByteTokenizer
	encAll   *data.Encoder // K = 4 templates
	encGen   *data.Encoder // the general template only
	mcfg     *llm.Config
}

func newEnv(cfg Config, backend backends.Backend, log io.Writer) (*env, error) {
	e := &env{cfg: cfg, backend: backend, log: log}
	ds, err := task.Generate(task.Config{Seed: cfg.Data.DataSeed, Train: cfg.Data.TrainSize,
		Eval: cfg.Data.ValidationSize + cfg.Data.TestSize})
	if err != nil {
		return nil, err
	}
	e.ds = ds
	e.val, e.test = ds.Eval[:cfg.Data.ValidationSize], ds.Eval[cfg.Data.ValidationSize:]
	e.genPairs = ds.Train
	if n := cfg.Data.GeneratorPairs; n > 0 && n < len(ds.Train) {
		e.genPairs = ds.Train[:n]
	}
	// On-policy prompts: fresh questions from their own stream, none of them held out.
	if e.onPolicy, err = recipe.OnPolicyPrompts(cfg.Data.DataSeed, cfg.OnPolicy.Prompts, ds.Eval); err != nil {
		return nil, err
	}
	templates := task.Templates()
	mk := func(t data.Templates) (*data.Encoder, error) {
		return data.NewEncoder(data.EncodeConfig{Tokenizer: e.tok, Chat: data.UserTurn(e.tok.ApplyChatTemplate),
			Templates: t, MaxLength: cfg.Data.MaxLength, MaxPromptLength: cfg.Data.MaxPromptLength,
			EOS: e.tok.EOS(), AddBOS: true, BOS: e.tok.BOS()})
	}
	if e.encAll, err = mk(templates); err != nil {
		return nil, err
	}
	if e.encGen, err = mk(templates[:1]); err != nil {
		return nil, err
	}
	if e.mcfg, err = trainer.PresetConfig(cfg.Model.Preset, e.tok.VocabSize()); err != nil {
		return nil, err
	}
	if _, err = trainer.SetPrecision(e.mcfg, cfg.Model.DType); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *env) model(ctx *context.Context, tokens, attention, positions *Node) *Node {
	return llm.Forward(ctx, e.mcfg, tokens, attention, positions)
}

func (e *env) newRun(ctx *context.Context, dir string, seed uint64) *trainer.Run {
	every := e.cfg.LogEvery
	if every <= 0 {
		every = math.MaxInt32 // progress at the end of a stage only
	}
	return &trainer.Run{Backend: e.backend, Ctx: ctx, Model: e.model, OutDir: dir, Seed: seed, Log: e.log,
		LogEvery: every, Keep: 1}
}

// snapshot copies the values of the variables under /model.
func snapshot(ctx *context.Context) (map[string]*tensors.Tensor, error) {
	out := map[string]*tensors.Tensor{}
	for v := range ctx.IterVariables() {
		if !strings.HasPrefix(v.Scope(), "/model") {
			continue
		}
		val, err := v.Value()
		if err != nil {
			return nil, err
		}
		c, err := val.LocalClone()
		if err != nil {
			return nil, err
		}
		out[v.ScopeAndName()] = c
	}
	return out, nil
}

// restore makes a fresh context holding the snapshot's model (and no optimizer state).
func (e *env) restore(snap map[string]*tensors.Tensor, seed uint64) (*context.Context, error) {
	ctx := context.New()
	if err := llm.InitRandom(ctx.In("model"), e.mcfg, seed, dtypes.Float32); err != nil { // master weights
		return nil, err
	}
	n := 0
	for v := range ctx.IterVariables() {
		s, ok := snap[v.ScopeAndName()]
		if !ok {
			continue
		}
		c, err := s.LocalClone()
		if err != nil {
			return nil, err
		}
		if err := v.SetValue(c); err != nil {
			return nil, err
		}
		n++
	}
	if n != len(snap) {
		return nil, fmt.Errorf("restore: %d of %d SFT variables found in the fresh model", n, len(snap))
	}
	return ctx, nil
}

// judge answers items greedily and scores them.
func (e *env) judge(ctx *context.Context, items []task.Item) (Eval, error) {
	answers, err := trainer.Answers(e.backend, ctx.In("model"), e.mcfg, e.encAll, e.tok, recipe.Prompts(items),
		trainer.Sampling{MaxNewTokens: e.cfg.MaxNewTokens})
	if err != nil {
		return Eval{}, err
	}
	mean, per := recipe.JudgeAnswers(items, answers)
	ev := Eval{Answers: answers, Scores: per, Mean: map[string]float64{}}
	for _, d := range task.Dimensions() {
		ev.Mean[d] = mean[d]
	}
	for _, s := range per {
		for _, d := range task.Dimensions() {
			ev.Mean[Total] += s[d] / float64(len(items))
		}
	}
	return ev, nil
}

// Total names the sum of the dimensions' scores in Eval.Mean and the report.
const Total = "total"

// prefData is a seed's preference examples for one template set, with reference sums
// computed on demand.
type prefData struct {
	examples []data.Example
	refs     [][]float32
}

func (e *env) runSeed(seed uint64, tune bool, chosen map[string]Point) (*SeedRun, error) {
	cfg := e.cfg
	runs := cfg.RunsDir
	if runs == "" {
		runs = filepath.Join(cfg.OutDir, "runs")
	}
	seedDir := filepath.Join(runs, fmt.Sprintf("seed-%d", seed))
	sr := &SeedRun{Seed: seed, Methods: map[string]*MethodRun{}}
	pad := int32(e.tok.Pad())

	// SFT once.
	t0 := time.Now()
	ctx := context.New()
	if err := llm.InitRandom(ctx.In("model"), e.mcfg, seed, dtypes.Float32); err != nil { // master weights
		return nil, err
	}
	sftEx, err := e.encGen.EncodeAll(e.ds.Train)
	if err != nil {
		return nil, err
	}
	sftSrc, err := trainer.NewSFTSource(sftEx, data.BatchConfig{BatchSize: cfg.SFT.BatchSize, Seed: seed}, pad)
	if err != nil {
		return nil, fmt.Errorf("sft: %w", err)
	}
	sftDir := filepath.Join(seedDir, "sft")
	if err := os.RemoveAll(sftDir); err != nil {
		return nil, err
	}
	run := e.newRun(ctx, sftDir, seed)
	err = run.RunStage(trainer.Stage{Name: "sft", Kind: trainer.SFTStep, Config: cfg.SFT, Train: sftSrc})
	run.Close()
	if err != nil {
		return nil, fmt.Errorf("sft: %w", err)
	}
	if sr.SFT, err = e.judge(ctx, e.test); err != nil {
		return nil, err
	}
	fmt.Fprintf(e.log, "seed %d: sft: %s\n", seed, formatMean(sr.SFT.Mean))
	if !cfg.KeepRuns {
		if err := os.RemoveAll(filepath.Join(sftDir, "checkpoints")); err != nil {
			return nil, err
		}
	}
	snap, err := snapshot(ctx)
	if err != nil {
		return nil, err
	}
	sr.SFTSeconds = time.Since(t0).Seconds()
	t0 = time.Now()

	// Pairs: the generator's and on-policy ones from the SFT model.
	var onPairs []data.Pair
	skipped := 0
	if cfg.OnPolicy.Prompts > 0 {
		onPairs, skipped, err = recipe.SampleOnPolicyPairs(e.backend, ctx.In("model"), e.mcfg, e.encAll, e.tok,
			e.onPolicy, cfg.OnPolicy, seed)
		if err != nil {
			return nil, err
		}
	}
	sr.GeneratorPairs, sr.OnPolicyPairs, sr.OnPolicySkipped = len(e.genPairs), len(onPairs), skipped
	sr.PairsSeconds = time.Since(t0).Seconds()
	fmt.Fprintf(e.log, "seed %d: %d generator pairs + %d on-policy pairs (%d prompts skipped: tied samples)\n",
		seed, len(e.genPairs), len(onPairs), skipped)
	pairs := append(append([]data.Pair(nil), e.genPairs...), onPairs...)
	prefs := map[bool]*prefData{}
	getPref := func(all, refs bool) (*prefData, error) {
		p := prefs[all]
		if p == nil {
			enc := e.encGen
			if all {
				enc = e.encAll
			}
			ex, err := enc.EncodeAll(pairs)
			if err != nil {
				return nil, err
			}
			p = &prefData{examples: ex}
			prefs[all] = p
		}
		if refs && p.refs == nil {
			if p.refs, err = trainer.ReferenceSums(e.backend, ctx, e.mcfg, p.examples, pad, max(cfg.Pref.BatchSize, 8)); err != nil {
				return nil, err
			}
		}
		return p, nil
	}

	for _, m := range cfg.Methods {
		t0 := time.Now()
		grid, err := m.Grid(cfg.Pref.Optimizer.LR)
		if err != nil {
			return nil, err
		}
		if !tune || len(grid) == 1 {
			if p, ok := chosen[m.Name]; ok {
				grid = []Point{p}
			} else {
				grid = grid[:1]
			}
		}
		var best *MethodRun
		var tried []Tried
		for gi, point := range grid {
			dir := filepath.Join(seedDir, m.Name)
			if len(grid) > 1 {
				dir = filepath.Join(seedDir, fmt.Sprintf("%s-grid%d", m.Name, gi))
			}
			mr, err := e.trainMethod(m, point, seed, snap, getPref, dir)
			if err != nil {
				return nil, fmt.Errorf("method %s (%s): %w", m.Name, point, err)
			}
			tried = append(tried, Tried{Point: point, Validation: mr.Validation})
			if len(grid) > 1 {
				fmt.Fprintf(e.log, "seed %d: %s grid %s: validation %.3f\n", seed, m.Name, point, mr.Validation)
			}
			if best == nil || mr.Validation > best.Validation {
				best = mr
			}
		}
		chosen[m.Name] = best.Point
		if len(tried) > 1 {
			best.Tried = tried
		}
		best.Seconds = time.Since(t0).Seconds()
		sr.Methods[m.Name] = best
		fmt.Fprintf(e.log, "seed %d: %s (%s): %s [%.0fs]\n", seed, m.Name, best.Point, formatMean(best.Test.Mean), best.Seconds)
	}
	return sr, nil
}

func (e *env) trainMethod(m Method, point Point, seed uint64, snap map[string]*tensors.Tensor,
	getPref func(all, refs bool) (*prefData, error), dir string) (*MethodRun, error) {
	all := m.UsesAllTemplates()
	dims := []string{"general"}
	if all {
		dims = task.Templates().Names()
	}
	params, err := m.Params(point, dims, seed)
	if err != nil {
		return nil, err
	}
	pd, err := getPref(all, params.Loss.NeedsReference())
	if err != nil {
		return nil, err
	}
	var refs [][]float32
	if params.Loss.NeedsReference() {
		refs = pd.refs
	}
	src, err := trainer.NewPairSource(pd.examples, data.BatchConfig{BatchSize: e.cfg.Pref.BatchSize, Seed: seed + 1}, int32(e.tok.Pad()))
	if err != nil {
		return nil, err
	}
	if refs != nil {
		if err := src.SetReferences(refs); err != nil {
			return nil, err
		}
	}
	ctx, err := e.restore(snap, seed)
	if err != nil {
		return nil, err
	}
	stage := e.cfg.Pref
	stage.Optimizer.LR = point.LR
	if err := os.RemoveAll(dir); err != nil { // a rerun starts clean: no resume
		return nil, err
	}
	// The weights of each step, as the loop hands them over (one dimension: alpha is 1
	// throughout, not kept).
	alpha := map[string][]float64{}
	keepAlpha := func(_ int, m map[string]float64) {
		for _, d := range dims {
			if v, ok := m["weights/"+d+"_alpha"]; ok && len(dims) > 1 {
				alpha[d] = append(alpha[d], v)
			}
		}
	}
	run := e.newRun(ctx, dir, seed)
	err = run.RunStage(trainer.Stage{Name: "preference", Kind: trainer.PreferenceStep, Config: stage, Params: params, Train: src,
		OnMetrics: keepAlpha})
	run.Close()
	if err != nil {
		return nil, err
	}
	mr := &MethodRun{Method: m.Name, Seed: seed, Point: point}
	if len(e.val) > 0 {
		v, err := e.judge(ctx, e.val)
		if err != nil {
			return nil, err
		}
		mr.Validation = v.Mean[Total]
	}
	if mr.Test, err = e.judge(ctx, e.test); err != nil {
		return nil, err
	}
	if len(alpha) > 0 {
		mr.Alpha = alpha
	}
	if !e.cfg.KeepRuns {
		if err := os.RemoveAll(filepath.Join(dir, "checkpoints")); err != nil {
			return nil, err
		}
	}
	return mr, nil
}

func formatMean(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %.3f  ", k, m[k])
	}
	return strings.TrimSpace(b.String())
}
