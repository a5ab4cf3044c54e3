package main

import (
	"bufio"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/trainer/recipe"
	"github.com/stretchr/testify/require"
)

// inspectOut is what web/test/inspect-checks.mjs read back from "Inspect a run".
type inspectOut struct {
	KeyboardChooser  bool    `json:"keyboardChooser"`
	DefaultSmoothing float64 `json:"defaultSmoothing"`
	FileInputLabel   string  `json:"fileInputLabel"`
	Malformed        struct {
		Run    map[string]string
		Errors []string
	}
	Runs    []map[string]string
	Stages  []string
	Stage   string
	Scalars []struct {
		ID      string
		Checked bool
	}
	Charts    map[string]chartOut
	Judge     []map[string]string
	JudgeNote string `json:"judgeNote"`
	Final     []map[string]string
	Legend    struct{ Before, Hidden, After int }
	Zoom      struct{ Full, Zoomed, Reset, KeyZoomed, KeyReset [2]float64 }
	PNGExport string  `json:"pngExport"`
	PNGWidth  float64 `json:"pngCssWidth"`
	Tokens    []drawnSeries
	SFT       struct {
		Charts map[string]chartOut
		Note   string
	} `json:"sft"`
}

type chartOut struct {
	Series int
	Drawn  []drawnSeries
}

type drawnSeries struct {
	Name, Legend, Role, Run, Key string
	Points                       [][2]float64
}

// liveOut is what browser.mjs measured while following a run that was being written.
type liveOut struct {
	Console []string
	Lags    []struct {
		Step int
		Ms   float64
	}
	Stuck                                any
	WriterExit                           *int `json:"writerExit"`
	FileLastStep, FileRows, PageLastStep int
	FinalLagMs                           float64 `json:"finalLagMs"`
	TruncatedLastStep, AfterTruncateStep int
	TruncateLagMs                        float64 `json:"truncateLagMs"`
	AfterTruncateRows                    int
	DrawMs                               float64 `json:"drawMs"`
}

// exampleRunsDir copies the page's example runs (real cmd/train output, web/examples) into
// a folder of runs as the experiment writes them, with a JSONL that is no metrics file.
func exampleRunsDir(t *testing.T, root, dir string) string {
	for _, run := range []string{"amopo", "fixed"} {
		src := filepath.Join(root, "web", "examples", run)
		entries, err := os.ReadDir(src)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, run), 0o755))
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, run, e.Name()), b, 0o644))
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, run, "onpolicy-pairs.jsonl"), []byte("{\"prompt\":\"not metrics\"}\n"), 0o644))
	}
	return dir
}

// trainRow is one row of a cmd/train metrics file.
type trainRow struct {
	Stage  string
	Step   float64
	Values map[string]float64
}

func readTrainRows(t *testing.T, path string) []trainRow {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var rows []trainRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<22)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		r := trainRow{Values: map[string]float64{}}
		r.Stage, _ = m["stage"].(string)
		for k, v := range m {
			if f, ok := v.(float64); ok {
				r.Values[k] = f
			}
		}
		r.Step = r.Values["step"]
		rows = append(rows, r)
	}
	require.NoError(t, sc.Err())
	return rows
}

