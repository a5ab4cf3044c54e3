package trainer

import (
	"errors"
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
)

// A step split by sequences (SplitSequences, the stage key micro_sequences) computes the
// gradient of one batch a few sequences at a time, so that the model's activations exist
// for M sequences at once instead of all N = B·K·2 of a preference batch.
//
// Every loss of the trainer is a function of the per-token log-probs logp [N, S] (with
// the mask, the noise and the loss's other inputs, none of them depending on the
// weights), so by the chain rule
//
//	dL/dθ = Σ_n Σ_t dL/dlogp[n, t] · dlogp[n, t]/dθ.
//
// The step therefore runs in four parts:
//  1. the log-probs of the N sequences, forward only, M sequences at a time, gathered on
//     the host ([N, S], small);
//  2. the loss graph on those log-probs as an input: the loss, its metrics and the
//     coefficients c = dL/dlogp / grad_accum [N, S] (the same noise, so the same Gaussian
//     weights, which carry no gradient in any case);
//  3. per group of M sequences, the gradient of the surrogate Σ logp·c over the group's
//     rows (c a constant), added into the gradient accumulators;
//  4. at the end of the optimizer step, a graph of its own clips the accumulated gradient
//     and applies AdamW as the whole step does, and zeroes the accumulators. Kept apart
//     from the last group's backward, the optimizer's parameter-sized tensors (the moments'
//     update, the accumulators' reset) never coexist with the model's activations and
//     that group's gradient. A batch that is one group of an optimizer step of one
//     micro-batch needs no accumulator: its update graph applies the step itself.
//
// The sum of the groups' gradients is the whole step's gradient, up to float32 rounding
// (TestSplitStepEqualsWholeStep). The price is one more forward pass over the batch (pass
// 1) and, when there is more than one group or micro-batch, the accumulators (a
// parameter-sized copy of the gradient).

// seqSplit holds the graphs of a split step.
type seqSplit struct {
	micro     int
	logps     *context.Exec // pass 1: [M, S] inputs -> logps, mask
	loss      *Exec         // pass 2: logps, mask, noise, loss args -> metrics, [coefficients]
	lossNames []string
	update    map[splitUpdate]*context.Exec // pass 3: [M, S] inputs and coefficients
	// updateNames are the metric outputs of each update graph (grad_norm and
	// learning_rate when it applies the update; none otherwise).
	updateNames map[splitUpdate][]string
	// optimize is pass 4, from the accumulators: it applies the update of vars, the
	// trainable variables the update graphs found, and gives optimizeNames.
	optimize      *context.Exec
	vars          []*context.Variable
	optimizeNames []string
}

// splitUpdate keys the update graphs: whether it applies the optimizer step and whether
// it adds into the accumulators (not when one group makes the whole optimizer step).
type splitUpdate struct{ apply, accumulate bool }

// SplitSequences makes each step compute its gradient micro sequences at a time (see
// seqsplit.go): the same update, with the model's activations of micro sequences at
// once instead of the whole batch's, for one more forward pass. Call it before the first
// Run. micro >= the batch's sequences runs the batch as one group, still with the extra
// forward pass.
func (s *Stepper) SplitSequences(micro int) error {
	if micro < 1 {
		return fmt.Errorf("trainer: micro_sequences = %d: must be >= 1 to split a step", micro)
	}
	sp := &seqSplit{micro: micro, update: map[splitUpdate]*context.Exec{}, updateNames: map[splitUpdate][]string{}}
	var err error
	if sp.logps, err = context.NewExec(s.backend, s.ctx, func(ctx *context.Context, in []*Node) []*Node {
		logps, mask := s.tokenLogProbs(ctx.Checked(false).In("model"), in[0], in[2], in[3], in[1])
		return []*Node{logps, mask}
	}); err != nil {
		return err
	}
	if sp.loss, err = NewExec(s.backend, func(in []*Node) []*Node { return s.buildSplitLoss(sp, in) }); err != nil {
		return err
	}
	if s.kind != EvalStep {
		for _, key := range []splitUpdate{{false, false}, {false, true}, {true, false}} {
			key := key
			if sp.update[key], err = context.NewExec(s.backend, s.ctx, func(ctx *context.Context, in []*Node) []*Node {
				return s.buildSplitUpdate(ctx.Checked(false), sp, key, in)
			}); err != nil {
				return err
			}
		}
		if sp.optimize, err = context.NewExec(s.backend, s.ctx, func(ctx *context.Context, g *Graph) []*Node {
			return s.buildSplitOptimize(ctx.Checked(false), g, sp)
		}); err != nil {
			return err
		}
	}
	s.split = sp
	return nil
}

