package engine_test

import (
	"math"
	"sort"
	"testing"
	"time"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/gomlx/fastgrad"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/amopo-engine/amopo/trainer"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
)

// The trainer's default model (trainer.PresetConfig("tiny", 259): a 4-layer Qwen2 LM),
// trained with the AMoPO loss and the trainer's AdamW, on a small random batch.
const (
	tinyPairs  = 1
	tinySeqLen = 16
	tinyVocab  = 259
	tinyLR     = 5e-4 // the preference stage's default learning rate
)

// tinyRun is the trainer's own preference step (trainer.Stepper: llm.Forward,
// amopo.TokenLogProbs, the AMoPO loss, AdamW with clipping and the cosine schedule) of the
// default model on one backend, from host-initialised weights (no RNG op), so every
// backend starts from the same weights.
type tinyRun struct {
	stepper *trainer.Stepper
	batch   *trainer.Batch
	p       spec.Params
}

func newTinyRun(t testing.TB, backend backends.Backend, steps int) *tinyRun {
	cfg, err := trainer.PresetConfig("tiny", tinyVocab)
	require.NoError(t, err)
	ctx := context.New()
	require.NoError(t, llm.InitRandom(ctx.In("model"), cfg, 1, dtypes.Float32))
	p := spec.Defaults(spec.AMoPO)
	require.NoError(t, p.Validate())
	model := func(ctx *context.Context, tokens, attention, positions *Node) *Node {
		return llm.Forward(ctx, cfg, tokens, attention, positions)
	}
	st, err := trainer.NewStepper(backend, ctx, model, trainer.PreferenceStep, p, trainer.DefaultOptimizer(tinyLR), steps, 1)
	require.NoError(t, err)
	return &tinyRun{stepper: st, batch: trainer.RandomPreferenceBatch(cfg.VocabSize, tinyPairs, p.K(), tinySeqLen), p: p}
}

// step runs training step i and returns the loss and gradient norm.
func (r *tinyRun) step(t testing.TB, i int) (loss, gradNorm float64) {
	m, err := r.stepper.Run(r.batch, amopo.NoiseTensor(1, uint64(i), tinyPairs, r.p.K()), true)
	require.NoError(t, err, "step %d", i)
	return m["loss"], m["grad_norm"]
}

// trainTiny runs steps of the default model's training and returns the losses, the
// gradient norms and the median step time (excluding the first, which compiles).
func trainTiny(t testing.TB, backend backends.Backend, steps int) (losses, norms []float64, median time.Duration) {
	fastgrad.RegisterFastDotGrad() // as trainer.Train does
	defer fastgrad.RestoreDefaultDotGrad()
	r := newTinyRun(t, backend, steps)
	var times []time.Duration
	for i := range steps {
		start := time.Now()
		loss, norm := r.step(t, i)
		if i > 0 {
			times = append(times, time.Since(start))
		}
		losses, norms = append(losses, loss), append(norms, norm)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return losses, norms, times[len(times)/2]
}

// TestTrainerModelMatchesGo trains the trainer's default model (4-layer Qwen2, AMoPO,
// AdamW) for 20 steps on webgpu and on the pure-Go backend from the same weights and
// batches, and requires the losses to agree within 1e-4 relative at every step.
func TestTrainerModelMatchesGo(t *testing.T) {
	wg := newWebGPU(t)
	const steps = 20
	want, wantNorms, goTime := trainTiny(t, goBackend(), steps)
	got, gotNorms, wgTime := trainTiny(t, wg, steps)
	worst, worstNorm := 0.0, 0.0
	for i := range want {
		rel := math.Abs(got[i]-want[i]) / math.Max(math.Abs(want[i]), 1e-12)
		relNorm := math.Abs(gotNorms[i]-wantNorms[i]) / math.Max(math.Abs(wantNorms[i]), 1e-12)
		worst, worstNorm = math.Max(worst, rel), math.Max(worstNorm, relNorm)
		t.Logf("step %2d: loss go %.7f webgpu %.7f (rel. diff %.1e); grad norm go %.5f webgpu %.5f (rel. diff %.1e)",
			i, want[i], got[i], rel, wantNorms[i], gotNorms[i], relNorm)
	}
	t.Logf("largest relative difference over %d steps: loss %.2e, gradient norm %.2e", steps, worst, worstNorm)
	t.Logf("median step time: go %v, webgpu %v (webgpu/go %.1fx)", goTime, wgTime, wgTime.Seconds()/goTime.Seconds())
	require.LessOrEqual(t, worst, 1e-4)
	require.Less(t, got[steps-1], got[0], "training lowers the loss")
}

// tinyGraphOps builds the default model's training step on the go backend and returns,
// per backend op type, the dtypes it is used with ("in->out") and how many nodes.
func tinyGraphOps(t *testing.T) (map[string]map[string]int, int) {
	fastgrad.RegisterFastDotGrad()
	defer fastgrad.RestoreDefaultDotGrad()
	r := newTinyRun(t, goBackend(), 20)
	_, g, err := r.stepper.RunWithGraph(r.batch, amopo.NoiseTensor(1, 0, tinyPairs, r.p.K()), true)
	require.NoError(t, err)
	return graphOps(g), len(g.Nodes())
}
