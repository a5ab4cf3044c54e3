package experiment

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/amopo-engine/amopo/trainer"
	"github.com/amopo-engine/amopo/trainer/recipe"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// seedState is what a seed's methods share: the SFT model (live and as a snapshot), the
// preference pairs, and their encodings and reference sums, computed on first use.
type seedState struct {
	seed   uint64
	dir    string // the seed's runs folder
	sftCtx *context.Context
	snap   map[string]*tensors.Tensor
	pairs  []data.Pair
	cache  map[string]*prefData
	// cpsft is controllable CPO's CPSFT model (SFT on control-token prompts), trained on
	// first use.
	cpsft map[string]*tensors.Tensor
}

// prefData is one encoding of the seed's pairs with what the loss needs besides them.
type prefData struct {
	examples []data.Example
	refs     [][]float32 // reference sums, [k][side] per example
	margins  [][]float32 // MODPO's margin rewards, [k][side][m] per example
}

// runSeed trains the SFT model and every method not already in cells, saving each
// finished (seed, method) cell as it goes.
func (e *env) runSeed(seed uint64, tune bool, chosen map[string]Point, cells *cellStore) (*SeedRun, error) {
	cfg := e.cfg
	runs := e.runsDir()
	sr := &SeedRun{Seed: seed, Methods: map[string]*MethodRun{}}
	todo := []Method{}
	for _, m := range cfg.Methods {
		mr, err := cells.method(seed, m.Name)
		if err != nil {
			return nil, err
		}
		if mr == nil {
			todo = append(todo, m)
			continue
		}
		sr.Methods[m.Name] = mr
		chosen[m.Name] = mr.Point
		fmt.Fprintf(e.log, "seed %d: %s: done in an earlier run (%s), kept\n", seed, m.Name, cells.path(seed, m.Name))
	}
	head, err := cells.seed(seed)
	if err != nil {
		return nil, err
	}
	if head != nil && len(todo) == 0 {
		head.Methods = sr.Methods
		return head, nil
	}
	st := &seedState{seed: seed, dir: filepath.Join(runs, fmt.Sprintf("seed-%d", seed)), cache: map[string]*prefData{}}

	t0 := time.Now()
	if err := e.startFromSFT(st, sr, head); err != nil {
		return nil, err
	}
	fmt.Fprintf(e.log, "seed %d: sft: %s\n", seed, formatMean(sr.SFT.Mean))
	sr.SFTSeconds = time.Since(t0).Seconds()
	t0 = time.Now()

	// Pairs: the generator's and on-policy ones from the SFT model.
	var onPairs []data.Pair
	skipped := 0
	if cfg.OnPolicy.Prompts > 0 {
		onPairs, skipped, err = recipe.SampleOnPolicyPairs(e.backend, st.sftCtx.In("model"), e.mcfg, e.encAll, e.tok,
			e.onPolicy, cfg.OnPolicy, seed)
		if err != nil {
			return nil, err
		}
	}
	sr.GeneratorPairs, sr.OnPolicyPairs, sr.OnPolicySkipped = len(e.genPairs), len(onPairs), skipped
	sr.PairsSeconds = time.Since(t0).Seconds()
	if head != nil { // the timings of the run that judged the SFT model
		sr.SFTSeconds, sr.PairsSeconds = head.SFTSeconds, head.PairsSeconds
	}
	fmt.Fprintf(e.log, "seed %d: %d generator pairs + %d on-policy pairs (%d prompts skipped: tied samples)\n",
		seed, len(e.genPairs), len(onPairs), skipped)
	st.pairs = append(append([]data.Pair(nil), e.genPairs...), onPairs...)
	if head == nil {
		if err := cells.saveSeed(sr); err != nil {
			return nil, err
		}
	}

	for _, m := range todo {
		t0 := time.Now()
		grid, err := m.Grid(cfg.Pref.Optimizer.LR)
		if err != nil {
			return nil, err
		}
		if !tune || len(grid) == 1 {
			if p, ok := chosen[m.Name]; ok {
				grid = []Point{p}
			} else {
				grid = grid[:1]
			}
		}
		var best *MethodRun
		var tried []Tried
		for gi, point := range grid {
			dir := filepath.Join(st.dir, m.Name)
			if len(grid) > 1 {
				dir = filepath.Join(st.dir, fmt.Sprintf("%s-grid%d", m.Name, gi))
			}
			mr, err := e.trainMethod(m, point, st, dir)
			if err != nil {
				return nil, fmt.Errorf("method %s (%s): %w", m.Name, point, err)
			}
			tried = append(tried, Tried{Point: point, Validation: mr.Validation})
			if len(grid) > 1 {
				fmt.Fprintf(e.log, "seed %d: %s grid %s: validation %.3f\n", seed, m.Name, point, mr.Validation)
			}
			if best == nil || mr.Validation > best.Validation {
				best = mr
			}
		}
		chosen[m.Name] = best.Point
		if len(tried) > 1 {
			best.Tried = tried
		}
		best.Seconds = time.Since(t0).Seconds()
		sr.Methods[m.Name] = best
		if err := cells.saveMethod(best); err != nil {
			return nil, err
		}
		fmt.Fprintf(e.log, "seed %d: %s (%s): %s [%.0fs]\n", seed, m.Name, best.Point, formatMean(best.Test.Mean), best.Seconds)
	}
	return sr, nil
}

