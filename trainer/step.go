package trainer

import (
	"fmt"
	"sort"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
)

// Model is any GoMLX causal language model: logits [N, S, V] from token ids, attention
// mask and position ids, all [N, S].
type Model func(ctx *context.Context, tokens, attention, positions *Node) *Node

// Batch is one (micro-)batch in host tensors. Preference batches are [B, K, 2, S]
// (axis 2: chosen, rejected) with RefSums [B, K, 2] for the losses that need them; SFT
// batches are [B, S]. Response is 1 on the tokens the loss scores.
type Batch struct {
	Tokens, Response, Attention, Positions *tensors.Tensor
	RefSums                                *tensors.Tensor
	// MarginRewards [B, K, 2, M]: MODPO's other-objective rewards (lossinputs.go).
	MarginRewards *tensors.Tensor
	// Tokens counts the non-padding tokens, for tokens/s.
	NumTokens int
}

// StepKind selects what a step graph computes.
type StepKind int

const (
	SFTStep StepKind = iota
	PreferenceStep
	EvalStep // preference metrics, no update
)

var stageNames = map[StepKind]string{SFTStep: "sft", PreferenceStep: "preference", EvalStep: "eval"}

// Stepper compiles and runs the step graphs of one stage (the trainer's own, exported so
// that backends and benchmarks run exactly what it trains): with gradient accumulation,
// micro-steps add their gradients to accumulators and the last one applies the update.
type Stepper struct {
	kind        StepKind
	ctx         *context.Context
	params      spec.Params
	opt         OptimizerConfig
	totalSteps  int
	accumSteps  int
	execs       map[bool]*context.Exec // keyed by "apply the update"
	metricNames map[bool][]string      // per graph: the names of its outputs
	model       Model
	// logitsChunkBytes bounds the float32 logits that exist at once for a model that gives
	// its LM head (HeadLogits): LogitsChunkBytes, lowered by tests.
	logitsChunkBytes int
	backend          backends.Backend
	// split, when set (SplitSequences), runs each step sequence group by sequence group.
	split *seqSplit
}

func NewStepper(backend backends.Backend, ctx *context.Context, model Model, kind StepKind, p spec.Params,
	opt OptimizerConfig, totalSteps, accumSteps int) (*Stepper, error) {
	s := &Stepper{kind: kind, ctx: ctx, params: p, opt: opt, totalSteps: totalSteps,
		accumSteps: max(accumSteps, 1), execs: map[bool]*context.Exec{}, model: model,
		metricNames: map[bool][]string{}, logitsChunkBytes: LogitsChunkBytes, backend: backend}
	for _, apply := range []bool{false, true} {
		if kind == EvalStep && apply {
			continue
		}
		apply := apply
		exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, inputs []*Node) []*Node {
			// Both graphs share the model and optimizer variables: whichever is built first
			// creates them.
			return s.build(ctx.Checked(false), inputs, apply)
		})
		if err != nil {
			return nil, err
		}
		s.execs[apply] = exec
	}
	return s, nil
}

// build is the step graph. inputs: tokens, response, attention, positions, noise,
// [refSums]. Outputs: the metrics in s.metricNames order.
func (s *Stepper) build(ctx *context.Context, inputs []*Node, apply bool) []*Node {
	g := inputs[0].Graph()
	tokens, response, attention, positions := inputs[0], inputs[1], inputs[2], inputs[3]
	dims := tokens.Shape().Dimensions
	seqLen := dims[len(dims)-1]
	n := tokens.Shape().Size() / seqLen
	flat := func(x *Node) *Node { return Reshape(x, n, seqLen) }
	logps, mask := s.tokenLogProbs(ctx.In("model"), flat(tokens), flat(attention), flat(positions), flat(response))
	loss, metrics := s.lossOf(logps, mask, dims, inputs[4:])
	if s.kind != EvalStep {
		vars, values := trainableVariables(ctx, g)
		grads := Gradient(DivScalar(loss, float64(s.accumSteps)), values...)
		s.update(ctx, vars, grads, apply, s.accumSteps > 1, metrics)
	}
	var outs []*Node
	s.metricNames[apply], outs = metricOutputs(metrics)
	return outs
}

// lossOf is the stage's loss, and its metrics, of the token log-probs and mask [N, S] of
// a batch whose tokens are dims ([B, K, 2, S] or [B, S]). rest are the step's inputs
// after the model's: the noise, then lossArgs's.
func (s *Stepper) lossOf(logps, mask *Node, dims []int, rest []*Node) (loss *Node, metrics map[string]*Node) {
	seqLen := dims[len(dims)-1]
	if s.kind == SFTStep {
		maskF := ConvertDType(mask, logps.DType())
		count := MaxScalar(ReduceAllSum(maskF), 1)
		loss = Div(Neg(ReduceAllSum(Mul(logps, maskF))), count)
		return loss, map[string]*Node{"loss": loss, "nll_loss": loss}
	}
	b, k := dims[0], dims[1]
	in := amopo.Inputs{
		Logps: Reshape(logps, b, k, 2, seqLen),
		Mask:  Reshape(mask, b, k, 2, seqLen),
		Noise: rest[0],
	}
	routeLossInputs(&in, s.params, rest[1:])
	out := amopo.New(in).Params(s.params).Done()
	return out.Loss, out.Metrics()
}

