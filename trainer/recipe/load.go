package recipe

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/engine/backend"
	"github.com/amopo-engine/amopo/gomlx/fastgrad"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/amopo-engine/amopo/trainer"
	gomlxbackends "github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Job is a run in progress: the plan, and what Load made of it. The stage methods
// (SFT, OnPolicyPairs, Preference, Evaluate, Export) run in that order.
type Job struct {
	Plan    *Plan
	Log     io.Writer
	Backend gomlxbackends.Backend
	// Ctx holds the model's variables under "model" (ModelCtx) and the optimizer's.
	Ctx, ModelCtx *context.Context
	// DType is the compute (and export) dtype.
	DType   dtypes.DType
	Tok     *Tokens
	Encoder *data.Encoder
	// TrainEx and EvalEx are the encoded training and held-out pairs.
	TrainEx, EvalEx []data.Example
	Run             *trainer.Run
	Report          *Report
	pad             int32
	sftDone         bool
	// peakAgainst says what the MFU figures are a share of.
	peakAgainst string
}

// Load makes a plan ready to train: the backend, the model (a preset's random
// initialisation, or model.dir's weights), the encoded data and the run that logs and
// checkpoints. configText is what checkpoints record of the config.
func Load(plan *Plan, configText string, log io.Writer) (*Job, error) {
	fastgrad.RegisterFastDotGrad() // two DotGenerals per matmul gradient: ~7x faster on the CPU
	be, err := backend.New(plan.Backend)
	if err != nil {
		return nil, err
	}
	j := &Job{Plan: plan, Log: log, Backend: be, Tok: plan.tok, pad: int32(plan.tok.Pad()),
		Report: &Report{Judge: map[string]JudgeScores{}, JudgeItems: map[string][]data.Scores{},
			Samples: map[string][]string{}, ModelParams: plan.Model.NumParams()}}
	if err := j.encodeData(); err != nil {
		be.Finalize()
		return nil, err
	}
	if err := j.loadModel(configText); err != nil {
		be.Finalize()
		return nil, err
	}
	if err := os.MkdirAll(plan.OutDir, 0o755); err != nil {
		j.Close()
		return nil, fmt.Errorf("out_dir: %w", err)
	}
	j.logPlan()
	return j, nil
}

// encodeData tokenizes the training and held-out pairs under the K templates.
func (j *Job) encodeData() error {
	p := j.Plan
	enc, err := data.NewEncoder(data.EncodeConfig{Tokenizer: j.Tok, Chat: j.Tok.Chat, Templates: p.Data.Templates,
		MaxLength: p.MaxLength, MaxPromptLength: p.MaxPromptLength, EOS: j.Tok.EOS(), AddBOS: j.Tok.AddBOS, BOS: j.Tok.BOS})
	if err != nil {
		return err
	}
	j.Encoder = enc
	if j.TrainEx, err = enc.EncodeAll(p.Data.Train); err != nil {
		return fmt.Errorf("data.train: %w", err)
	}
	if j.EvalEx, err = enc.EncodeAll(p.Data.Eval); err != nil {
		return fmt.Errorf("data.eval: %w", err)
	}
	return nil
}

// loadModel initialises the preset at random (seeded) or reads model.dir's weights, in
// float32 (master weights; bf16 is mixed precision), and makes the run.
func (j *Job) loadModel(configText string) error {
	p := j.Plan
	j.Ctx = context.New()
	j.ModelCtx = j.Ctx.In("model")
	if p.ModelDir == "" {
		if err := llm.InitRandom(j.ModelCtx, p.Model, p.Seed, dtypes.Float32); err != nil {
			return err
		}
	} else {
		loaded, err := llm.Load(j.ModelCtx, p.ModelDir).DType(dtypes.Float32).Done()
		if err != nil {
			return fmt.Errorf("model.dir: %w", err)
		}
		loaded.ComputeDType = p.Model.ComputeDType
		p.Model = loaded
	}
	var err error
	if j.DType, err = trainer.SetPrecision(p.Model, p.DType); err != nil {
		return err
	}
	mcfg := p.Model
	// Log-probs chunk by chunk when a large vocabulary's logits would not fit at once.
	j.Run = &trainer.Run{Backend: j.Backend, Ctx: j.Ctx, Model: trainer.LMModel(mcfg), OutDir: p.OutDir, Seed: p.Seed, Log: j.Log,
		CheckpointEvery: p.CheckpointEvery, LogEvery: p.LogEvery, Keep: p.KeepCheckpoints,
		ConfigText: configText, Overwrite: p.Overwrite, FLOPsPerToken: trainer.TrainingFLOPsPerToken(mcfg, p.MaxLength)}
	// MFU is against the machine's peak (the CPU's FMA peak, a card's dense peak, or
	// --peak_tflops), never against the backend's own matmul.
	name := p.Backend
	if name == "" {
		name = os.Getenv("GOMLX_BACKEND")
	}
	peak, err := trainer.MachinePeak(name, j.DType, p.PeakTFLOPS)
	if err != nil {
		fmt.Fprintf(j.Log, "MFU not reported: %v\n", err)
	}
	j.Run.PeakFLOPS, j.peakAgainst = peak.FLOPS, peak.Against
	return nil
}