// buildSplitLoss is pass 2's graph. in: logps and mask shaped like the batch's tokens,
// then the noise and lossArgs's. Outputs: the metrics in sp.lossNames order, then (when
// the stepper trains) dL/dlogps / accumSteps, shaped like logps.
func (s *Stepper) buildSplitLoss(sp *seqSplit, in []*Node) []*Node {
	dims := in[0].Shape().Dimensions
	seqLen := dims[len(dims)-1]
	n := in[0].Shape().Size() / seqLen
	loss, metrics := s.lossOf(Reshape(in[0], n, seqLen), Reshape(in[1], n, seqLen), dims, in[2:])
	names, outs := metricOutputs(metrics)
	sp.lossNames = names
	if s.kind != EvalStep {
		outs = append(outs, Gradient(DivScalar(loss, float64(s.accumSteps)), in[0])[0])
	}
	return outs
}

// buildSplitUpdate is pass 3's graph for one group. in: tokens, response, attention,
// positions and the coefficients, all [M, S].
func (s *Stepper) buildSplitUpdate(ctx *context.Context, sp *seqSplit, key splitUpdate, in []*Node) []*Node {
	g := in[0].Graph()
	logps, _ := s.tokenLogProbs(ctx.In("model"), in[0], in[2], in[3], in[1])
	surrogate := ReduceAllSum(Mul(ConvertDType(logps, dtypes.Float32), ConvertDType(in[4], dtypes.Float32)))
	vars, values := trainableVariables(ctx, g)
	sp.vars = vars
	metrics := map[string]*Node{}
	s.update(ctx, vars, Gradient(surrogate, values...), key.apply, key.accumulate, metrics)
	names, outs := metricOutputs(metrics)
	sp.updateNames[key] = names
	if len(outs) == 0 {
		outs = []*Node{surrogate} // a graph needs an output; this one is read by nothing
	}
	return outs
}

// buildSplitOptimize is pass 4's graph: the update from the accumulated gradients, which
// it resets to zero. Outputs: grad_norm and learning_rate, in sp.optimizeNames order.
func (s *Stepper) buildSplitOptimize(ctx *context.Context, g *Graph, sp *seqSplit) []*Node {
	if len(sp.vars) == 0 {
		panic(fmt.Errorf("trainer: the split step's optimizer graph built before any update graph"))
	}
	state := ctx.InAbsPath("/accumulated").Checked(false).WithInitializer(initializers.Zero)
	accs := make([]*context.Variable, len(sp.vars))
	grads := make([]*Node, len(sp.vars))
	for i, v := range sp.vars {
		accs[i] = state.VariableWithShape(momentName(v), v.Shape()).SetTrainable(false)
		grads[i] = accs[i].ValueGraph(g)
	}
	metrics := map[string]*Node{}
	s.update(ctx, sp.vars, grads, true, false, metrics)
	// The reset is 0·(the variable's new value), not a constant zero: a constant depends
	// on nothing, and the executor would fill all the parameter-sized zeros at the start,
	// next to the AdamW temporaries; this way each is made once its variable is updated.
	// (Non-finite new weights, a run already lost, would leave NaN accumulators.)
	for i, v := range sp.vars {
		accs[i].SetValueGraph(MulScalar(ConvertDType(v.ValueGraph(g), grads[i].DType()), 0))
	}
	var outs []*Node
	sp.optimizeNames, outs = metricOutputs(metrics)
	return outs
}

