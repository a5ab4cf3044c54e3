package recipe

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/trainer"
)

// Report is what a run measured.
type Report struct {
	// Judge holds the judge scores after each stage of the built-in task ("after SFT",
	// "after amopo"); empty for data without judges.
	Judge map[string]JudgeScores
	// JudgeItems holds each held-out prompt's scores per stage, as Judge.
	JudgeItems map[string][]data.Scores
	Dimensions []string
	// Preference holds each preference step's metrics, in order (this process's steps:
	// after a resume, those from the checkpoint on).
	Preference []map[string]float64
	// Eval holds the last held-out evaluation's metrics (eval_ names).
	Eval map[string]float64
	// Samples holds the greedy answers of each evaluation point, by its name.
	Samples     map[string][]string
	ModelParams int64
	Seconds     float64
	Interrupted bool
}

// Train runs the whole job of a config: resolve the plan, load the model and the data,
// then the stages (Job.Train). Progress goes to log. A Ctrl-C stops it after a
// checkpoint (Report.Interrupted).
func Train(cfg trainer.Config, log io.Writer) (*Report, error) {
	start := time.Now()
	plan, err := Resolve(cfg)
	if err != nil {
		return nil, err
	}
	j, err := Load(plan, configText(cfg), log)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	report, err := j.Train()
	if report != nil {
		report.Seconds = time.Since(start).Seconds()
	}
	return report, err
}

// Train runs the stages in order: SFT, its evaluation, on-policy pairs, the preference
// stage, the final evaluation, the export.
func (j *Job) Train() (*Report, error) {
	if err := j.Resume(); err != nil {
		return nil, err
	}
	stop := j.Run.CatchInterrupt()
	defer stop()

	if err := j.SFT(); err != nil {
		return j.stopped(err)
	}
	if err := j.EvaluateAfterSFT(); err != nil {
		return nil, err
	}
	onPolicy, err := j.OnPolicyPairs()
	if err != nil {
		return nil, err
	}
	if err := j.Preference(onPolicy); err != nil {
		return j.stopped(err)
	}
	if err := j.Evaluate("after " + string(j.Plan.Loss.Loss)); err != nil {
		return nil, err
	}
	j.PrintJudgeTable()
	if err := j.Export(); err != nil {
		return nil, err
	}
	return j.Report, nil
}

// stopped turns a Ctrl-C into an interrupted report; other errors pass.
func (j *Job) stopped(err error) (*Report, error) {
	if errors.Is(err, trainer.ErrInterrupted) {
		fmt.Fprintln(j.Log, err)
		j.Report.Interrupted = true
		return j.Report, nil
	}
	return nil, err
}

// configText is what a checkpoint records of the config: everything that shapes the
// numbers, so that a resume continues the same run. Where the run lives (out_dir, which a
// user may copy elsewhere) and how it starts (resume, overwrite) are not part of it.
func configText(cfg trainer.Config) string {
	same := cfg
	same.OutDir, same.Resume, same.Overwrite = "", false, false
	same.LogEvery, same.EvalEvery, same.CheckpointEvery, same.KeepCheckpoints, same.PeakTFLOPS = 0, 0, 0, 0, 0
	text, _ := json.Marshal(same)
	return string(text)
}
