package trainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Source yields the batches of a data split deterministically: the same (epoch, index)
// always gives the same batch, so a resumed run sees the very data it would have seen.
type Source interface {
	NumBatches() int
	Batch(epoch, index int) (*Batch, error)
}

// Stage is one training stage over a Source.
type Stage struct {
	Name   string // "sft" or "preference"
	Kind   StepKind
	Config StageConfig
	Params spec.Params // the preference loss; ignored by SFT
	Train  Source
	// Eval, when set, is run every EvalEvery steps and at the end (preference stages).
	Eval      Source
	EvalEvery int
	// OnMetrics, when set, receives each step's metrics (TRL's names) and each
	// evaluation's (eval_ names) as they are logged, so the caller needs not read
	// metrics.jsonl back.
	OnMetrics func(step int, m map[string]float64)
}

// ErrInterrupted is returned when a run stops on Ctrl-C after saving a checkpoint.
var ErrInterrupted = errors.New("interrupted: checkpoint saved, continue with --resume")

// Run is a training run: the backend, the model and its variables, where it writes.
type Run struct {
	Backend backends.Backend
	Ctx     *context.Context
	Model   Model
	OutDir  string
	Seed    uint64
	Log     io.Writer // progress lines
	// FLOPsPerToken (of one training step) and PeakFLOPS give the MFU in the logs.
	FLOPsPerToken, PeakFLOPS        float64
	CheckpointEvery, LogEvery, Keep int
	// ConfigText is stored in checkpoints; a resume with another config is refused.
	ConfigText string
	// Overwrite lets a run that did not resume delete the checkpoints and metrics of an
	// earlier run in OutDir; without it such a run is refused.
	Overwrite bool

	metrics     *os.File
	interrupt   atomic.Bool
	resumed     *State
	resumedFrom string // the checkpoint Resume loaded
	outChecked  bool   // OutDir was checked for an earlier run
}

// Resume loads the latest checkpoint of OutDir: the stage it was in and the steps done
// there are skipped or continued by RunStage. It returns whether it resumed. An OutDir
// with nothing of a run in it starts from scratch (and says so); one with metrics or
// checkpoints but no loadable LATEST is refused, naming the intact checkpoint to resume
// from when there is one.
func (r *Run) Resume() (bool, error) {
	root := filepath.Join(r.OutDir, checkpointsDir)
	dir, err := LatestCheckpoint(r.OutDir)
	if err != nil {
		return false, r.cannotResume("", err)
	}
	if dir == "" {
		if names, err := listCheckpoints(root); err != nil || len(names) > 0 {
			return false, r.cannotResume("", fmt.Errorf("%s is missing", filepath.Join(root, latestFile)))
		}
		if what := earlierRun(r.OutDir); what != "" {
			return false, fmt.Errorf("resume: %s holds %s but no checkpoint: nothing to resume from; start over with --overwrite", r.OutDir, what)
		}
		fmt.Fprintf(r.Log, "resume: no checkpoint in %s: starting from scratch\n", r.OutDir)
		return false, nil
	}
	st, err := LoadCheckpoint(r.Ctx, dir)
	if err != nil {
		return false, r.cannotResume(filepath.Base(dir), err)
	}
	if st.Config != r.ConfigText {
		return false, fmt.Errorf("resume %s: the checkpoint was written by another config; use the same flags and file, or another out_dir", dir)
	}
	r.resumed, r.resumedFrom = &st, dir
	fmt.Fprintf(r.Log, "resuming from %s (%s step %d)\n", dir, st.Stage, st.StageStep)
	return true, r.truncateMetrics(st)
}

// cannotResume explains a latest checkpoint (named bad, or "" when LATEST itself is
// missing or dangling) that cannot be loaded, and names the newest older intact one.
func (r *Run) cannotResume(bad string, err error) error {
	intact, ierr := newestIntactBefore(r.OutDir, bad)
	if ierr != nil || intact == "" {
		return fmt.Errorf("resume: %w; no intact checkpoint to resume from (start over with --overwrite)", err)
	}
	which := "the latest checkpoint cannot be used, the older checkpoint " + intact + " is intact"
	if bad == "" {
		which = "the newest intact checkpoint is " + intact
	}
	latest := filepath.Join(r.OutDir, checkpointsDir, latestFile)
	return fmt.Errorf("resume: %w; %s: to resume from it, run `echo %s > %s` and resume again", err, which, intact, latest)
}