// runSplit is Run for a split step.
func (s *Stepper) runSplit(batch *Batch, noise *tensors.Tensor, apply bool) (map[string]float64, *Graph, error) {
	sp := s.split
	dims := batch.Tokens.Shape().Dimensions
	seqLen := dims[len(dims)-1]
	n := batch.Tokens.Shape().Size() / seqLen
	var groups [][2]int
	for lo := 0; lo < n; lo += sp.micro {
		groups = append(groups, [2]int{lo, min(lo+sp.micro, n)})
	}
	rows := func(lo, hi int, ts ...*tensors.Tensor) ([]any, error) {
		out := make([]any, len(ts))
		for i, t := range ts {
			r, err := rowsOf(t, n, lo, hi)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	model := []*tensors.Tensor{batch.Tokens, batch.Response, batch.Attention, batch.Positions}

	// Pass 1: the log-probs, forward only.
	var logParts, maskParts []*tensors.Tensor
	for _, gr := range groups {
		args, err := rows(gr[0], gr[1], model...)
		if err != nil {
			return nil, nil, err
		}
		outs, err := sp.logps.Exec(args...)
		if err != nil {
			return nil, nil, err
		}
		logParts, maskParts = append(logParts, outs[0]), append(maskParts, outs[1])
	}
	logps, err := concatRows(logParts, dims)
	if err != nil {
		return nil, nil, err
	}
	mask, err := concatRows(maskParts, dims)
	if err != nil {
		return nil, nil, err
	}

	// Pass 2: the loss, its metrics and the coefficients.
	tail, err := s.lossTail(batch, noise)
	if err != nil {
		return nil, nil, err
	}
	outs, err := sp.loss.Exec(append([]any{logps, mask}, tail...)...)
	logps.FinalizeAll()
	mask.FinalizeAll()
	if err != nil {
		return nil, nil, err
	}
	m := map[string]float64{}
	readMetrics(m, sp.lossNames, outs)
	if s.kind == EvalStep {
		return m, nil, nil
	}
	coef := outs[len(sp.lossNames)]
	defer coef.FinalizeAll()

	// Pass 3: the gradient group by group, into the accumulators unless this one group
	// makes the whole optimizer step and applies it.
	var g *Graph
	accumulate := s.accumSteps > 1 || len(groups) > 1
	for _, gr := range groups {
		key := splitUpdate{apply: apply && !accumulate, accumulate: accumulate}
		args, err := rows(gr[0], gr[1], model...)
		if err != nil {
			return nil, nil, err
		}
		c, err := rowsOf(coef, n, gr[0], gr[1])
		if err != nil {
			return nil, nil, err
		}
		args = append(args, c)
		var outs []*tensors.Tensor
		if outs, g, err = sp.update[key].ExecWithGraph(args...); err != nil {
			return nil, nil, err
		}
		readMetrics(m, sp.updateNames[key], outs)
		if len(sp.updateNames[key]) == 0 {
			outs[0].FinalizeAll()
		}
	}
	// Pass 4: the update from the accumulated gradients.
	if apply && accumulate {
		outs, err := sp.optimize.Exec()
		if err != nil {
			return nil, nil, err
		}
		readMetrics(m, sp.optimizeNames, outs)
	}
	return m, g, nil
}

// rowsOf copies rows [lo, hi) of t, read as n rows (its leading axes merged), into a
// new [hi-lo, row] tensor.
func rowsOf(t *tensors.Tensor, n, lo, hi int) (*tensors.Tensor, error) {
	row := t.Shape().Size() / n
	out := tensors.FromShape(shapes.Make(t.DType(), hi-lo, row))
	var inner error
	err := t.ConstBytes(func(src []byte) {
		rowBytes := len(src) / n
		inner = out.MutableBytes(func(dst []byte) { copy(dst, src[lo*rowBytes:hi*rowBytes]) })
	})
	if err = errors.Join(err, inner); err != nil {
		return nil, fmt.Errorf("trainer: rows %d-%d of a %s tensor: %w", lo, hi, t.Shape(), err)
	}
	return out, nil
}

// concatRows stacks the parts' rows into one tensor of dims, freeing the parts.
func concatRows(parts []*tensors.Tensor, dims []int) (*tensors.Tensor, error) {
	out := tensors.FromShape(shapes.Make(parts[0].DType(), dims...))
	var errs []error
	at := 0
	errs = append(errs, out.MutableBytes(func(dst []byte) {
		for _, p := range parts {
			errs = append(errs, p.ConstBytes(func(src []byte) { at += copy(dst[at:], src) }), p.FinalizeAll())
		}
		if at != len(dst) {
			errs = append(errs, fmt.Errorf("%d of %d bytes filled", at, len(dst)))
		}
	}))
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("trainer: gathering %d groups into %v: %w", len(parts), dims, err)
	}
	return out, nil
}
