package trainer

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
)

// OptimizerConfig is AdamW with decoupled weight decay, a cosine learning-rate schedule
// after a linear warm-up, and gradient clipping by global norm.
type OptimizerConfig struct {
	LR          float64 `json:"lr" yaml:"lr"`
	MinLRRatio  float64 `json:"min_lr_ratio" yaml:"min_lr_ratio"` // the cosine ends at LR*MinLRRatio
	WarmupSteps int     `json:"warmup_steps" yaml:"warmup_steps"`
	Beta1       float64 `json:"beta1" yaml:"beta1"`
	Beta2       float64 `json:"beta2" yaml:"beta2"`
	Epsilon     float64 `json:"epsilon" yaml:"epsilon"`
	WeightDecay float64 `json:"weight_decay" yaml:"weight_decay"`
	ClipNorm    float64 `json:"clip_norm" yaml:"clip_norm"` // 0 disables clipping
}

// DefaultOptimizer returns the usual AdamW settings of preference-tuning recipes.
func DefaultOptimizer(lr float64) OptimizerConfig {
	return OptimizerConfig{LR: lr, MinLRRatio: 0.1, WarmupSteps: 10, Beta1: 0.9, Beta2: 0.999,
		Epsilon: 1e-8, WeightDecay: 0.0, ClipNorm: 1.0}
}

// Validate checks the numbers, the key of each named under prefix (e.g.
// "preference.optimizer"): finite, learning rates >= 0 (a stage that trains needs > 0,
// see Config.Validate), betas in [0, 1), epsilon > 0, weight decay and clip norm >= 0.
func (o OptimizerConfig) Validate(prefix string) error {
	inf := math.Inf(1)
	for _, c := range []struct {
		key              string
		v, lo, hi        float64
		loClosed, hiOpen bool
	}{
		{"lr", o.LR, 0, inf, true, true},
		{"min_lr_ratio", o.MinLRRatio, 0, 1, true, false},
		{"beta1", o.Beta1, 0, 1, true, true},
		{"beta2", o.Beta2, 0, 1, true, true},
		{"epsilon", o.Epsilon, 0, inf, false, true},
		{"weight_decay", o.WeightDecay, 0, inf, true, true},
		{"clip_norm", o.ClipNorm, 0, inf, true, true},
	} {
		if err := checkRange(prefix+"."+c.key, c.v, c.lo, c.hi, c.loClosed, !c.hiOpen); err != nil {
			return err
		}
	}
	if o.WarmupSteps < 0 {
		return fmt.Errorf("%s.warmup_steps = %d: must be >= 0", prefix, o.WarmupSteps)
	}
	return nil
}

// LearningRate is the schedule on the host, for logs and tests: step counts from 0.
func (o OptimizerConfig) LearningRate(step, totalSteps int) float64 {
	if o.WarmupSteps > 0 && step < o.WarmupSteps {
		return o.LR * float64(step+1) / float64(o.WarmupSteps)
	}
	decay := totalSteps - o.WarmupSteps
	if decay <= 0 {
		return o.LR
	}
	progress := math.Min(1, float64(step-o.WarmupSteps)/float64(decay))
	minLR := o.LR * o.MinLRRatio
	return minLR + (o.LR-minLR)*0.5*(1+math.Cos(math.Pi*progress))
}

// optimizerScope holds the optimizer state: the step counter and the moments.
const optimizerScope = "optimizer"

// stepVar is the optimizer's step counter (int64 so that resuming is exact).
func stepVar(state *context.Context) *context.Variable {
	return state.VariableWithValue("step", int64(0)).SetTrainable(false)
}

