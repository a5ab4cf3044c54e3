package experiment

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/data/task"
	"github.com/amopo-engine/amopo/trainer"
	"github.com/amopo-engine/amopo/trainer/recipe"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// How each method turns the seed's pairs into training (docs/loss.md, "What the recipe
// must do"):
//   - single-objective losses and AMoPO: the pairs under the general template (K = 1) or
//     the K dimension templates, the reference (when needed: dpo, cal-dpo, amopo-ref) the
//     SFT model on the same templated prompts;
//   - modpo: the pairs re-ordered by the first dimension (ties left out), the reference the
//     SFT model, the margin rewards the data's scores of the other dimensions (no reward
//     model is at hand: the judges' labels stand in for ArmoRM's heads);
//   - controllable-cpo: a CPSFT model trained from scratch with the SFT budget on the
//     control-token prompts (c(y), x), which is both the reference (scored on (c, x), c the
//     chosen response's scores) and the policy's start; the policy sees the plain x;
//   - spo (Schedule "spo"): one stage per dimension in task order, each on the pairs
//     ordered by that dimension, from the previous stage's model and with it as the
//     reference; the preference steps are split evenly over the stages (same budget).

// trainMethod trains one grid point of m from the seed's SFT model and judges it.
func (e *env) trainMethod(m Method, point Point, st *seedState, dir string) (*MethodRun, error) {
	if err := os.RemoveAll(dir); err != nil { // a rerun starts clean: no resume inside a cell
		return nil, err
	}
	var ctx *context.Context
	var alpha map[string][]float64
	var err error
	if m.Schedule == ScheduleSPO {
		ctx, err = e.trainSPO(m, point, st, dir)
	} else {
		ctx, alpha, err = e.trainOne(m, point, st, dir)
	}
	if err != nil {
		return nil, err
	}
	mr := &MethodRun{Method: m.Name, Seed: st.seed, Point: point}
	if len(e.val) > 0 {
		v, err := e.judge(ctx, e.val)
		if err != nil {
			return nil, err
		}
		mr.Validation = v.Mean[Total]
	}
	if mr.Test, err = e.judge(ctx, e.test); err != nil {
		return nil, err
	}
	if len(alpha) > 0 {
		mr.Alpha = alpha
	}
	return mr, nil
}

// trainOne is every method but SPO: one preference stage.
func (e *env) trainOne(m Method, point Point, st *seedState, dir string) (*context.Context, map[string][]float64, error) {
	dims := m.Dimensions()
	params, err := m.Params(point, dims, st.seed)
	if err != nil {
		return nil, nil, err
	}
	pd, err := e.prefFor(m, params, st)
	if err != nil {
		return nil, nil, err
	}
	start := st.snap
	if params.Loss.ControlReference() {
		start = st.cpsft
	}
	ctx, err := e.restore(start, st.seed)
	if err != nil {
		return nil, nil, err
	}
	// The weights of each step, as the loop hands them over (one dimension: alpha is 1
	// throughout, not kept).
	alpha := map[string][]float64{}
	keepAlpha := func(_ int, met map[string]float64) {
		for _, d := range dims {
			if v, ok := met["weights/"+d+"_alpha"]; ok && len(dims) > 1 {
				alpha[d] = append(alpha[d], v)
			}
		}
	}
	err = e.prefStage(ctx, dir, st.seed, params, e.cfg.Pref.Steps, point.LR, pd, keepAlpha)
	return ctx, alpha, err
}

// prefFor encodes the seed's pairs as m needs them, with the reference sums and margin
// rewards its loss takes; cached per seed (they do not depend on the grid point).
func (e *env) prefFor(m Method, params spec.Params, st *seedState) (*prefData, error) {
	enc, key := e.encGen, "general"
	if m.UsesAllTemplates() {
		enc, key = e.encAll, "all"
	}
	switch {
	case params.Loss.NeedsMarginRewards():
		key = "modpo"
	case params.Loss.ControlReference():
		key = "control"
	}
	if pd := st.cache[key]; pd != nil && (pd.refs != nil || !params.Loss.NeedsReference()) {
		return pd, nil
	}
	pd := st.cache[key]
	if pd == nil {
		pd = &prefData{}
		st.cache[key] = pd
	}
	pairs := st.pairs
	dimsOrder := task.Dimensions()
	if params.Loss.NeedsMarginRewards() {
		var ties int
		var err error
		if pairs, ties, err = recipe.PairsByDimension(st.pairs, dimsOrder[0]); err != nil {
			return nil, err
		}
		fmt.Fprintf(e.log, "seed %d: modpo: %d pairs ordered by %s (%d tied, left out); margin rewards: the data's %v scores\n",
			st.seed, len(pairs), dimsOrder[0], ties, dimsOrder[1:])
		if pd.margins, err = trainer.MarginRewardsFromScores(pairs, 1, dimsOrder[1:]); err != nil {
			return nil, err
		}
	}
	var err error
	if pd.examples == nil {
		if pd.examples, err = enc.EncodeAll(pairs); err != nil {
			return nil, err
		}
	}
	pad := int32(e.tok.Pad())
	batch := max(e.cfg.Pref.BatchSize, 8)
	switch {
	case params.Loss.ControlReference():
		if err := e.ensureCPSFT(st); err != nil {
			return nil, err
		}
		control, err := recipe.ControlPairs(pairs, dimsOrder)
		if err != nil {
			return nil, err
		}
		cex, err := e.encGen.EncodeAll(control)
		if err != nil {
			return nil, err
		}
		ref, err := e.restore(st.cpsft, st.seed)
		if err != nil {
			return nil, err
		}
		if pd.refs, err = trainer.ReferenceSums(e.backend, ref, e.mcfg, cex, pad, batch); err != nil {
			return nil, err
		}
	case params.Loss.NeedsReference():
		if pd.refs, err = trainer.ReferenceSums(e.backend, st.sftCtx, e.mcfg, pd.examples, pad, batch); err != nil {
			return nil, err
		}
	}
	return pd, nil
}

