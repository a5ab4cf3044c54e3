package recipe

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/amopo-engine/amopo/engine/backend"
	"github.com/amopo-engine/amopo/trainer"
	"github.com/gomlx/gomlx/backends"
	"github.com/stretchr/testify/require"
)

func toyBackend(t testing.TB) backends.Backend {
	be, err := backend.New("go")
	require.NoError(t, err)
	t.Cleanup(be.Finalize)
	return be
}

// losses reads the loss of every metrics row that has one, by "stage/step".
func losses(t *testing.T, path string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, row := range metricRows(t, path) {
		if loss, ok := row["loss"].(float64); ok {
			out[fmt.Sprintf("%s/%v", row["stage"], row["step"])] = loss
		}
	}
	return out
}

// metricRows reads metrics.jsonl.
func metricRows(t *testing.T, path string) []map[string]any {
	t.Helper()
	text, err := os.ReadFile(path)
	require.NoError(t, err)
	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(text)), "\n") {
		var row map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &row), line)
		rows = append(rows, row)
	}
	return rows
}

// rowsWithoutTimings reads metrics.jsonl without the timings, which differ from run to run.
func rowsWithoutTimings(t *testing.T, path string) []map[string]any {
	t.Helper()
	rows := metricRows(t, path)
	for _, row := range rows {
		delete(row, "tokens_per_second")
		delete(row, "mfu")
	}
	return rows
}

// checkpointAt finds the name of out_dir's checkpoint of a stage and step.
func checkpointAt(t *testing.T, outDir, stage string, step int) string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(outDir, "checkpoints"))
	require.NoError(t, err)
	re := regexp.MustCompile(regexp.QuoteMeta(stage) + `-0*(\d+)$`)
	for _, e := range entries {
		if m := re.FindStringSubmatch(e.Name()); e.IsDir() && m != nil {
			if n, _ := strconv.Atoi(m[1]); n == step {
				return e.Name()
			}
		}
	}
	t.Fatalf("no checkpoint of %s step %d in %s", stage, step, outDir)
	return ""
}

// defaultQuickConfig is the default run as it was when TestDefaultRunUnchanged's record
// was written, shortened. The default has changed since (whole prompts, a longer SFT
// stage: trainer.Defaults); the keys it changed are pinned here to the record's values,
// so the test still checks that the code reproduces that run.
func defaultQuickConfig(t *testing.T) trainer.Config {
	cfg := trainer.Defaults()
	cfg.OutDir = t.TempDir()
	cfg.Model.Preset = ""
	cfg.Data.MaxLength, cfg.Data.MaxPromptLength = 240, 184
	cfg.SFT.BatchSize, cfg.SFT.Optimizer = 16, trainer.DefaultOptimizer(3e-3)
	cfg.Pref.BatchSize, cfg.Pref.Optimizer = 2, trainer.DefaultOptimizer(5e-4)
	cfg.SFT.Steps, cfg.Pref.Steps, cfg.OnPolicy.Prompts = 5, 5, 8
	cfg.Data.EvalSize, cfg.Data.TrainSize, cfg.Data.GeneratorPairs = 16, 200, 40
	cfg.LogEvery = 1
	return cfg
}

// stageRows reads the training and held-out rows of metrics.jsonl (the sft and
// preference stages), by "stage/step" (eval rows as "stage/step/eval"), without the
// timings.
func stageRows(t *testing.T, path string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, row := range metricRows(t, path) {
		stage, _ := row["stage"].(string)
		if stage != "sft" && stage != "preference" {
			continue
		}
		key := fmt.Sprintf("%s/%v", stage, row["step"])
		if _, ok := row["eval_loss"]; ok {
			key += "/eval"
		}
		for _, k := range []string{"tokens_per_second", "mfu"} {
			delete(row, k)
		}
		out[key] = row
	}
	return out
}