// learningRateGraph is LearningRate in the graph, for the step counter's value.
func (o OptimizerConfig) learningRateGraph(step *Node, totalSteps int) *Node {
	g := step.Graph()
	s := ConvertDType(step, dtypes.Float64)
	lr := func(x float64) *Node { return Scalar(g, dtypes.Float64, x) }
	warm := Div(AddScalar(s, 1), lr(float64(max(o.WarmupSteps, 1))))
	decay := float64(max(totalSteps-o.WarmupSteps, 1))
	progress := MinScalar(MaxScalar(DivScalar(AddScalar(s, -float64(o.WarmupSteps)), decay), 0), 1)
	minLR := o.LR * o.MinLRRatio
	cosine := AddScalar(MulScalar(OnePlus(Cos(MulScalar(progress, math.Pi))), 0.5*(o.LR-minLR)), minLR)
	if o.WarmupSteps <= 0 {
		return cosine
	}
	return Where(LessThan(s, lr(float64(o.WarmupSteps))), MulScalar(warm, o.LR), cosine)
}

// apply builds the update of every trainable variable from its gradient: clipping by
// global norm, then AdamW. It returns the gradient norm before clipping and the learning
// rate used. vars and grads are aligned. Each stage has its own optimizer state (step
// counter and moments) under /optimizer/<stage>.
func (o OptimizerConfig) apply(ctx *context.Context, stage string, vars []*context.Variable, grads []*Node, totalSteps int) (gradNorm, lr *Node) {
	g := grads[0].Graph()
	state := ctx.InAbsPath("/" + optimizerScope + "/" + stage).Checked(false).WithInitializer(initializers.Zero)
	sv := stepVar(state)
	step := sv.ValueGraph(g)
	lr = o.learningRateGraph(step, totalSteps)
	sv.SetValueGraph(AddScalar(step, 1))

	sumSquares := Scalar(g, dtypes.Float32, 0)
	for _, grad := range grads {
		sumSquares = Add(sumSquares, ConvertDType(ReduceAllSum(Square(ConvertDType(grad, dtypes.Float32))), dtypes.Float32))
	}
	gradNorm = Sqrt(sumSquares)
	scale := Scalar(g, dtypes.Float32, 1)
	if o.ClipNorm > 0 {
		scale = Div(Scalar(g, dtypes.Float32, o.ClipNorm), MaxScalar(gradNorm, o.ClipNorm))
	}
	// Bias corrections, in float64 for exactness at large step counts.
	t := ConvertDType(AddScalar(step, 1), dtypes.Float64)
	bc1 := OneMinus(Pow(Scalar(g, dtypes.Float64, o.Beta1), t))
	bc2 := OneMinus(Pow(Scalar(g, dtypes.Float64, o.Beta2), t))
	for i, v := range vars {
		dtype := v.Shape().DType
		grad := Mul(ConvertDType(grads[i], dtypes.Float32), scale)
		zeros := shapes.Make(dtypes.Float32, v.Shape().Dimensions...)
		mVar := state.In("m").VariableWithShape(momentName(v), zeros).SetTrainable(false)
		vVar := state.In("v").VariableWithShape(momentName(v), zeros).SetTrainable(false)
		m := Add(MulScalar(mVar.ValueGraph(g), o.Beta1), MulScalar(grad, 1-o.Beta1))
		s := Add(MulScalar(vVar.ValueGraph(g), o.Beta2), MulScalar(Square(grad), 1-o.Beta2))
		mVar.SetValueGraph(m)
		vVar.SetValueGraph(s)
		mHat := Div(m, ConvertDType(bc1, dtypes.Float32))
		sHat := Div(s, ConvertDType(bc2, dtypes.Float32))
		update := Div(mHat, AddScalar(Sqrt(sHat), o.Epsilon))
		weights := ConvertDType(v.ValueGraph(g), dtypes.Float32)
		if o.WeightDecay > 0 {
			update = Add(update, MulScalar(weights, o.WeightDecay))
		}
		newWeights := Sub(weights, Mul(update, ConvertDType(lr, dtypes.Float32)))
		v.SetValueGraph(ConvertDType(newWeights, dtype))
	}
	return gradNorm, lr
}

// momentName flattens a variable's scope and name into one moment-variable name.
func momentName(v *context.Variable) string {
	name := []byte(v.ScopeAndName())
	for i, c := range name {
		if c == '/' {
			name[i] = '.'
		}
	}
	return string(name)
}