// series returns a stage's (step, value) of one scalar, in step order.
func series(rows []trainRow, stage, key string) [][2]float64 {
	var out [][2]float64
	for _, r := range rows {
		if v, ok := r.Values[key]; ok && r.Stage == stage {
			out = append(out, [2]float64{r.Step, v})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// emaRef is TensorBoard's debiased exponential moving average, written here on its own
// as the reference for the page's smoothing.
func emaRef(xs []float64, w float64) []float64 {
	out := make([]float64, len(xs))
	acc := 0.0
	for i, x := range xs {
		acc = acc*w + (1-w)*x
		out[i] = acc / (1 - math.Pow(w, float64(i+1)))
	}
	return out
}

func readAnswers(t *testing.T, path string) []data.Scores {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []data.Scores
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var row struct{ Scores data.Scores }
		require.NoError(t, json.Unmarshal(sc.Bytes(), &row))
		out = append(out, row.Scores)
	}
	return out
}

func checkInspect(t *testing.T, in *inspectOut, smoothing float64, files map[string]string) {
	require.True(t, in.KeyboardChooser, "Enter on the drop zone opens a multi-file chooser")
	require.Equal(t, 0.6, in.DefaultSmoothing, "a noisy log is readable as it opens")
	require.NotEmpty(t, in.FileInputLabel, "the file input has a label")
	rows := map[string][]trainRow{}
	for name, path := range files {
		rows[name] = readTrainRows(t, path)
	}

	// Three runs, each summarised from its own file.
	require.Len(t, in.Runs, len(files))
	for _, r := range in.Runs {
		name := r["run"]
		require.Contains(t, files, name)
		want := 0
		for _, row := range rows[name] {
			if _, isEval := row.Values["eval_loss"]; row.Stage == "preference" && !isEval {
				want++
			}
		}
		require.Equal(t, strconv.Itoa(want), r["steps"], name)
		require.Equal(t, "sft,preference", r["stages"], name)
		require.Equal(t, "general,helpfulness,correctness,instruction_following", r["dims"], name)
		require.Equal(t, "0", r["skipped"], "%s: %s", name, r["text"])
	}
	require.Equal(t, []string{"sft", "preference"}, in.Stages)
	require.Equal(t, "preference", in.Stage)
	ids := map[string]bool{}
	for _, s := range in.Scalars {
		ids[s.ID] = s.Checked
	}
	for _, id := range []string{"loss", "weights/{dim}_alpha", "rewards/{dim}_margins", "grad_norm", "learning_rate"} {
		require.True(t, ids[id], "%s is drawn by default", id)
	}
	// Every scalar of the log can be chosen, the per-dimension ones grouped.
	for _, id := range []string{"logps/chosen", "rewards/chosen", "rewards/{dim}_accuracies", "tokens_per_second"} {
		require.Contains(t, ids, id)
	}
	require.NotContains(t, ids, "weights/general_alpha", "grouped into weights/{dim}_alpha")

	// Each drawn series: the file's raw values, the smoothed line equal to the reference
	// EMA, the held-out values; series counts as the files imply.
	for _, metric := range []string{"loss", "weights/{dim}_alpha", "rewards/margins"} {
		chart, ok := in.Charts[metric]
		require.True(t, ok, metric)
		wantSeries := 0
		for name, rs := range rows {
			dims := []string{""}
			if strings.Contains(metric, "{dim}") {
				dims = []string{"general", "helpfulness", "correctness", "instruction_following"}
			}
			for _, d := range dims {
				key := strings.Replace(metric, "{dim}", d, 1)
				train := series(rs, "preference", key)
				held := series(rs, "preference", "eval_"+key)
				found := map[string]bool{}
				for _, s := range chart.Drawn {
					if s.Run != name || (s.Key != key && s.Key != "eval_"+key) {
						continue
					}
					found[s.Role] = true
					switch s.Role {
					case "raw":
						require.Equal(t, train, s.Points, "%s %s raw", name, key)
					case "smoothed":
						ys := make([]float64, len(train))
						for i, p := range train {
							ys[i] = p[1]
						}
						want := emaRef(ys, smoothing)
						require.Len(t, s.Points, len(want))
						for i := range want {
							require.Equal(t, train[i][0], s.Points[i][0])
							require.InDelta(t, want[i], s.Points[i][1], 1e-12*math.Max(1, math.Abs(want[i])), "%s %s smoothed at %d", name, key, i)
						}
						require.NotEqual(t, ys, func() []float64 {
							out := make([]float64, len(s.Points))
							for i, p := range s.Points {
								out[i] = p[1]
							}
							return out
						}(), "smoothing changes the values")
					case "eval":
						require.Equal(t, held, s.Points, "%s %s held-out", name, key)
					}
				}
				require.True(t, found["raw"] && found["smoothed"], "%s %s: raw and smoothed drawn", name, key)
				require.Equal(t, len(held) > 0, found["eval"], "%s %s: held-out drawn when logged", name, key)
				wantSeries += 2
				if len(held) > 0 {
					wantSeries++
				}
			}
		}
		require.Equal(t, wantSeries, chart.Series, metric)
		require.Len(t, chart.Drawn, wantSeries, metric)
	}

	// The judge table: each mean is the file's; with the answers files (the folder runs),
	// ± 2 s.e. over the prompts and the change's paired interval as the trainer computes it.
	judged := 0
	for _, cell := range in.Judge {
		name := cell["run"]
		if cell["kind"] == "change" {
			if name == "metrics" {
				continue // no answers files: no interval
			}
			dir := filepath.Dir(files[name])
			before := readAnswers(t, filepath.Join(dir, "answers-after-SFT.jsonl"))
			after := readAnswers(t, filepath.Join(dir, "answers-after-amopo.jsonl"))
			mean, se := recipe.PairedChange(before, after, cell["dim"])
			requireClose(t, mean, cell["value"], name+" change")
			requireClose(t, se, cell["se"], name+" change s.e.")
			continue
		}
		var want float64
		found := false
		for _, r := range rows[name] {
			if r.Stage == cell["stage"] {
				want, found = r.Values["judge/"+cell["dim"]], true
			}
		}
		require.True(t, found, "%v", cell)
		requireClose(t, want, cell["value"], name+" "+cell["stage"]+" "+cell["dim"])
		judged++
		if name == "metrics" {
			require.Empty(t, cell["se"], "no answers, no interval")
			continue
		}
		items := readAnswers(t, filepath.Join(filepath.Dir(files[name]), "answers-"+strings.ReplaceAll(strings.TrimSuffix(cell["stage"], "_judge"), " ", "-")+".jsonl"))
		var sum, sq float64
		for _, it := range items {
			sum += it[cell["dim"]]
		}
		mean := sum / float64(len(items))
		for _, it := range items {
			sq += (it[cell["dim"]] - mean) * (it[cell["dim"]] - mean)
		}
		requireClose(t, math.Sqrt(sq/float64(len(items)-1)/float64(len(items))), cell["se"], name+" s.e.")
		requireClose(t, mean, cell["value"], name+" mean of the answers")
	}
	require.Equal(t, 3*2*3, judged, "3 runs x 2 judge evaluations x 3 judged dimensions")
	require.Contains(t, in.JudgeNote, "metrics", "says which run has no intervals, and why")

	// The final-values table: the last logged value of each run.
	finals := 0
	for _, cell := range in.Final {
		if cell["key"] != "loss" && cell["key"] != "eval_loss" {
			continue
		}
		s := series(rows[cell["run"]], "preference", cell["key"])
		requireClose(t, s[len(s)-1][1], cell["value"], cell["run"]+" final "+cell["key"])
		finals++
	}
	require.Equal(t, 6, finals)

	require.Equal(t, in.Legend.Before, in.Legend.After)
	require.Less(t, in.Legend.Hidden, in.Legend.Before, "a legend click hides its series")
	require.Greater(t, in.Zoom.Zoomed[0], in.Zoom.Full[0])
	require.Less(t, in.Zoom.Zoomed[1], in.Zoom.Full[1])
	require.Equal(t, in.Zoom.Full, in.Zoom.Reset, "a double-click resets the zoom")
	require.Greater(t, in.Zoom.KeyZoomed[0], in.Zoom.Full[0], "+ zooms in")
	require.Less(t, in.Zoom.KeyZoomed[1], in.Zoom.Full[1], "+ zooms in")
	require.Equal(t, in.Zoom.Full, in.Zoom.KeyReset, "Escape resets the zoom")

	// The PNG: twice the plot's size on screen, taller for the title and legend.
	f, err := os.Open(in.PNGExport)
	require.NoError(t, err)
	cfg, err := png.DecodeConfig(f)
	f.Close()
	require.NoError(t, err)
	require.InDelta(t, 2*in.PNGWidth, cfg.Width, 2)
	require.Greater(t, cfg.Height, 2*220+2*34)
	requireColorful(t, in.PNGExport, 8)

	// x as tokens: a step that logged its running token count sits at that count.
	checked := 0
	for _, s := range in.Tokens {
		if s.Role != "raw" {
			continue
		}
		bySteps := series(rows[s.Run], "preference", "num_tokens")
		loss := series(rows[s.Run], "preference", "loss")
		for i, p := range loss {
			for _, nt := range bySteps {
				if nt[0] == p[0] {
					require.InDelta(t, nt[1], s.Points[i][0], 1e-9, "%s step %v", s.Run, p[0])
					checked++
				}
			}
		}
	}
	require.Positive(t, checked)

	// The SFT stage is drawn, and says it has no weights instead of drawing empty axes.
	require.Contains(t, in.SFT.Charts, "loss")
	require.NotContains(t, in.SFT.Charts, "weights/{dim}_alpha")
	require.Contains(t, in.SFT.Note, "no per-dimension weights")
	for name, rs := range rows {
		sft := series(rs, "sft", "loss")
		found := false
		for _, s := range in.SFT.Charts["loss"].Drawn {
			if s.Run == name && s.Role == "raw" {
				require.Equal(t, sft, s.Points)
				found = true
			}
		}
		require.True(t, found, name)
	}
}

func requireClose(t *testing.T, want float64, got string, what string) {
	t.Helper()
	v, err := strconv.ParseFloat(got, 64)
	require.NoError(t, err, "%s: %q", what, got)
	require.InDelta(t, want, v, 1e-12*math.Max(1, math.Abs(want)), what)
}

func checkLive(t *testing.T, l *liveOut) {
	require.Empty(t, l.Console)
	require.Nil(t, l.Stuck, "a written step did not show within 10 s")
	require.NotNil(t, l.WriterExit)
	require.Zero(t, *l.WriterExit)
	require.Equal(t, 300, l.FileRows)
	worst := 0.0
	for _, lag := range l.Lags {
		worst = math.Max(worst, lag.Ms)
	}
	t.Logf("followed %d new last steps while the run wrote; slowest shown %.0f ms after it was seen written; slowest redraw %.0f ms; lags %v",
		len(l.Lags), worst, l.DrawMs, l.Lags)
	require.Greater(t, len(l.Lags), 1, "the page saw the run grow")
	require.Less(t, worst, 3000.0)
	require.Equal(t, l.FileLastStep, l.PageLastStep)
	require.Less(t, l.FinalLagMs, 3000.0)
	// The file rewritten with its first 5 rows (cmd/train --resume): the page starts over.
	require.Equal(t, l.TruncatedLastStep, l.AfterTruncateStep)
	require.Less(t, l.TruncateLagMs, 3000.0)
	require.Equal(t, 5, l.AfterTruncateRows, "the loss chart has the 5 rows left")
}
