package trainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/data/task"
	"github.com/amopo-engine/amopo/gomlx/fastgrad"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Report is what a run measured.
type Report struct {
	// Judge holds the judge scores after each stage of the built-in task ("sft", "preference").
	Judge map[string]JudgeScores
	// JudgeItems holds each held-out prompt's scores per stage, as Judge.
	JudgeItems  map[string][]data.Scores
	Dimensions  []string
	ModelParams int64
	Seconds     float64
	Interrupted bool
}

// SetPrecision applies model.dtype to a model config and returns the compute dtype: "f32"
// (or "") computes in float32; "bf16" is mixed precision, as PyTorch users run it: float32
// master weights (initialise and checkpoint in float32) and bfloat16 compute
// (cfg.ComputeDType), so that updates smaller than bf16's 1/256 resolution are not lost.
// The export is written in the compute dtype.
func SetPrecision(mcfg *llm.Config, name string) (dtypes.DType, error) {
	switch name {
	case "", "f32":
		mcfg.ComputeDType = dtypes.InvalidDType
		return dtypes.Float32, nil
	case "bf16":
		mcfg.ComputeDType = dtypes.BFloat16
		return dtypes.BFloat16, nil
	}
	return dtypes.InvalidDType, fmt.Errorf("model.dtype: unknown %q (f32 or bf16)", name)
}

// PresetConfig is the model of --model.preset, sized for the tokenizer's vocabulary.
func PresetConfig(name string, vocab int) (*llm.Config, error) {
	switch name {
	case "", "tiny":
		// ~0.8M parameters: trains on the built-in task in minutes on 2 cores.
		return &llm.Config{ModelType: llm.Qwen2, VocabSize: vocab, HiddenSize: 128, IntermediateSize: 352,
			NumLayers: 4, NumHeads: 4, NumKVHeads: 2, HeadDim: 32, RMSNormEps: 1e-6, RopeTheta: 1e4,
			TieWordEmbeddings: true, QKVBias: true, MaxPositionEmbeddings: 512}, nil
	case "small":
		return &llm.Config{ModelType: llm.Qwen2, VocabSize: vocab, HiddenSize: 256, IntermediateSize: 704,
			NumLayers: 6, NumHeads: 8, NumKVHeads: 2, HeadDim: 32, RMSNormEps: 1e-6, RopeTheta: 1e4,
			TieWordEmbeddings: true, QKVBias: true, MaxPositionEmbeddings: 1024}, nil
	case "qwen2.5-0.5b":
		cfg := llm.Qwen25_05B()
		if vocab > cfg.VocabSize {
			return nil, fmt.Errorf("model.preset %s: the tokenizer has %d ids, more than the model's %d", name, vocab, cfg.VocabSize)
		}
		return cfg, nil
	}
	return nil, fmt.Errorf("model.preset: unknown %q (known: tiny, small, qwen2.5-0.5b)", name)
}

