package experiment

import (
	"fmt"
	"time"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/data"
	enginebackend "github.com/amopo-engine/amopo/engine/backend"
	"github.com/amopo-engine/amopo/gomlx/fastgrad"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/amopo-engine/amopo/trainer"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// MeasureThroughput measures the training throughput (tokens/s) that EstimateCost needs,
// on this machine with cfg's backend, model and SFT batches: one step to compile, then
// steps timed SFT steps on the config's own data. The preference steps' tokens cost about
// the same per token (the same forward and backward pass, the loss is small beside it).
func MeasureThroughput(cfg Config, steps int) (float64, error) {
	if steps < 1 {
		return 0, fmt.Errorf("measure throughput: steps %d, want >= 1", steps)
	}
	if err := cfg.Validate(); err != nil {
		return 0, err
	}
	fastgrad.RegisterFastDotGrad()
	backend, err := enginebackend.New(cfg.Backend)
	if err != nil {
		return 0, err
	}
	defer backend.Finalize()
	e, err := newEnv(cfg, backend, nil)
	if err != nil {
		return 0, err
	}
	ex, err := e.encGen.EncodeAll(e.ds.Train)
	if err != nil {
		return 0, err
	}
	src, err := trainer.NewSFTSource(ex, data.BatchConfig{BatchSize: cfg.SFT.BatchSize, Seed: 1}, int32(e.tok.Pad()))
	if err != nil {
		return 0, err
	}
	ctx := context.New()
	if err := llm.InitRandom(ctx.In("model"), e.mcfg, 1, dtypes.Float32); err != nil {
		return 0, err
	}
	st, err := trainer.NewStepper(backend, ctx, e.model, trainer.SFTStep, spec.Params{}, cfg.SFT.Optimizer, steps+1, 1)
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
		if _, err := st.Run(b, nil, true); err != nil {
			return 0, err
		}
		tokens += b.NumTokens
	}
	return float64(tokens) / time.Since(start).Seconds(), nil
}
