package experiment

import (
	"fmt"
	"time"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/data"
	enginebackend "github.com/amopo-engine/amopo/engine/backend"
	"github.com/amopo-engine/amopo/gomlx/fastgrad"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/amopo-engine/amopo/trainer"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// MeasureThroughput measures the training throughputs EstimateCost needs, on this
// machine with cfg's backend and model: steps timed SFT steps on the config's SFT batches,
// and steps timed AMoPO steps (K = 4 templates) on its preference batches, each after one
// step that compiles the graph.
func MeasureThroughput(cfg Config, steps int) (Throughput, error) {
	if steps < 1 {
		return Throughput{}, fmt.Errorf("measure throughput: steps %d, want >= 1", steps)
	}
	if err := cfg.Validate(); err != nil {
		return Throughput{}, err
	}
	fastgrad.RegisterFastDotGrad()
	backend, err := enginebackend.New(cfg.Backend)
	if err != nil {
		return Throughput{}, err
	}
	defer backend.Finalize()
	e, err := newEnv(cfg, backend, nil)
	if err != nil {
		return Throughput{}, err
	}
	pad := int32(e.tok.Pad())
	sftEx, err := e.encGen.EncodeAll(e.ds.Train)
	if err != nil {
		return Throughput{}, err
	}
	sftSrc, err := trainer.NewSFTSource(sftEx, data.BatchConfig{BatchSize: cfg.SFT.BatchSize, Seed: 1}, pad)
	if err != nil {
		return Throughput{}, err
	}
	prefEx, err := e.encAll.EncodeAll(e.genPairs)
	if err != nil {
		return Throughput{}, err
	}
	prefSrc, err := trainer.NewPairSource(prefEx, data.BatchConfig{BatchSize: cfg.Pref.BatchSize, Seed: 1}, pad)
	if err != nil {
		return Throughput{}, err
	}
	amopoMethod := Method{Name: "amopo", Loss: string(spec.AMoPO)}
	params, err := amopoMethod.Params(Point{Beta: 0.8, Gamma: 2, LR: cfg.Pref.Optimizer.LR}, amopoMethod.Dimensions(), 1)
	if err != nil {
		return Throughput{}, err
	}
	var tp Throughput
	if tp.SFT, err = e.timeSteps(trainer.SFTStep, spec.Params{}, cfg.SFT.Optimizer, sftSrc, steps); err != nil {
		return Throughput{}, fmt.Errorf("sft: %w", err)
	}
	if tp.Preference, err = e.timeSteps(trainer.PreferenceStep, params, cfg.Pref.Optimizer, prefSrc, steps); err != nil {
		return Throughput{}, fmt.Errorf("preference: %w", err)
	}
	return tp, nil
}

// timeSteps runs steps+1 training steps from a fresh model and returns the tokens per
// second of the last steps (the first compiles).
func (e *env) timeSteps(kind trainer.StepKind, p spec.Params, opt trainer.OptimizerConfig, src trainer.Source, steps int) (float64, error) {
	ctx := context.New()
	if err := llm.InitRandom(ctx.In("model"), e.mcfg, 1, dtypes.Float32); err != nil {
		return 0, err
	}
	st, err := trainer.NewStepper(e.backend, ctx, e.model, kind, p, opt, steps+1, 1)
	if err != nil {
		return 0, err
	}
	tokens, start := 0, time.Now()
	for i := 0; i <= steps; i++ {
		b, err := src.Batch(0, i%src.NumBatches())
		if err != nil {
			return 0, err
		}
		if i == 1 { // step 0 compiled the graph
			tokens, start = 0, time.Now()
		}
		var noise *tensors.Tensor
		if kind == trainer.PreferenceStep {
			dims := b.Tokens.Shape().Dimensions
			noise = amopo.NoiseTensor(1, uint64(i), dims[0], dims[1])
		}
		if _, err := st.Run(b, noise, true); err != nil {
			return 0, err
		}
		tokens += b.NumTokens
	}
	return float64(tokens) / time.Since(start).Seconds(), nil
}
