package experiment

import (
	"fmt"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/data/task"
)

// Estimate is the predicted cost of a config, in training-token equivalents and seconds
// at a given training throughput. Forward-only work (generation, reference log-probs) is
// counted as a third of a training token (no backward pass).
type Estimate struct {
	Throughput    Throughput
	SFTTokens     float64 // per seed
	PrefRuns      int     // method trainings over all seeds (grid points included)
	PrefTokens    float64 // all preference training, all seeds
	ForwardTokens float64 // generation and reference log-probs, all seeds
	Seconds       float64
}

func (e Estimate) String() string {
	return fmt.Sprintf("%.0f s (%.1f min) at %.0f (SFT) and %.0f (preference) training tokens/s: SFT %.0fk tokens per seed, %d preference runs totalling %.0fk tokens, %.0fk forward-only tokens",
		e.Seconds, e.Seconds/60, e.Throughput.SFT, e.Throughput.Preference, e.SFTTokens/1e3, e.PrefRuns, e.PrefTokens/1e3, e.ForwardTokens/1e3)
}

// Throughput is the trainer's speed in training tokens per second on one model and
// machine: SFT steps, and preference steps (K templates x 2 responses per pair, other
// batch shapes and the loss: measured at 688 against SFT's 829 tokens/s for the cpu preset
// on the shared 2-core AMD EPYC, load ~6). Forward-only work is counted at the SFT speed.
type Throughput struct {
	SFT, Preference float64
}

// EstimateCost predicts the wall time of cfg from measured throughputs
// (MeasureThroughput), using the real encoded lengths of the config's data.
func EstimateCost(cfg Config, tp Throughput) (Estimate, error) {
	if !(tp.SFT > 0) || !(tp.Preference > 0) {
		return Estimate{}, fmt.Errorf("estimate: throughputs must be > 0, got %+v", tp)
	}
	if err := cfg.Validate(); err != nil {
		return Estimate{}, err
	}
	e, err := newEnv(cfg, nil, nil)
	if err != nil {
		return Estimate{}, err
	}
	n := min(len(e.ds.Train), 500)
	mean := func(enc *data.Encoder) (seq, prompt float64, err error) {
		for i := 0; i < n; i++ {
			ex, err := enc.Encode(&e.ds.Train[i])
			if err != nil {
				return 0, 0, err
			}
			for _, s := range ex.Seqs {
				seq += float64(len(s[0].Tokens)+len(s[1].Tokens)) / 2 / float64(len(ex.Seqs))
			}
			prompt += float64(ex.Seqs[0][0].PromptLen)
		}
		return seq / float64(n), prompt / float64(n), nil
	}
	genLen, promptLen, err := mean(e.encGen)
	if err != nil {
		return Estimate{}, err
	}
	allLen, _, err := mean(e.encAll)
	if err != nil {
		return Estimate{}, err
	}
	ctrlLen := genLen + float64(len(fmt.Sprintf("<%s: 4> <%s: 4> <%s: 4> ", task.Helpfulness, task.Correctness,
		task.InstructionFollowing))) // the control tokens: one byte token per character
	k := float64(len(task.Templates()))
	est := Estimate{Throughput: tp}
	accum := float64(max(cfg.SFT.GradAccum, 1))
	est.SFTTokens = float64(cfg.SFT.Steps*cfg.SFT.BatchSize) * accum * genLen
	prefPairs := float64(cfg.Pref.Steps*cfg.Pref.BatchSize) * float64(max(cfg.Pref.GradAccum, 1))
	pairs := float64(len(e.genPairs) + cfg.OnPolicy.Prompts/2) // about half the prompts give a pair
	judgeTokens := func(prompts int) float64 { return float64(prompts) * (promptLen + float64(cfg.MaxNewTokens)) }
	forward := 0.0
	// SFT budgets: each seed's SFT (or sft_seed's one), plus controllable CPO's CPSFT.
	sftRuns, cpsftRuns := float64(len(cfg.Seeds)), len(cfg.Seeds)
	if cfg.SFTSeed != 0 {
		sftRuns, cpsftRuns = 1, 1
		forward += judgeTokens(cfg.Data.TestSize)
	}
	for si := range cfg.Seeds {
		if cfg.SFTSeed == 0 {
			forward += judgeTokens(cfg.Data.TestSize) // the seed's SFT
		}
		forward += float64(cfg.OnPolicy.Prompts*cfg.OnPolicy.Samples) * (promptLen + float64(cfg.OnPolicy.MaxNewTokens))
		refsDone := map[string]bool{} // reference sums are computed once per seed and encoding
		for _, m := range cfg.Methods {
			grid, err := m.Grid(cfg.Pref.Optimizer.LR)
			if err != nil {
				return Estimate{}, err
			}
			runs := 1
			if si == 0 {
				runs = len(grid)
			}
			kk, l := 1.0, genLen
			if m.UsesAllTemplates() {
				kk, l = k, allLen
			}
			est.PrefRuns += runs
			est.PrefTokens += float64(runs) * prefPairs * 2 * kk * l
			forward += float64(runs) * judgeTokens(cfg.Data.TestSize+cfg.Data.ValidationSize)
			refs := pairs * 2 * kk * l
			switch {
			case m.Schedule == ScheduleSPO: // every stage scores its pairs with the previous model
				forward += float64(runs*len(task.Dimensions())) * refs
			case m.Loss == string(spec.ControllableCPO):
				if !refsDone["control"] {
					refsDone["control"] = true
					if si < cpsftRuns {
						sftRuns += ctrlLen / genLen // CPSFT: the SFT budget on longer prompts
					}
					forward += pairs * 2 * ctrlLen
				}
			case spec.LossName(m.Loss).NeedsReference():
				key := m.Loss + fmt.Sprint(m.UsesAllTemplates())
				if m.Loss == string(spec.DPO) || m.Loss == string(spec.CalDPO) {
					key = fmt.Sprint(m.UsesAllTemplates()) // the same encoding and reference
				}
				if !refsDone[key] {
					refsDone[key] = true
					forward += refs
				}
			}
		}
	}
	est.ForwardTokens = forward
	est.Seconds = (sftRuns*est.SFTTokens+forward/3)/tp.SFT + est.PrefTokens/tp.Preference
	return est, nil
}