// Train runs the whole job of a config: data, model, SFT, preference optimisation,
// evaluations, checkpoints, export. Progress goes to log.
func Train(cfg Config, log io.Writer) (*Report, error) {
	start := time.Now()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Data.Format != "builtin" {
		return nil, fmt.Errorf("data.format %q: this build trains on the built-in task only for now (data.format: builtin)", cfg.Data.Format)
	}
	if cfg.Data.Tokenizer != "bytes" {
		return nil, fmt.Errorf("data.tokenizer %q: the built-in task uses the byte-level tokenizer (data.tokenizer: bytes)", cfg.Data.Tokenizer)
	}
	fastgrad.RegisterFastDotGrad() // two DotGenerals per matmul gradient: ~7x faster on the CPU
	backend, err := NewBackend(cfg.Backend)
	if err != nil {
		return nil, err
	}
	defer backend.Finalize()

	// Data: the built-in verifiable task, its short templates, the byte-level tokenizer.
	ds, err := task.Generate(task.Config{Seed: cfg.Seed, Train: cfg.Data.TrainSize, Eval: cfg.Data.EvalSize})
	if err != nil {
		return nil, err
	}
	tok := data.ByteTokenizer{}
	templates := task.Templates()
	enc, err := data.NewEncoder(data.EncodeConfig{Tokenizer: tok, Chat: data.UserTurn(tok.ApplyChatTemplate),
		Templates: templates, MaxLength: cfg.Data.MaxLength, MaxPromptLength: cfg.Data.MaxPromptLength,
		EOS: tok.EOS(), AddBOS: true, BOS: tok.BOS()})
	if err != nil {
		return nil, err
	}
	trainEx, err := enc.EncodeAll(ds.Train)
	if err != nil {
		return nil, err
	}
	evalEx, err := enc.EncodeAll(ds.EvalPairs)
	if err != nil {
		return nil, err
	}
	dims := templates.Names()
	params, err := cfg.LossParams(dims)
	if err != nil {
		return nil, err
	}
	pad := int32(tok.Pad())
	sftSrc, err := NewSFTSource(trainEx, data.BatchConfig{BatchSize: cfg.SFT.BatchSize, Seed: cfg.Seed}, pad)
	if err != nil {
		return nil, fmt.Errorf("sft: %w", err)
	}
	evalSrc, err := NewPairSource(evalEx, data.BatchConfig{BatchSize: cfg.Pref.BatchSize, Seed: cfg.Seed + 2}, pad)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}

	// Model.
	mcfg, err := PresetConfig(cfg.Model.Preset, tok.VocabSize())
	if err != nil {
		return nil, err
	}
	dtype, err := SetPrecision(mcfg, cfg.Model.DType)
	if err != nil {
		return nil, err
	}
	ctx := context.New()
	modelCtx := ctx.In("model")
	if err := llm.InitRandom(modelCtx, mcfg, cfg.Seed, dtypes.Float32); err != nil {
		return nil, err
	}
	model := func(ctx *context.Context, tokens, attention, positions *Node) *Node {
		hidden, head := llm.ForwardHidden(ctx, mcfg, tokens, attention, positions)
		return HeadLogits(ctx, hidden, head) // the step may then take log-probs chunk by chunk
	}
	// A resume must continue the same run: compare everything that shapes the numbers.
	same := cfg
	same.Resume, same.LogEvery, same.EvalEvery, same.CheckpointEvery, same.KeepCheckpoints, same.PeakTFLOPS = false, 0, 0, 0, 0, 0
	configText, _ := json.Marshal(same)
	run := &Run{Backend: backend, Ctx: ctx, Model: model, OutDir: cfg.OutDir, Seed: cfg.Seed, Log: log,
		CheckpointEvery: cfg.CheckpointEvery, LogEvery: cfg.LogEvery, Keep: cfg.KeepCheckpoints,
		ConfigText: string(configText), FLOPsPerToken: TrainingFLOPsPerToken(mcfg, cfg.Data.MaxLength)}
	defer run.Close()
	run.PeakFLOPS = cfg.PeakTFLOPS * 1e12
	if run.PeakFLOPS == 0 && backend.Name() != "" && isPureGo(cfg.Backend) {
		if peak, err := MeasureMatmulPeak(backend, dtype, 512, 3); err == nil {
			run.PeakFLOPS = peak
		}
	}
	fmt.Fprintf(log, "model: %s %d layers, hidden %d, %.2fM parameters (%s); backend %s; peak %.1f GFLOP/s\n",
		mcfg.ModelType, mcfg.NumLayers, mcfg.HiddenSize, float64(mcfg.NumParams())/1e6, dtype, backend.Name(), run.PeakFLOPS/1e9)
	genEx := trainEx
	if n := cfg.Data.GeneratorPairs; n > 0 && n < len(trainEx) {
		genEx = trainEx[:n]
	}
	fmt.Fprintf(log, "data: built-in task, %d training pairs (%d SFT batches of %d), %d of them preference pairs, %d on-policy prompts, %d held-out prompts, K = %d %v\n",
		len(trainEx), sftSrc.NumBatches(), cfg.SFT.BatchSize, len(genEx), cfg.OnPolicy.Prompts, len(ds.Eval), len(dims), dims)
	if note, err := truncationNote(enc, trainEx, ds.Eval, cfg.Data); err != nil {
		return nil, err
	} else if note != "" {
		fmt.Fprintln(log, note)
	}
	fmt.Fprintf(log, "loss: %s, policy %s, beta %g, gamma %g, lambda %g, length-normalised %v, NLL term on the chosen answers %g\n",
		params.Loss, params.Policy, params.Beta, params.Gamma, params.Lambda, params.LengthNormalize, params.NLLWeight)
	if cfg.Resume {
		if _, err := run.Resume(); err != nil {
			return nil, err
		}
	}
	stop := run.CatchInterrupt()
	defer stop()

	report := &Report{Judge: map[string]JudgeScores{}, JudgeItems: map[string][]data.Scores{}, Dimensions: task.Dimensions(), ModelParams: mcfg.NumParams()}
	judge := func(name string) error {
		judgeStart := time.Now()
		scores, per, answers, err := judgeEval(backend, modelCtx, mcfg, enc, tok, ds.Eval, 32)
		if err != nil {
			return err
		}
		report.Judge[name], report.JudgeItems[name] = scores, per
		if err := writeAnswers(filepath.Join(cfg.OutDir, "answers-"+strings.ReplaceAll(name, " ", "-")+".jsonl"), enc, tok, ds.Eval, answers); err != nil {
			return err
		}
		fmt.Fprintf(log, "%s: judge scores %s (e.g. %q -> %q) [%d prompts in %.0f s]\n", name, formatScores(report.Dimensions, scores),
			ds.Eval[0].Prompt, answers[0], len(ds.Eval), time.Since(judgeStart).Seconds())
		row := map[string]float64{}
		for d, s := range scores {
			row["judge/"+d] = s
		}
		if err := run.openMetrics(); err != nil {
			return err
		}
		return run.writeMetrics(name+"_judge", 0, row)
	}
	interrupted := func() (*Report, error) {
		report.Interrupted = true
		return report, nil
	}
	// Stage 1: SFT, then its judge scores (unless the run resumed past it: those are in
	// the interrupted run's log and metrics).
	err = run.RunStage(Stage{Name: "sft", Kind: SFTStep, Config: cfg.SFT, Train: sftSrc})
	if errors.Is(err, ErrInterrupted) {
		fmt.Fprintln(log, err)
		return interrupted()
	}
	if err != nil {
		return nil, err
	}
	sftDone := run.DoneBeforeResume("sft")
	if sftDone {
		fmt.Fprintln(log, "after SFT: judged before the checkpoint (see metrics.jsonl)")
	} else if err := judge("after SFT"); err != nil {
		return nil, err
	}
	// The preference data: the generator's pairs and on-policy ones from the SFT model.
	onPairs, err := onPolicyStage(cfg, run, sftDone, backend, modelCtx, mcfg, enc, tok, ds.Eval, log)
	if err != nil {
		return nil, err
	}
	onEx, err := enc.EncodeAll(onPairs)
	if err != nil {
		return nil, fmt.Errorf("on-policy %w", err)
	}
	prefEx := append(append([]data.Example(nil), genEx...), onEx...)
	prefSrc, err := NewPairSource(prefEx, data.BatchConfig{BatchSize: cfg.Pref.BatchSize, Seed: cfg.Seed + 1}, pad)
	if err != nil {
		return nil, fmt.Errorf("preference: %w", err)
	}
	// Stage 2: the preference loss.
	err = run.RunStage(Stage{Name: "preference", Kind: PreferenceStep, Config: cfg.Pref, Params: params, Train: prefSrc,
		Eval: evalSrc, EvalEvery: cfg.EvalEvery})
	if errors.Is(err, ErrInterrupted) {
		fmt.Fprintln(log, err)
		return interrupted()
	}
	if err != nil {
		return nil, err
	}
	if err := judge("after " + string(params.Loss)); err != nil {
		return nil, err
	}
	var names []string
	var rows []JudgeScores
	for _, n := range []string{"after SFT", "after " + string(params.Loss)} {
		if sc, ok := report.Judge[n]; ok {
			names, rows = append(names, n), append(rows, sc)
		}
	}
	printJudgeTable(log, report.Dimensions, names, rows, report.JudgeItems[names[0]], report.JudgeItems[names[len(names)-1]])
	exportDir := filepath.Join(cfg.OutDir, "model")
	if err := llm.Save(modelCtx, mcfg, exportDir).DType(dtype).SpecialTokens(tok.BOS(), tok.EOS(), tok.Pad()).Done(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	// The tokenizer and its chat template go with the model: transformers then reads the
	// folder as a whole (AutoTokenizer + AutoModelForCausalLM, apply_chat_template).
	if err := tok.SaveHF(exportDir, cfg.Data.MaxLength); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(log, "exported the model, its tokenizer and chat template in Hugging Face layout to %s; metrics in %s\n", exportDir, run.MetricsPath())
	report.Seconds = time.Since(start).Seconds()
	return report, nil
}

