package trainer

import (
	"fmt"
	"io"
	"sort"
	"testing"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
)

// splitModelConfig is a small decoder whose sizes (vocab 29, hidden 48, head dim 12,
// intermediate 96, sequences of 10) share no value with a batch's 8 sequences or its 80
// tokens, so that TestSplitStepGraphsHoldNoWholeBatch can tell a batch-sized node by its
// leading axis.
func splitModelConfig(t *testing.T) *llm.Config {
	cfg, err := PresetConfig("tiny", 29)
	require.NoError(t, err)
	cfg.HiddenSize, cfg.IntermediateSize, cfg.NumLayers, cfg.NumHeads, cfg.NumKVHeads, cfg.HeadDim = 48, 96, 2, 4, 2, 12
	return cfg
}

// splitRun is a few optimizer steps of one stepper, whole (micro 0) or split: the
// metrics of each step and every model weight after it.
type splitRun struct {
	metrics []map[string]float64
	weights []map[string][]float64
}

// runSplitSteps trains steps optimizer steps of accum micro-batches each from src, on a
// fresh model of the same seed, split into groups of micro sequences (0: whole). The
// noise of micro-step i is amopo.NoiseTensor(1, i, ...), the same for both ways.
func runSplitSteps(t *testing.T, p spec.Params, src toySource, refSums bool, accum, steps, micro int) splitRun {
	cfg := splitModelConfig(t)
	ctx := context.New()
	require.NoError(t, llm.InitRandom(ctx.In("model"), cfg, 3, dtypes.Float32))
	opt := DefaultOptimizer(0.02)
	opt.WarmupSteps, opt.Epsilon = 0, 1e-6
	st, err := NewStepper(toyBackend(t), ctx, LMModel(cfg), PreferenceStep, p, opt, 10, accum)
	require.NoError(t, err)
	st.logitsChunkBytes = 4 * 29 * 7 // the log-probs chunk by chunk, as a big vocabulary's
	if micro > 0 {
		require.NoError(t, st.SplitSequences(micro))
	}
	var out splitRun
	for i := range steps * accum {
		b, err := src.Batch(0, i)
		require.NoError(t, err)
		dims := b.Tokens.Shape().Dimensions
		if refSums {
			sums := make([]float32, dims[0]*dims[1]*2)
			for j := range sums {
				sums[j] = -float32(3 + j%5)
			}
			b.RefSums = tensors.FromFlatDataAndDimensions(sums, dims[0], dims[1], 2)
		}
		apply := (i+1)%accum == 0
		m, err := st.Run(b, amopo.NoiseTensor(1, uint64(i), dims[0], dims[1]), apply)
		require.NoError(t, err)
		if apply {
			w := map[string][]float64{}
			ctx.In("model").EnumerateVariables(func(v *context.Variable) {
				if v.Trainable {
					w[v.ScopeAndName()] = hostFloats(t, v.MustValue())
				}
			})
			out.metrics, out.weights = append(out.metrics, m), append(out.weights, w)
		}
	}
	return out
}

// requireSameRun: the same metrics (names and values) and weights after every step.
func requireSameRun(t *testing.T, want, got splitRun, what string) {
	require.Len(t, got.metrics, len(want.metrics))
	for step := range want.metrics {
		names := make([]string, 0, len(want.metrics[step]))
		for name := range want.metrics[step] {
			names = append(names, name)
		}
		sort.Strings(names)
		require.Len(t, got.metrics[step], len(names), "%s step %d: metric names", what, step+1)
		for _, name := range names {
			w, g := want.metrics[step][name], got.metrics[step][name]
			require.InDelta(t, w, g, 1e-5+1e-4*max(w, -w), "%s step %d: %s", what, step+1, name)
		}
		for name, w := range want.weights[step] {
			require.InDeltaSlice(t, w, got.weights[step][name], 2e-5, "%s step %d: %s", what, step+1, name)
		}
		if step > 0 {
			moved := false
			for name, w := range want.weights[step] {
				moved = moved || fmt.Sprint(w) != fmt.Sprint(want.weights[step-1][name])
			}
			require.True(t, moved, "%s: step %d moves the weights", what, step+1)
		}
	}
}

// TestSplitStepEqualsWholeStep: a step split into groups of 1, 3 (8 sequences: groups of
// 3, 3, 2) or 8 sequences gives the whole step's metrics (loss, alpha, margins, gradient
// norm) and updated weights after each of 3 optimizer steps, for AMoPO's Gaussian policy
// with K = 4, DPO with reference sums, and AMoPO with grad_accum 2. A coefficient off by
// a factor (1/grad_accum forgotten) shows in grad_norm; a surrogate without the
// coefficients, or groups that overwrite each other's gradients, in the weights.
func TestSplitStepEqualsWholeStep(t *testing.T) {
	gauss := spec.Defaults(spec.AMoPO)
	gauss.Dimensions, gauss.Seed = []string{"a", "b", "c", "d"}, 3
	require.NoError(t, gauss.Validate())
	require.Equal(t, spec.Gaussian, gauss.Policy)
	dpo := spec.Defaults(spec.DPO)
	dpo.Dimensions = []string{"general"}
	require.NoError(t, dpo.Validate())
	for _, c := range []struct {
		name    string
		p       spec.Params
		src     toySource
		refSums bool
		accum   int
		micros  []int
	}{
		{"amopo gaussian K=4", gauss, toySource{batches: 3, b: 1, k: 4, s: 10, seed: 11}, false, 1, []int{1, 3, 8}},
		{"dpo with reference sums", dpo, toySource{batches: 3, b: 4, k: 1, s: 10, seed: 12}, true, 1, []int{3}},
		{"amopo grad_accum 2", gauss, toySource{batches: 6, b: 1, k: 4, s: 10, seed: 13}, false, 2, []int{3}},
	} {
		whole := runSplitSteps(t, c.p, c.src, c.refSums, c.accum, 3, 0)
		for _, micro := range c.micros {
			requireSameRun(t, whole, runSplitSteps(t, c.p, c.src, c.refSums, c.accum, 3, micro),
				fmt.Sprintf("%s, micro %d", c.name, micro))
		}
	}
}