// update adds grads into the accumulators when accumulateGrads and, when apply, clips
// them and takes the AdamW step, adding grad_norm and learning_rate to metrics.
func (s *Stepper) update(ctx *context.Context, vars []*context.Variable, grads []*Node, apply, accumulateGrads bool, metrics map[string]*Node) {
	if accumulateGrads {
		grads = accumulate(ctx, vars, grads, apply)
	}
	if apply {
		gradNorm, lr := s.opt.apply(ctx, stageNames[s.kind], vars, grads, s.totalSteps)
		metrics["grad_norm"] = gradNorm
		metrics["learning_rate"] = lr
	}
}

// metricOutputs orders metrics by name, as float64 graph outputs.
func metricOutputs(metrics map[string]*Node) ([]string, []*Node) {
	names := make([]string, 0, len(metrics))
	for name := range metrics {
		names = append(names, name)
	}
	sort.Strings(names)
	outs := make([]*Node, len(names))
	for i, name := range names {
		outs[i] = ConvertDType(metrics[name], dtypes.Float64)
	}
	return names, outs
}

// trainableVariables lists the trainable variables the graph uses, in a stable order,
// with their values in the graph.
func trainableVariables(ctx *context.Context, g *Graph) ([]*context.Variable, []*Node) {
	var vars []*context.Variable
	var values []*Node
	ctx.EnumerateVariables(func(v *context.Variable) {
		if v.Trainable && v.InUseByGraph(g) {
			vars = append(vars, v)
			values = append(values, v.ValueGraph(g))
		}
	})
	if len(vars) == 0 {
		panic(fmt.Errorf("trainer: the model has no trainable variables"))
	}
	return vars, values
}

// accumulate adds this micro-step's gradients to the accumulators and returns the sums.
// On the micro-step that applies the update it resets the accumulators instead of
// storing the sums.
func accumulate(ctx *context.Context, vars []*context.Variable, grads []*Node, apply bool) []*Node {
	state := ctx.InAbsPath("/accumulated").Checked(false).WithInitializer(initializers.Zero)
	sums := make([]*Node, len(grads))
	for i, v := range vars {
		acc := state.VariableWithShape(momentName(v), grads[i].Shape()).SetTrainable(false)
		sums[i] = Add(acc.ValueGraph(grads[i].Graph()), grads[i])
		if apply {
			acc.SetValueGraph(ZerosLike(sums[i]))
		} else {
			acc.SetValueGraph(sums[i])
		}
	}
	return sums
}

// Run executes one (micro-)step and returns its metrics by name (TRL's names, plus
// grad_norm and learning_rate when it applied the update).
func (s *Stepper) Run(batch *Batch, noise *tensors.Tensor, apply bool) (map[string]float64, error) {
	m, _, err := s.RunWithGraph(batch, noise, apply)
	return m, err
}

// RunWithGraph is Run that also returns the graph it executed (to inspect its ops); for a
// step split by SplitSequences, the last sequence group's update graph.
func (s *Stepper) RunWithGraph(batch *Batch, noise *tensors.Tensor, apply bool) (map[string]float64, *Graph, error) {
	apply = apply && s.kind != EvalStep
	if s.split != nil {
		return s.runSplit(batch, noise, apply)
	}
	tail, err := s.lossTail(batch, noise)
	if err != nil {
		return nil, nil, err
	}
	args := append([]any{batch.Tokens, batch.Response, batch.Attention, batch.Positions}, tail...)
	outs, g, err := s.execs[apply].ExecWithGraph(args...)
	if err != nil {
		return nil, nil, err
	}
	m := make(map[string]float64, len(outs))
	readMetrics(m, s.metricNames[apply], outs)
	return m, g, nil
}

// lossTail is the step's inputs after the model's: the noise, then lossArgs's.
func (s *Stepper) lossTail(batch *Batch, noise *tensors.Tensor) ([]any, error) {
	if s.kind == SFTStep {
		// The SFT graph ignores the noise input: give it a constant so the signature is fixed.
		return []any{tensors.FromScalar(float32(0))}, nil
	}
	extra, err := lossArgs(s.params, batch)
	if err != nil {
		return nil, err
	}
	return append([]any{noise}, extra...), nil
}

// readMetrics stores the scalar outputs under their names in m and frees them.
func readMetrics(m map[string]float64, names []string, outs []*tensors.Tensor) {
	for i, name := range names {
		m[name] = tensors.ToScalar[float64](outs[i])
		outs[i].FinalizeAll()
	}
}
