package trainer

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// StepBenchmark is the timing of one preference training step.
type StepBenchmark struct {
	FirstStep, StepTime time.Duration // the first includes compilation; the other is a median
	Steps               int
	TokensPerSecond     float64
	FLOPS               float64 // effective: TrainingFLOPsPerToken * tokens/s
}

// TrainingFLOPsPerToken is the usual estimate of a training step's work per token:
// 6N for the matmuls of the weights (forward and backward) plus 12*L*S*d for attention.
func TrainingFLOPsPerToken(cfg *llm.Config, seqLen int) float64 {
	return 6*float64(cfg.NumParams()) + 12*float64(cfg.NumLayers)*float64(seqLen)*float64(cfg.NumHeads*cfg.HeadDim)
}

// BenchmarkStep times the AMoPO preference step of cmd/train on random data: B pairs, 2K
// sequences each, of seqLen tokens (the second half is the response), random init.
func BenchmarkStep(backend backends.Backend, cfg *llm.Config, dtype dtypes.DType, p spec.Params, pairs, seqLen, steps int) (*StepBenchmark, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	ctx := context.New()
	if err := llm.InitRandom(ctx.In("model"), cfg, 1, dtype); err != nil {
		return nil, err
	}
	model := LMModel(cfg) // the step may take log-probs chunk by chunk
	st, err := NewStepper(backend, ctx, model, PreferenceStep, p, DefaultOptimizer(1e-5), steps+1, 1)
	if err != nil {
		return nil, err
	}
	k := p.K()
	batch := RandomPreferenceBatch(cfg.VocabSize, pairs, k, seqLen)
	n := batch.NumTokens
	res := &StepBenchmark{Steps: steps}
	var times []time.Duration
	for i := 0; i <= steps; i++ {
		start := time.Now()
		m, err := st.Run(batch, amopo.NoiseTensor(1, uint64(i), pairs, k), true)
		if err != nil {
			return nil, err
		}
		if m["loss"] != m["loss"] {
			return nil, fmt.Errorf("benchmark step %d: NaN loss", i)
		}
		if i == 0 {
			res.FirstStep = time.Since(start)
		} else {
			times = append(times, time.Since(start))
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	res.StepTime = times[len(times)/2]
	res.TokensPerSecond = float64(n) / res.StepTime.Seconds()
	res.FLOPS = res.TokensPerSecond * TrainingFLOPsPerToken(cfg, seqLen)
	return res, nil
}

// RandomPreferenceBatch is a [pairs, K, 2, seqLen] batch of random tokens (seeded), all
// real, with the second half of every sequence as the response: for benchmarks and for
// comparing backends on the trainer's step.
func RandomPreferenceBatch(vocab, pairs, k, seqLen int) *Batch {
	n := pairs * k * 2 * seqLen
	rng := rand.New(rand.NewPCG(1, 2))
	tok, resp, att, pos := make([]int32, n), make([]float32, n), make([]int32, n), make([]int32, n)
	for i := range tok {
		tok[i] = int32(rng.IntN(vocab))
		t := i % seqLen
		att[i], pos[i] = 1, int32(t)
		if t >= seqLen/2 {
			resp[i] = 1
		}
	}
	dims := []int{pairs, k, 2, seqLen}
	return &Batch{
		Tokens:    tensors.FromFlatDataAndDimensions(tok, dims...),
		Response:  tensors.FromFlatDataAndDimensions(resp, dims...),
		Attention: tensors.FromFlatDataAndDimensions(att, dims...),
		Positions: tensors.FromFlatDataAndDimensions(pos, dims...),
		NumTokens: n,
	}
}