// ensureCPSFT trains controllable CPO's CPSFT model of the seed: SFT from the seed's
// initialisation, with the shared SFT's budget, on (c(y), x) -> y.
func (e *env) ensureCPSFT(st *seedState) error {
	if st.cpsft != nil {
		return nil
	}
	control, err := recipe.ControlPairs(e.ds.Train, task.Dimensions())
	if err != nil {
		return err
	}
	fmt.Fprintf(e.log, "seed %d: controllable-cpo: cpsft (SFT on control-token prompts, the SFT budget)\n", st.seed)
	ctx, err := e.sft(control, filepath.Join(st.dir, "cpsft"), st.seed)
	if err != nil {
		return fmt.Errorf("cpsft: %w", err)
	}
	st.cpsft, err = snapshot(ctx)
	return err
}

// trainSPO runs SPO's stages (spec.SPOSchedule) with m's loss as the stage loss.
func (e *env) trainSPO(m Method, point Point, st *seedState, dir string) (*context.Context, error) {
	stageParams, err := m.Params(point, []string{"general"}, st.seed)
	if err != nil {
		return nil, err
	}
	stages, err := spec.SPOSchedule(task.Dimensions(), stageParams, false)
	if err != nil {
		return nil, err
	}
	ctx, err := e.restore(st.snap, st.seed)
	if err != nil {
		return nil, err
	}
	for i, sg := range stages {
		pairs, ties, err := recipe.PairsByDimension(st.pairs, sg.Dimension)
		if err != nil {
			return nil, err
		}
		pd := &prefData{}
		if pd.examples, err = e.encGen.EncodeAll(pairs); err != nil {
			return nil, err
		}
		if sg.Params.Loss.NeedsReference() { // the previous stage's model (the SFT model first)
			if pd.refs, err = trainer.ReferenceSums(e.backend, ctx, e.mcfg, pd.examples, int32(e.tok.Pad()),
				max(e.cfg.Pref.BatchSize, 8)); err != nil {
				return nil, err
			}
		}
		steps := spoSteps(e.cfg.Pref.Steps, len(stages), i)
		fmt.Fprintf(e.log, "seed %d: spo stage %d (%s): %d pairs (%d tied, left out), %d steps\n",
			st.seed, i, sg.Dimension, len(pairs), ties, steps)
		if err := e.prefStage(ctx, filepath.Join(dir, "stage-"+sg.Dimension), st.seed, sg.Params, steps, point.LR, pd, nil); err != nil {
			return nil, fmt.Errorf("spo stage %d (%s): %w", i, sg.Dimension, err)
		}
	}
	return ctx, nil
}

// spoSteps splits the preference budget over SPO's stages: the first steps%n stages get
// one step more.
func spoSteps(steps, n, i int) int {
	s := steps / n
	if i < steps%n {
		s++
	}
	return s
}

// prefStage runs one preference stage on ctx.
func (e *env) prefStage(ctx *context.Context, dir string, seed uint64, params spec.Params, steps int, lr float64,
	pd *prefData, onMetrics func(int, map[string]float64)) error {
	src, err := trainer.NewPairSource(pd.examples, data.BatchConfig{BatchSize: e.cfg.Pref.BatchSize, Seed: seed + 1}, int32(e.tok.Pad()))
	if err != nil {
		return err
	}
	if params.Loss.NeedsReference() {
		if err := src.SetReferences(pd.refs); err != nil {
			return err
		}
	}
	if params.Loss.NeedsMarginRewards() {
		if err := src.SetMarginRewards(pd.margins, params.MarginRewardCount()); err != nil {
			return err
		}
	}
	stage := e.cfg.Pref
	stage.Optimizer.LR, stage.Steps = lr, steps
	return e.runStage(ctx, dir, seed, trainer.Stage{Name: "preference", Kind: trainer.PreferenceStep, Config: stage,
		Params: params, Train: src, OnMetrics: onMetrics})
}