// startFromSFT gives the seed its SFT model: its own, trained now (again when an earlier
// run stopped inside this seed: the SFT is deterministic, and its recorded evaluation is
// kept), or, with sft_seed, the one shared by every seed (trained on first use).
func (e *env) startFromSFT(st *seedState, sr *SeedRun, head *SeedRun) error {
	if e.cfg.SFTSeed != 0 {
		shared, err := e.sharedSFT()
		if err != nil {
			return err
		}
		st.snap, st.cpsft, sr.SFT = shared.snap, shared.cpsft, shared.eval
		st.sftCtx, err = e.restore(st.snap, st.seed)
		return err
	}
	var err error
	if st.sftCtx, err = e.sft(e.ds.Train, filepath.Join(st.dir, "sft"), st.seed); err != nil {
		return fmt.Errorf("sft: %w", err)
	}
	if head != nil {
		sr.SFT = head.SFT
	} else if sr.SFT, err = e.judge(st.sftCtx, e.test); err != nil {
		return err
	}
	st.snap, err = snapshot(st.sftCtx)
	return err
}

// sharedSFTModels are sft_seed's SFT model, its test evaluation and its CPSFT model.
type sharedSFTModels struct {
	snap, cpsft map[string]*tensors.Tensor
	eval        Eval
}

// sharedSFT trains sft_seed's SFT model once per process, with its CPSFT model when a
// method needs it, in runs/sft-seed-N.
func (e *env) sharedSFT() (*sharedSFTModels, error) {
	if e.shared != nil {
		return e.shared, nil
	}
	seed := e.cfg.SFTSeed
	st := &seedState{seed: seed, dir: filepath.Join(e.runsDir(), fmt.Sprintf("sft-seed-%d", seed))}
	fmt.Fprintf(e.log, "sft (seed %d, shared by every seed)\n", seed)
	ctx, err := e.sft(e.ds.Train, filepath.Join(st.dir, "sft"), seed)
	if err != nil {
		return nil, fmt.Errorf("sft: %w", err)
	}
	shared := &sharedSFTModels{}
	if shared.eval, err = e.judge(ctx, e.test); err != nil {
		return nil, err
	}
	if shared.snap, err = snapshot(ctx); err != nil {
		return nil, err
	}
	for _, m := range e.cfg.Methods {
		if m.Loss == string(spec.ControllableCPO) {
			if err := e.ensureCPSFT(st); err != nil {
				return nil, err
			}
			shared.cpsft = st.cpsft
			break
		}
	}
	e.shared = shared
	return shared, nil
}

// sft initialises a model from seed (float32 master weights) and trains it on the chosen
// responses of pairs under the general template (the SFT models, and controllable CPO's
// CPSFT on control-token prompts).
func (e *env) sft(pairs []data.Pair, dir string, seed uint64) (*context.Context, error) {
	ctx := context.New()
	if err := llm.InitRandom(ctx.In("model"), e.mcfg, seed, dtypes.Float32); err != nil {
		return nil, err
	}
	ex, err := e.encGen.EncodeAll(pairs)
	if err != nil {
		return nil, err
	}
	src, err := trainer.NewSFTSource(ex, data.BatchConfig{BatchSize: e.cfg.SFT.BatchSize, Seed: seed}, int32(e.tok.Pad()))
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	return ctx, e.runStage(ctx, dir, seed, trainer.Stage{Name: "sft", Kind: trainer.SFTStep, Config: e.cfg.SFT, Train: src})
}

// runsDir holds each run's metrics: run_dir, or out_dir/runs.
func (e *env) runsDir() string {
	if e.cfg.RunsDir != "" {
		return e.cfg.RunsDir
	}
	return filepath.Join(e.cfg.OutDir, "runs")
}