// onPolicyStage samples the on-policy pairs from the SFT model and saves them in out_dir,
// or, when the run resumed past SFT (the model is no longer the SFT one), reads them back.
func onPolicyStage(cfg Config, run *Run, sftDone bool, backend backends.Backend, modelCtx *context.Context,
	mcfg *llm.Config, enc *data.Encoder, tok data.ByteTokenizer, held []task.Item, log io.Writer) ([]data.Pair, error) {
	if cfg.OnPolicy.Prompts == 0 {
		return nil, nil
	}
	path := filepath.Join(cfg.OutDir, "onpolicy-pairs.jsonl")
	if sftDone {
		pairs, err := ReadPairs(path)
		if err != nil {
			return nil, fmt.Errorf("resume: the on-policy pairs of the interrupted run: %w", err)
		}
		fmt.Fprintf(log, "on-policy: %d pairs read back from %s\n", len(pairs), path)
		return pairs, nil
	}
	t0 := time.Now()
	items, err := OnPolicyPrompts(cfg.Seed, cfg.OnPolicy.Prompts, held)
	if err != nil {
		return nil, err
	}
	pairs, skipped, err := SampleOnPolicyPairs(backend, modelCtx, mcfg, enc, tok, items, cfg.OnPolicy, cfg.Seed)
	if err != nil {
		return nil, err
	}
	if err := WritePairs(path, pairs); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "on-policy: %d pairs from %d prompts x %d samples (%d skipped: tied samples) in %.0f s, saved to %s\n",
		len(pairs), len(items), cfg.OnPolicy.Samples, skipped, time.Since(t0).Seconds(), path)
	return pairs, nil
}