// TestSplitStepGraphsHoldNoWholeBatch: with groups of 3 of a batch of 8 sequences, no node
// of the last group's update graph has the batch's 8 sequences or 80 tokens as its leading
// axis, where the whole step's graph has such nodes: the model never sees the whole batch
// at once.
func TestSplitStepGraphsHoldNoWholeBatch(t *testing.T) {
	p := spec.Defaults(spec.AMoPO)
	p.Dimensions = []string{"a", "b", "c", "d"}
	require.NoError(t, p.Validate())
	b, err := toySource{batches: 1, b: 1, k: 4, s: 10, seed: 11}.Batch(0, 0)
	require.NoError(t, err)
	const n, tokens = 8, 80
	wholeSized := func(g *Graph) int {
		count := 0
		for _, node := range g.Nodes() {
			if node.NumOutputs() == 1 && node.Rank() > 0 {
				if d := node.Shape().Dimensions[0]; d == n || d == tokens {
					count++
				}
			}
		}
		return count
	}
	for _, micro := range []int{0, 3} {
		cfg := splitModelConfig(t)
		ctx := context.New()
		require.NoError(t, llm.InitRandom(ctx.In("model"), cfg, 3, dtypes.Float32))
		st, err := NewStepper(toyBackend(t), ctx, LMModel(cfg), PreferenceStep, p, DefaultOptimizer(1e-3), 10, 1)
		require.NoError(t, err)
		if micro > 0 {
			require.NoError(t, st.SplitSequences(micro))
		}
		_, g, err := st.RunWithGraph(b, amopo.NoiseTensor(1, 0, 1, 4), true)
		require.NoError(t, err)
		if micro == 0 {
			require.Positive(t, wholeSized(g), "the whole step's graph has batch-sized nodes")
		} else {
			require.Zero(t, wholeSized(g), "groups of %d: batch-sized nodes in the update graph", micro)
		}
	}
}

// TestMicroSequencesRefusesNegative: the config refuses a negative micro_sequences by
// key, and the stepper a group of no sequence.
func TestMicroSequencesRefusesNegative(t *testing.T) {
	cfg := Defaults()
	cfg.Pref.MicroSequences = -1
	require.ErrorContains(t, cfg.Validate(), "preference.micro_sequences = -1")
	cfg = Defaults()
	cfg.SFT.MicroSequences = 2
	require.NoError(t, cfg.Validate())
	st, err := NewStepper(toyBackend(t), toyContext(t, 1), toyModel, PreferenceStep, prefParams(t), DefaultOptimizer(1e-3), 10, 1)
	require.NoError(t, err)
	require.ErrorContains(t, st.SplitSequences(0), "micro_sequences = 0")
}

// TestRunStageSplitsByMicroSequences: the stage key micro_sequences reaches the loop's
// steppers, training and held-out evaluation, SFT and preference: the model is only ever
// built on groups of at most that many sequences, and the stages log the losses of the
// unsplit run.
func TestRunStageSplitsByMicroSequences(t *testing.T) {
	p := spec.Defaults(spec.AMoPO)
	p.Dimensions, p.Seed = []string{"a", "b"}, 11
	run := func(sftMicro, prefMicro int) (losses []float64, rows map[int]bool) {
		rows = map[int]bool{}
		model := func(ctx *context.Context, tokens, attention, positions *Node) *Node {
			rows[tokens.Shape().Dimensions[0]] = true
			return toyModel(ctx, tokens, attention, positions)
		}
		r := &Run{Backend: toyBackend(t), Ctx: toyContext(t, 11), Model: model, OutDir: t.TempDir(), Seed: 11,
			Log: io.Discard, LogEvery: 1, ConfigText: "toy"}
		defer r.Close()
		record := func(_ int, m map[string]float64) {
			for _, name := range []string{"loss", "eval_loss"} {
				if v, ok := m[name]; ok {
					losses = append(losses, v)
				}
			}
		}
		for _, st := range []Stage{
			{Name: "sft", Kind: SFTStep, Train: toySource{batches: 3, b: 4, k: 1, s: 8, sft: true, seed: 1}, OnMetrics: record,
				Config: StageConfig{Steps: 3, BatchSize: 4, GradAccum: 1, MicroSequences: sftMicro, Optimizer: DefaultOptimizer(0.05)}},
			{Name: "preference", Kind: PreferenceStep, Params: p, OnMetrics: record,
				Train: toySource{batches: 4, b: 2, k: 2, s: 8, seed: 2}, Eval: toySource{batches: 1, b: 2, k: 2, s: 8, seed: 3},
				Config: StageConfig{Steps: 2, BatchSize: 2, GradAccum: 2, MicroSequences: prefMicro, Optimizer: DefaultOptimizer(0.02)}},
		} {
			require.NoError(t, r.RunStage(st))
		}
		return losses, rows
	}
	want, wholeRows := run(0, 0)
	require.True(t, wholeRows[8], "the unsplit preference step runs 8 sequences at once")
	got, rows := run(1, 3)
	for n := range rows {
		require.LessOrEqual(t, n, 3, "a model graph on %d sequences", n)
	}
	require.Len(t, got, len(want))
	require.InDeltaSlice(t, want, got, 1e-5)
}
