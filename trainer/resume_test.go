package trainer

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
)

// shortRun trains the toy model for a few SFT steps in outDir (checkpoints at steps 2
// and 4).
func shortRun(t *testing.T, outDir string, resume, overwrite bool) (string, error) {
	var log bytes.Buffer
	ctx := toyContext(t, 5)
	r := &Run{Backend: toyBackend(t), Ctx: ctx, Model: toyModel, OutDir: outDir, Seed: 5, Log: &log,
		CheckpointEvery: 2, LogEvery: 1, Keep: 2, ConfigText: "short", Overwrite: overwrite}
	defer r.Close()
	if resume {
		if _, err := r.Resume(); err != nil {
			return log.String(), err
		}
	}
	err := r.RunStage(Stage{Name: "sft", Kind: SFTStep, Train: toySource{batches: 3, b: 4, k: 1, s: 8, sft: true, seed: 1},
		Config: StageConfig{Steps: 4, BatchSize: 4, GradAccum: 1, Optimizer: DefaultOptimizer(0.05)}})
	return log.String(), err
}

// metricRows parses metrics.jsonl text into its rows, without the timings (which differ
// from run to run).
func metricRows(t *testing.T, text string) []map[string]any {
	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		var row map[string]any
		require.NoError(t, jsonUnmarshal(line, &row), line)
		delete(row, "tokens_per_second")
		delete(row, "mfu")
		rows = append(rows, row)
	}
	return rows
}

func readFile(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

// TestRerunWithoutResumeIsRefused: a second run in the same out_dir without --resume
// used to write checkpoints that sorted before the first run's (so each was pruned at
// once and LATEST dangled) and appended to its metrics. It is refused, naming --resume
// and --overwrite; with overwrite it starts clean.
func TestRerunWithoutResumeIsRefused(t *testing.T) {
	out := t.TempDir()
	_, err := shortRun(t, out, false, false)
	require.NoError(t, err)
	metrics := readFile(t, filepath.Join(out, metricsFile))
	latest := requireLatestIntact(t, out)

	_, err = shortRun(t, out, false, false)
	require.ErrorContains(t, err, "out_dir "+out+" already holds a run (checkpoints/): continue it with --resume, or start over with --overwrite")
	require.Equal(t, metrics, readFile(t, filepath.Join(out, metricsFile)), "the earlier run's metrics are untouched")
	require.Equal(t, latest, requireLatestIntact(t, out))

	// Metrics alone (a run killed before its first checkpoint) count as a run too.
	require.NoError(t, os.RemoveAll(filepath.Join(out, checkpointsDir)))
	_, err = shortRun(t, out, false, false)
	require.ErrorContains(t, err, "already holds a run (metrics.jsonl)")

	require.NoError(t, os.MkdirAll(filepath.Join(out, checkpointsDir, checkpointName("sft", 99)), 0o755))
	log, err := shortRun(t, out, false, true)
	require.NoError(t, err)
	require.Contains(t, log, "overwrite: deleted the checkpoints and metrics of the earlier run")
	require.Equal(t, metricRows(t, metrics), metricRows(t, readFile(t, filepath.Join(out, metricsFile))), "one run's rows, the same run again")
	require.Equal(t, checkpointName("sft", 4), requireLatestIntact(t, out))
	require.NoDirExists(t, filepath.Join(out, checkpointsDir, checkpointName("sft", 99)))
}

// TestResumeWithoutCheckpoint: --resume in an empty out_dir says it starts from scratch;
// in one with metrics or checkpoints but no usable LATEST it refuses, naming the intact
// checkpoint to resume from.
func TestResumeWithoutCheckpoint(t *testing.T) {
	out := filepath.Join(t.TempDir(), "new")
	log, err := shortRun(t, out, true, false)
	require.NoError(t, err)
	require.Contains(t, log, "resume: no checkpoint in "+out+": starting from scratch")

	latestPath := filepath.Join(out, checkpointsDir, latestFile)
	require.NoError(t, os.Remove(latestPath))
	_, err = shortRun(t, out, true, false)
	require.ErrorContains(t, err, latestPath+" is missing")
	require.ErrorContains(t, err, "the newest intact checkpoint is "+checkpointName("sft", 4)+": to resume from it, run `echo")

	require.NoError(t, os.WriteFile(latestPath, []byte(checkpointName("sft", 6)+"\n"), 0o644))
	_, err = shortRun(t, out, true, false)
	require.ErrorContains(t, err, checkpointName("sft", 6))
	require.ErrorContains(t, err, "the newest intact checkpoint is "+checkpointName("sft", 4))

	require.NoError(t, os.RemoveAll(filepath.Join(out, checkpointsDir)))
	_, err = shortRun(t, out, true, false)
	require.ErrorContains(t, err, "holds metrics.jsonl but no checkpoint: nothing to resume from; start over with --overwrite")
}

// TestTruncateMetricsKeepsRowsBeforeCheckpoint: a resume keeps every row written before
// its checkpoint, the after-SFT judge row included (it was ordered as a preference row and
// dropped), and drops those after it.
func TestTruncateMetricsKeepsRowsBeforeCheckpoint(t *testing.T) {
	rows := []string{
		`{"stage":"sft","step":1,"loss":3}`, `{"stage":"sft","step":2,"loss":2}`,
		`{"stage":"after SFT_judge","step":0,"judge/a":0.5}`,
		`{"stage":"preference","step":1,"loss":1}`, `{"stage":"preference","step":2,"loss":0.9}`,
		`{"stage":"preference","step":2,"eval_loss":0.8}`, `{"stage":"preference","step":3,"loss":0.7}`,
		`{"stage":"after amopo_judge","step":0,"judge/a":0.6}`,
		`{"stage":"pref`, // a line cut by a crash
	}
	for _, c := range []struct {
		st   State
		keep int
	}{
		{State{Stage: "preference", StageStep: 2}, 6},
		{State{Stage: "preference", StageStep: 3}, 7},
		{State{Stage: "sft", StageStep: 2}, 2}, // SFT is redone from its last step: so is its judge row
		{State{Stage: "sft", StageStep: 1}, 1},
	} {
		out := t.TempDir()
		r := &Run{OutDir: out, Ctx: context.New()}
		require.NoError(t, os.WriteFile(r.MetricsPath(), []byte(strings.Join(rows, "\n")), 0o644))
		require.NoError(t, r.truncateMetrics(c.st))
		require.Equal(t, strings.Join(rows[:c.keep], "\n")+"\n", readFile(t, r.MetricsPath()), "%+v", c.st)
	}
}