func isPureGo(backend string) bool {
	if backend == "" {
		backend = os.Getenv("GOMLX_BACKEND")
	}
	return backend == "" || backend == "go" || len(backend) > 3 && backend[:3] == "go:"
}

func formatScores(dims []string, s JudgeScores) string {
	out := ""
	for _, d := range dims {
		out += fmt.Sprintf("%s %.2f  ", d, s[d])
	}
	return out
}

// writeAnswers saves the held-out prompts, the text the model read (the chat-formatted
// prompt, cut if longer than data.max_prompt_length; BOS not shown), the generated answers
// and their judge scores, so that a person can read what the scores mean and reproduce
// them elsewhere (cmd/train/check_export.py).
func writeAnswers(path string, enc *data.Encoder, tok data.ByteTokenizer, items []task.Item, answers []string) error {
	var b strings.Builder
	for i, it := range items {
		ids, err := enc.EncodePrompt(it.Prompt, nil, 0)
		if err != nil {
			return err
		}
		input := make([]int, len(ids))
		for j, id := range ids {
			input[j] = int(id)
		}
		line, err := json.Marshal(map[string]any{"prompt": it.Prompt, "input": tok.Decode(input), "reference": it.Reference,
			"answer": answers[i], "scores": task.Judge(it.Meta, answers[i])})
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return writeAtomic(path, []byte(b.String()))
}

// truncationNote says how much of the data the length limits cut: training pairs whose
// prompt or responses were cut, and held-out prompts that lose their beginning at
// generation (the judge then scores answers to questions the model did not fully see).
// Empty when nothing is cut.
func truncationNote(enc *data.Encoder, train []data.Example, heldOut []task.Item, dc DataConfig) (string, error) {
	var prompts, responses, cut int
	for _, ex := range train {
		if ex.PromptTruncated {
			prompts++
		}
		if ex.ResponseTruncated {
			responses++
		}
	}
	for _, it := range heldOut {
		fits, err := enc.PromptFits(it.Prompt, nil, 0)
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
	return fmt.Sprintf("truncation (data.max_length %d, data.max_prompt_length %d): %.0f%% of training pairs had the prompt cut "+
		"and %.0f%% a response cut; %.0f%% of held-out prompts are cut from the left at generation (raise the limits to keep them whole)",
		dc.MaxLength, dc.MaxPromptLength, pct(prompts, len(train)), pct(responses, len(train)), pct(cut, len(heldOut))), nil
}