// earlierRun names what an earlier run left in outDir (its checkpoints or metrics), or
// "" when there is none.
func earlierRun(outDir string) string {
	if entries, err := os.ReadDir(filepath.Join(outDir, checkpointsDir)); err == nil && len(entries) > 0 {
		return checkpointsDir + "/"
	}
	if fi, err := os.Stat(filepath.Join(outDir, metricsFile)); err == nil && fi.Size() > 0 {
		return metricsFile
	}
	return ""
}

// CheckOutDir runs before a run's first write (RunStage and the metrics call it; a recipe
// that writes files of its own first calls it itself): a run that did not resume refuses
// an OutDir that holds an earlier run (whose checkpoints would outrank its own and whose
// metrics would mix with its own), or with Overwrite deletes that run's checkpoints and
// metrics.
func (r *Run) CheckOutDir() error {
	if r.outChecked || r.resumedFrom != "" {
		r.outChecked = true
		return nil
	}
	what := earlierRun(r.OutDir)
	if what != "" && !r.Overwrite {
		return fmt.Errorf("out_dir %s already holds a run (%s): continue it with --resume, or start over with --overwrite (deletes its checkpoints and metrics)", r.OutDir, what)
	}
	if what != "" {
		for _, p := range []string{filepath.Join(r.OutDir, checkpointsDir), r.MetricsPath()} {
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("overwrite: %w", err)
			}
		}
		fmt.Fprintf(r.Log, "overwrite: deleted the checkpoints and metrics of the earlier run in %s\n", r.OutDir)
	}
	r.outChecked = true
	return nil
}

