package engine_test

import (
	"math"
	"math/rand/v2"
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
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
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

// tinyBatch is trainer.BenchmarkStep's batch: random tokens, the second half of each
// sequence is the response. Arguments: tokens, response, attention, positions.
func tinyBatch(vocab, pairs, k, seqLen int) []*tensors.Tensor {
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
	return []*tensors.Tensor{
		tensors.FromFlatDataAndDimensions(tok, dims...),
		tensors.FromFlatDataAndDimensions(resp, dims...),
		tensors.FromFlatDataAndDimensions(att, dims...),
		tensors.FromFlatDataAndDimensions(pos, dims...),
	}
}

// tinyStep is the trainer's preference step graph (trainer/step.go build + optim.go
// apply, copied since they are unexported): llm.Forward, amopo.TokenLogProbs, the AMoPO
// loss, gradients, gradient clipping and AdamW. Inputs: tokens, response, attention,
// positions, noise. Outputs: loss, grad_norm (float64).
func tinyStep(cfg *llm.Config, p spec.Params, opt trainer.OptimizerConfig, totalSteps int) func(ctx *context.Context, inputs []*Node) []*Node {
	return func(ctx *context.Context, inputs []*Node) []*Node {
		ctx = ctx.Checked(false)
		g := inputs[0].Graph()
		tokens, response, attention, positions := inputs[0], inputs[1], inputs[2], inputs[3]
		dims := tokens.Shape().Dimensions
		seqLen := dims[len(dims)-1]
		n := tokens.Shape().Size() / seqLen
		flat := func(x *Node) *Node { return Reshape(x, n, seqLen) }
		logits := llm.Forward(ctx.In("model"), cfg, flat(tokens), flat(attention), flat(positions))
		logps, mask := amopo.TokenLogProbs(logits, flat(tokens), flat(response))
		b, k := dims[0], dims[1]
		out := amopo.New(amopo.Inputs{
			Logps: Reshape(logps, b, k, 2, seqLen),
			Mask:  Reshape(mask, b, k, 2, seqLen),
			Noise: inputs[4],
		}).Params(p).Done()
		var vars []*context.Variable
		var values []*Node
		ctx.In("model").EnumerateVariables(func(v *context.Variable) {
			if v.Trainable && v.InUseByGraph(g) {
				vars = append(vars, v)
				values = append(values, v.ValueGraph(g))
			}
		})
		grads := Gradient(out.Loss, values...)
		gradNorm := adamW(ctx, opt, vars, grads, totalSteps)
		return []*Node{ConvertDType(out.Loss, dtypes.Float64), ConvertDType(gradNorm, dtypes.Float64)}
	}
}

// adamW is trainer.OptimizerConfig.apply (unexported there): clipping by global norm,
// then AdamW with the cosine schedule after warm-up. Returns the gradient norm.
func adamW(ctx *context.Context, o trainer.OptimizerConfig, vars []*context.Variable, grads []*Node, totalSteps int) *Node {
	g := grads[0].Graph()
	state := ctx.InAbsPath("/optimizer/preference").Checked(false).WithInitializer(initializers.Zero)
	sv := state.VariableWithValue("step", int64(0)).SetTrainable(false)
	step := sv.ValueGraph(g)
	// The learning rate schedule (trainer's learningRateGraph).
	s := ConvertDType(step, dtypes.Float64)
	c := func(x float64) *Node { return Scalar(g, dtypes.Float64, x) }
	warm := Div(AddScalar(s, 1), c(float64(max(o.WarmupSteps, 1))))
	decay := float64(max(totalSteps-o.WarmupSteps, 1))
	progress := MinScalar(MaxScalar(DivScalar(AddScalar(s, -float64(o.WarmupSteps)), decay), 0), 1)
	minLR := o.LR * o.MinLRRatio
	lr := AddScalar(MulScalar(OnePlus(Cos(MulScalar(progress, math.Pi))), 0.5*(o.LR-minLR)), minLR)
	if o.WarmupSteps > 0 {
		lr = Where(LessThan(s, c(float64(o.WarmupSteps))), MulScalar(warm, o.LR), lr)
	}
	sv.SetValueGraph(AddScalar(step, 1))

	sumSquares := Scalar(g, dtypes.Float32, 0)
	for _, grad := range grads {
		sumSquares = Add(sumSquares, ConvertDType(ReduceAllSum(Square(ConvertDType(grad, dtypes.Float32))), dtypes.Float32))
	}
	gradNorm := Sqrt(sumSquares)
	scale := Scalar(g, dtypes.Float32, 1)
	if o.ClipNorm > 0 {
		scale = Div(Scalar(g, dtypes.Float32, o.ClipNorm), MaxScalar(gradNorm, o.ClipNorm))
	}
	t := ConvertDType(AddScalar(step, 1), dtypes.Float64)
	bc1 := OneMinus(Pow(Scalar(g, dtypes.Float64, o.Beta1), t))
	bc2 := OneMinus(Pow(Scalar(g, dtypes.Float64, o.Beta2), t))
	for i, v := range vars {
		dtype := v.Shape().DType
		grad := Mul(ConvertDType(grads[i], dtypes.Float32), scale)
		zeros := shapes.Make(dtypes.Float32, v.Shape().Dimensions...)
		name := v.ScopeAndName()
		mVar := state.In("m").VariableWithShape(momentKey(name), zeros).SetTrainable(false)
		vVar := state.In("v").VariableWithShape(momentKey(name), zeros).SetTrainable(false)
		m := Add(MulScalar(mVar.ValueGraph(g), o.Beta1), MulScalar(grad, 1-o.Beta1))
		sq := Add(MulScalar(vVar.ValueGraph(g), o.Beta2), MulScalar(Square(grad), 1-o.Beta2))
		mVar.SetValueGraph(m)
		vVar.SetValueGraph(sq)
		mHat := Div(m, ConvertDType(bc1, dtypes.Float32))
		sHat := Div(sq, ConvertDType(bc2, dtypes.Float32))
		update := Div(mHat, AddScalar(Sqrt(sHat), o.Epsilon))
		weights := ConvertDType(v.ValueGraph(g), dtypes.Float32)
		if o.WeightDecay > 0 {
			update = Add(update, MulScalar(weights, o.WeightDecay))
		}
		v.SetValueGraph(ConvertDType(Sub(weights, Mul(update, ConvertDType(lr, dtypes.Float32))), dtype))
	}
	return gradNorm
}

func momentKey(scopeAndName string) string {
	b := []byte(scopeAndName)
	for i, c := range b {
		if c == '/' {
			b[i] = '.'
		}
	}
	return string(b)
}

// tinyRun holds a compiled training step of the default model on one backend.
type tinyRun struct {
	exec  *context.Exec
	batch []*tensors.Tensor
	p     spec.Params
}

func newTinyRun(t testing.TB, backend backends.Backend, steps int) *tinyRun {
	cfg, err := trainer.PresetConfig("tiny", tinyVocab)
	require.NoError(t, err)
	ctx := context.New()
	// Host initialisation (no RNG op): the same weights for every backend.
	require.NoError(t, llm.InitRandom(ctx.In("model"), cfg, 1, dtypes.Float32))
	p := spec.Defaults(spec.AMoPO)
	require.NoError(t, p.Validate())
	exec, err := context.NewExec(backend, ctx, tinyStep(cfg, p, trainer.DefaultOptimizer(tinyLR), steps))
	require.NoError(t, err)
	return &tinyRun{exec: exec, batch: tinyBatch(cfg.VocabSize, tinyPairs, p.K(), tinySeqLen), p: p}
}

// step runs training step i and returns the loss and gradient norm.
func (r *tinyRun) step(t testing.TB, i int) (loss, gradNorm float64) {
	args := make([]any, 0, 5)
	for _, b := range r.batch {
		args = append(args, b)
	}
	args = append(args, amopo.NoiseTensor(1, uint64(i), tinyPairs, r.p.K()))
	outs, err := r.exec.Exec(args...)
	require.NoError(t, err, "step %d", i)
	loss, gradNorm = tensors.ToScalar[float64](outs[0]), tensors.ToScalar[float64](outs[1])
	for _, o := range outs {
		o.FinalizeAll()
	}
	return loss, gradNorm
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
	args := make([]any, 0, 5)
	for _, b := range r.batch {
		args = append(args, b)
	}
	args = append(args, amopo.NoiseTensor(1, 0, tinyPairs, r.p.K()))
	_, g, err := r.exec.ExecWithGraph(args...)
	require.NoError(t, err)
	return graphOps(g), len(g.Nodes())
}