// logPlan says what the run trains on what.
func (j *Job) logPlan() {
	p, m := j.Plan, j.Plan.Model
	from := "random init"
	if p.ModelDir != "" {
		from = p.ModelDir
	}
	fmt.Fprintf(j.Log, "model: %s %d layers, hidden %d, vocabulary %d, %.2fM parameters (%s, %s); tokenizer %s; backend %s; MFU against %s\n",
		m.ModelType, m.NumLayers, m.HiddenSize, m.VocabSize, float64(m.NumParams())/1e6, j.DType, from, p.Tokenizer,
		j.Backend.Name(), orNone(j.peakAgainst))
	d := p.Data
	onPolicy := "no on-policy pairs (no judges)"
	if d.Judged != nil {
		onPolicy = fmt.Sprintf("%d on-policy prompts", p.OnPolicy.Prompts)
	}
	fmt.Fprintf(j.Log, "data: %s, %d training pairs (%d SFT batches of %d), %d of them preference pairs, %s, %d held-out pairs, %d held-out prompts answered, K = %d %v\n",
		d.Name, len(d.Train), len(d.Train)/max(p.SFT.BatchSize, 1), p.SFT.BatchSize, len(d.Preference), onPolicy,
		len(d.Eval), len(d.Prompts), len(d.Templates), d.Templates.Names())
	for _, n := range d.Notes {
		fmt.Fprintln(j.Log, n)
	}
	if note, err := truncationNote(j.Encoder, j.TrainEx, d.Prompts, p); err == nil && note != "" {
		fmt.Fprintln(j.Log, note)
	}
	l := p.Loss
	fmt.Fprintf(j.Log, "loss: %s, policy %s, beta %g, gamma %g, lambda %g, length-normalised %v, NLL term on the chosen answers %g\n",
		l.Loss, l.Policy, l.Beta, l.Gamma, l.Lambda, l.LengthNormalize, l.NLLWeight)
}

// Resume continues from out_dir's latest checkpoint when the plan says so.
func (j *Job) Resume() error {
	if !j.Plan.Resume {
		// An earlier run in out_dir is refused (or cleared, with overwrite) before anything
		// is written: with sft.steps 0 the first write is the answers file of the
		// evaluation, which would replace the earlier run's.
		return j.Run.CheckOutDir()
	}
	_, err := j.Run.Resume()
	return err
}

// Close releases the run and the backend.
func (j *Job) Close() {
	if j.Run != nil {
		j.Run.Close()
	}
	j.Backend.Finalize()
}

// truncationNote says how much of the data the length limits cut: training pairs whose
// prompt or responses were cut, and held-out prompts that lose their beginning at
// generation (the judge then scores answers to questions the model did not fully see).
// Empty when nothing is cut.
func truncationNote(enc *data.Encoder, train []data.Example, heldOut []string, p *Plan) (string, error) {
	var prompts, responses, cut int
	for _, ex := range train {
		if ex.PromptTruncated {
			prompts++
		}
		if ex.ResponseTruncated {
			responses++
		}
	}
	for _, prompt := range heldOut {
		fits, err := enc.PromptFits(prompt, nil, 0)
		if err != nil {
			return "", err
		}
		if !fits {
			cut++
		}
	}
	if prompts+responses+cut == 0 {
		return "", nil
	}
	pct := func(n, of int) float64 { return 100 * float64(n) / float64(max(of, 1)) }
	var b strings.Builder
	fmt.Fprintf(&b, "truncation (data.max_length %d, data.max_prompt_length %d): %.0f%% of training pairs had the prompt cut "+
		"and %.0f%% a response cut; %.0f%% of held-out prompts are cut from the left at generation (raise the limits to keep them whole)",
		p.MaxLength, p.MaxPromptLength, pct(prompts, len(train)), pct(responses, len(train)), pct(cut, len(heldOut)))
	return b.String(), nil
}

func orNone(s string) string {
	if s == "" {
		return "no peak (not reported)"
	}
	return s
}