// CatchInterrupt makes Ctrl-C finish the current step, save a checkpoint and stop.
func (r *Run) CatchInterrupt() (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	done := make(chan struct{})
	go func() {
		select {
		case <-ch:
			fmt.Fprintln(r.Log, "\ninterrupt: finishing the step and saving a checkpoint (Ctrl-C again to abort)")
			r.interrupt.Store(true)
			signal.Stop(ch)
		case <-done:
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}

// DoneBeforeResume reports whether the resumed checkpoint is past the named stage: RunStage
// skips it, and what came after it (its evaluation, pairs built from its model) was done
// by the interrupted run.
func (r *Run) DoneBeforeResume(stage string) bool {
	return r.resumed != nil && r.resumed.Stage != "" && stageOrder(r.resumed.Stage) > stageOrder(stage)
}

// RunStage trains one stage to its end (or to an interrupt), logging metrics and saving
// checkpoints. A stage already finished in the resumed checkpoint is skipped.
func (r *Run) RunStage(stage Stage) error {
	start := State{Stage: stage.Name, Seed: r.Seed, Config: r.ConfigText}
	if r.resumed != nil {
		switch {
		case r.resumed.Stage == stage.Name:
			start = *r.resumed
			r.resumed = nil
		case r.DoneBeforeResume(stage.Name):
			fmt.Fprintf(r.Log, "%s: done before the checkpoint, skipped\n", stage.Name)
			return nil
		}
	}
	cfg := stage.Config
	if cfg.Steps <= 0 || start.StageStep >= cfg.Steps {
		return nil
	}
	train, err := NewStepper(r.Backend, r.Ctx, r.Model, stage.Kind, stage.Params, cfg.Optimizer, cfg.Steps, cfg.GradAccum)
	if err != nil {
		return err
	}
	var evaluator *Stepper
	if stage.Eval != nil {
		if evaluator, err = NewStepper(r.Backend, r.Ctx, r.Model, EvalStep, stage.Params, cfg.Optimizer, cfg.Steps, 1); err != nil {
			return err
		}
	}
	if cfg.MicroSequences > 0 {
		for _, st := range []*Stepper{train, evaluator} {
			if st == nil {
				continue
			}
			if err := st.SplitSequences(cfg.MicroSequences); err != nil {
				return fmt.Errorf("%s.micro_sequences: %w", stage.Name, err)
			}
		}
	}
	if err := r.openMetrics(); err != nil {
		return err
	}
	st := start
	k := stage.Params.K()
	clock := time.Now()
	stageClock, firstStep, firstTokens := clock, st.StageStep, st.Tokens
	windowTokens := int64(0)
	for st.StageStep < cfg.Steps {
		var m map[string]float64
		for micro := 0; micro < cfg.GradAccum; micro++ {
			if st.Position >= stage.Train.NumBatches() {
				st.Epoch, st.Position = st.Epoch+1, 0
			}
			batch, err := stage.Train.Batch(st.Epoch, st.Position)
			if err != nil {
				return fmt.Errorf("%s step %d: %w", stage.Name, st.StageStep, err)
			}
			st.Position++
			if stage.Kind != SFTStep {
				if err := amopo.CheckMask(batch.Response, stage.Params.Dimensions); err != nil {
					return fmt.Errorf("%s step %d: %w", stage.Name, st.StageStep, err)
				}
			}
			b := batch.Tokens.Shape().Dimensions[0]
			// Micro-steps of one optimizer step draw from distinct noise rows.
			noise := amopo.NoiseTensor(r.Seed, uint64(st.StageStep*cfg.GradAccum+micro), b, max(k, 1))
			if m, err = train.Run(batch, noise, micro == cfg.GradAccum-1); err != nil {
				return fmt.Errorf("%s step %d: %w", stage.Name, st.StageStep, err)
			}
			st.Tokens += int64(batch.NumTokens)
			windowTokens += int64(batch.NumTokens)
		}
		st.StageStep++
		st.Loss = m["loss"]
		if err := r.checkEvents(stage.Name, st.StageStep, m); err != nil {
			return err
		}
		if st.StageStep%max(r.LogEvery, 1) == 0 || st.StageStep == cfg.Steps {
			elapsed := time.Since(clock).Seconds()
			m["tokens_per_second"] = float64(windowTokens) / elapsed
			if r.FLOPsPerToken > 0 && r.PeakFLOPS > 0 {
				m["mfu"] = m["tokens_per_second"] * r.FLOPsPerToken / r.PeakFLOPS
			}
			m["num_tokens"] = float64(st.Tokens)
			m["epoch"] = float64(st.Epoch) + float64(st.Position)/float64(stage.Train.NumBatches())
			r.progress(stage.Name, st.StageStep, cfg.Steps, m)
			clock, windowTokens = time.Now(), 0
		}
		if err := r.writeMetrics(stage.Name, st.StageStep, m); err != nil {
			return err
		}
		if stage.OnMetrics != nil {
			stage.OnMetrics(st.StageStep, m)
		}
		if evaluator != nil && ((stage.EvalEvery > 0 && st.StageStep%stage.EvalEvery == 0) || st.StageStep == cfg.Steps) {
			if err := r.evaluate(evaluator, stage, st.StageStep); err != nil {
				return err
			}
		}
		interrupted := r.interrupt.Load()
		if (r.CheckpointEvery > 0 && st.StageStep%r.CheckpointEvery == 0) || st.StageStep == cfg.Steps || interrupted {
			if err := SaveCheckpoint(r.Ctx, r.OutDir, checkpointName(stage.Name, st.StageStep), st, r.Keep); err != nil {
				return err
			}
		}
		if interrupted {
			return ErrInterrupted
		}
	}
	// Where a run's time goes, stage by stage, for whoever makes it faster.
	secs := time.Since(stageClock).Seconds()
	fmt.Fprintf(r.Log, "%s: %d steps, %d tokens in %.0f s (%.0f tokens/s, evaluation and checkpoints included)\n", stage.Name,
		st.StageStep-firstStep, st.Tokens-firstTokens, secs, float64(st.Tokens-firstTokens)/secs)
	return nil
}

// evaluate runs the held-out split once and logs its metrics with an eval_ prefix.
func (r *Run) evaluate(ev *Stepper, stage Stage, step int) error {
	sums := map[string]float64{}
	n := stage.Eval.NumBatches()
	for i := 0; i < n; i++ {
		batch, err := stage.Eval.Batch(0, i)
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		noise := amopo.NoiseTensor(r.Seed^0xe7a1, uint64(i), batch.Tokens.Shape().Dimensions[0], stage.Params.K())
		m, err := ev.Run(batch, noise, false)
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		for name, v := range m {
			sums[name] += v / float64(n)
		}
	}
	out := map[string]float64{}
	for name, v := range sums {
		out["eval_"+name] = v
	}
	fmt.Fprintf(r.Log, "%s eval @%d: loss %.4f, accuracy %.3f, margin %.3f\n", stage.Name, step,
		out["eval_loss"], out["eval_rewards/accuracies"], out["eval_rewards/margins"])
	if stage.OnMetrics != nil {
		stage.OnMetrics(step, out)
	}
	return r.writeMetrics(stage.Name, step, out)
}

// checkEvents turns the loss module's counters into logged warnings, and a non-finite
// loss into an error (never a silent NaN).
func (r *Run) checkEvents(stage string, step int, m map[string]float64) error {
	if n := m["weights/nonfinite"]; n > 0 {
		fmt.Fprintf(r.Log, "warning: %s step %d: %d non-finite weight draws were set to 0\n", stage, step, int(n))
	}
	if n := m["pairs/invalid"]; n > 0 {
		fmt.Fprintf(r.Log, "warning: %s step %d: %d pairs had no response token or non-finite log-probs and were left out\n", stage, step, int(n))
	}
	if loss := m["loss"]; loss != loss || loss > 1e300 || loss < -1e300 {
		return fmt.Errorf("%s step %d: the loss is not finite (%v); the last checkpoint is intact", stage, step, loss)
	}
	return nil
}

func (r *Run) progress(stage string, step, total int, m map[string]float64) {
	line := fmt.Sprintf("[%s] %d/%d loss %.4f", stage, step, total, m["loss"])
	if acc, ok := m["rewards/accuracies"]; ok {
		line += fmt.Sprintf(" acc %.2f margin %.3f", acc, m["rewards/margins"])
	}
	line += fmt.Sprintf(" | lr %.2e | %.0f tok/s", m["learning_rate"], m["tokens_per_second"])
	if mfu, ok := m["mfu"]; ok {
		line += fmt.Sprintf(" MFU %.1f%%", 100*mfu)
	}
	fmt.Fprintln(r.Log, line)
}

func stageOrder(stage string) int {
	if stage == "sft" {
		return 0
	}
	return 1
}

const metricsFile = "metrics.jsonl"

// MetricsPath is the run's metrics JSONL.
func (r *Run) MetricsPath() string { return filepath.Join(r.OutDir, metricsFile) }

// openMetrics opens the metrics file for appending; the first call checks OutDir for an
// earlier run (CheckOutDir).
func (r *Run) openMetrics() error {
	if r.metrics != nil {
		return nil
	}
	if err := r.CheckOutDir(); err != nil {
		return err
	}
	if err := os.MkdirAll(r.OutDir, 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(r.MetricsPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	r.metrics = f
	return nil
}

func (r *Run) writeMetrics(stage string, step int, m map[string]float64) error {
	row := map[string]any{"stage": stage, "step": step}
	for name, v := range m {
		row[name] = v
	}
	data, err := json.Marshal(row)
	if err != nil {
		return err
	}
	_, err = r.metrics.Write(append(data, '\n'))
	return err
}

// truncateMetrics drops the metric rows logged after the checkpoint a run resumes from,
// so that the file reads as one uninterrupted run. Rows are cut by position: everything
// up to the last training or evaluation row at or before the checkpoint's (stage, step)
// stays, with the rows between stages (the judge rows after SFT) that precede it.
func (r *Run) truncateMetrics(st State) error {
	data, err := os.ReadFile(r.MetricsPath())
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var lines []string
	cut := 0
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		var row struct {
			Stage string `json:"stage"`
			Step  int    `json:"step"`
		}
		if json.Unmarshal([]byte(line), &row) != nil {
			continue // a line cut by the crash
		}
		lines = append(lines, line)
		if isTrainingStage(row.Stage) && (stageOrder(row.Stage) < stageOrder(st.Stage) ||
			(row.Stage == st.Stage && row.Step <= st.StageStep)) {
			cut = len(lines)
		}
	}
	text := strings.Join(lines[:cut], "\n")
	if text != "" {
		text += "\n"
	}
	return writeAtomic(r.MetricsPath(), []byte(text))
}

// isTrainingStage tells the rows of RunStage (training steps and evaluations) from the
// others (judge rows).
func isTrainingStage(stage string) bool { return stage == "sft" || stage == "preference" }

// Close flushes and closes the metrics file.
func (r *Run) Close() error {
	if r.metrics == nil {
		return nil
	}
	err := r.metrics.Close()
	r.metrics = nil
	return err
}
