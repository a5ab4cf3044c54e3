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
	Chosen map[string]Point `json:"chosen"`
	// Floors are the floor rows' evaluations on the test prompts (FloorNames), the same
	// for every seed.
	Floors      map[string]Eval `json:"floors"`
	ModelParams int64           `json:"model_params"`
	Seconds     float64         `json:"seconds"`
	// PromptsCut counts the test prompts that data.max_prompt_length cuts under the
	// general template (the one they are answered under), and PairsCut the generator
	// pairs whose prompt it cuts under some template.
	PromptsCut int `json:"test_prompts_cut"`
	PairsCut   int `json:"generator_pairs_cut"`
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
	if res.PromptsCut, res.PairsCut, err = e.cuts(); err != nil {
		return nil, err
	}
	res.Floors = map[string]Eval{}
	for name, answers := range FloorAnswers(e.test) {
		res.Floors[name] = evalAnswers(e.test, answers)
	}
	fmt.Fprintf(log, "experiment: %d seeds x %d methods; model %.2fM parameters; %d SFT pairs, %d generator preference pairs, %d validation and %d test prompts\n",
		len(cfg.Seeds), len(cfg.Methods), float64(e.mcfg.NumParams())/1e6, len(e.ds.Train), len(e.genPairs), len(e.val), len(e.test))
	cells, err := openCells(cfg)
	if err != nil {
		return nil, err
	}
	for si, seed := range cfg.Seeds {
		sr, err := e.runSeed(seed, si == 0, res.Chosen, cells)
		if err != nil {
			return nil, fmt.Errorf("seed %d: %w", seed, err)
		}
		res.Seeds = append(res.Seeds, sr)
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// cuts counts the test prompts cut under the general template and the generator pairs
// whose prompt is cut under any of the K templates.
func (e *env) cuts() (prompts, pairs int, err error) {
	for _, it := range e.test {
		fits, err := e.encGen.PromptFits(it.Prompt, nil, 0)
		if err != nil {
			return 0, 0, err
		}
		if !fits {
			prompts++
		}
	}
	ex, err := e.encAll.EncodeAll(e.genPairs)
	if err != nil {
		return 0, 0, err
	}
	for _, x := range ex {
		if x.PromptTruncated {
			pairs++
		}
	}
	return prompts, pairs, nil
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
	encAll   *data.Encoder    // K = 4 templates
	encGen   *data.Encoder    // the general template only
	shared   *sharedSFTModels // sft_seed's models, once trained
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

// runStage trains one stage of ctx's model in dir, then drops the run's checkpoints
// unless keep_runs asks to keep them (the results are in the cells, the metrics in dir).
func (e *env) runStage(ctx *context.Context, dir string, seed uint64, stage trainer.Stage) error {
	run := e.newRun(ctx, dir, seed)
	err := run.RunStage(stage)
	run.Close()
	if err != nil {
		return err
	}
	if !e.cfg.KeepRuns {
		return os.RemoveAll(filepath.Join(dir, "checkpoints"))
	}
	return nil
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
	return evalAnswers(items, answers), nil
}

// Total names the sum of the dimensions' scores in Eval.Mean and the report.
const Total = "total"

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
