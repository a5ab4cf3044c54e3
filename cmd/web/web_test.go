package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/wasm/sampling"
	"github.com/amopo-engine/amopo/web/webtest"
	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
	"github.com/stretchr/testify/require"
)

// browserOut is what web/test/browser.mjs read back from the page.
type browserOut struct {
	Error       string
	Console     []string
	Wasm        string
	FirstDrawMs float64 `json:"firstDrawMs"`
	BadInput    string  `json:"badInput"`
	Sample      struct {
		State, Error, LossBackend, Request string
		MeanAlpha                          map[string][]float64
		DrawRaw, DrawAlpha                 []float64
		Loss                               float64
		Alpha, Mu, Sigma, Margins, Losses  []float64
		Histograms                         int
	}
	Inspect inspectOut
	Train   struct {
		State, Error, Note, Backend, BackendNote, Progress string
		Losses                                             []float64
		JSONL                                              string `json:"jsonl"`
		Inspected                                          map[string]string
	}
	Layouts []struct {
		Width, ScrollWidth, InnerWidth, OverflowCount, Cards int
		Overflow                                             []string
		Screenshot                                           string
	}
	Live *liveOut
}

// TestPageInChromium builds the wasm once, serves the page on 127.0.0.1 and drives
// headless Chromium through inspecting real cmd/train runs side by side, following a run
// as it is written, weight sampling and live training; every number read back from the
// DOM is checked against the files and the Go module.
func TestPageInChromium(t *testing.T) {
	testDir := webtest.TestDir(t)
	webtest.Chromium(t)
	root := webtest.Root(t)
	tmp := t.TempDir()
	wasmPath := filepath.Join(tmp, "amopo.wasm")
	metricsPath := filepath.Join(tmp, "run.jsonl")
	demoBin := filepath.Join(tmp, "amopo-demo")

	// The wasm build and the short training run are independent: do them side by side.
	var wg sync.WaitGroup
	var buildErr, demoErr, trainErr error
	var demoOut, trainOut []byte
	trainerMetrics := filepath.Join(tmp, "train", "metrics.jsonl")
	wg.Add(3)
	go func() {
		defer wg.Done()
		// A tiny cmd/train run: its metrics file has stages, eval and judge rows.
		train := exec.Command("go", "run", "./cmd/train", "--out_dir", filepath.Dir(trainerMetrics),
			"--sft.steps", "2", "--sft.batch_size", "4", "--preference.steps", "4", "--preference.batch_size", "2",
			"--data.train_size", "16", "--data.eval_size", "2", "--log_every", "1", "--peak_tflops", "0.01")
		train.Dir = root
		trainOut, trainErr = train.CombinedOutput()
	}()
	go func() { defer wg.Done(); buildErr = BuildWasm(root, wasmPath) }()
	go func() {
		defer wg.Done()
		build := exec.Command("go", "build", "-o", demoBin, "./cmd/amopo-demo")
		build.Dir = root
		if demoOut, demoErr = build.CombinedOutput(); demoErr != nil {
			return
		}
		demoOut, demoErr = exec.Command(demoBin, "--steps", "20", "--metrics", metricsPath).CombinedOutput()
	}()
	wg.Wait()
	require.NoError(t, buildErr)
	require.NoError(t, demoErr, "amopo-demo: %s", demoOut)
	require.NoError(t, trainErr, "train: %s", trainOut)
	run := readMetrics(t, metricsPath)
	require.Len(t, run, 20)

	malformedPath := filepath.Join(tmp, "bad.jsonl")
	lines, err := os.ReadFile(metricsPath)
	require.NoError(t, err)
	first3 := strings.Join(strings.SplitN(string(lines), "\n", 4)[:3], "\n")
	require.NoError(t, os.WriteFile(malformedPath, []byte(first3+"\n{\"step\": 3, \"loss\": \n[1,2]\n\n{\"loss\": 1}\n{\"step\": 4, \"loss\": \"x\"}\n"), 0o644))
	runsDir := exampleRunsDir(t, root, filepath.Join(tmp, "runs"))

	goroot, err := goEnv("GOROOT")
	require.NoError(t, err)
	wasmExec := filepath.Join(goroot, "lib", "wasm", "wasm_exec.js")
	handler, err := newHandler(wasmPath, wasmExec, nil)
	require.NoError(t, err)
	base := serve(t, handler, serverTimeouts)
	// A second server follows a run that has not started: the live test's writer starts it.
	liveDir := filepath.Join(tmp, "live")
	require.NoError(t, os.MkdirAll(liveDir, 0o755))
	liveRuns, err := findRuns([]string{liveDir})
	require.NoError(t, err)
	liveHandler, err := newHandler(wasmPath, wasmExec, liveRuns)
	require.NoError(t, err)
	liveBase := serve(t, liveHandler, serverTimeouts)
	liveFile := filepath.Join(liveDir, metricsFile)

	// The page names new rows after the default dimensions.
	sample := sampling.Request{Policy: "gaussian", Seed: 7, N: 300, Dimensions: []string{"general", "helpfulness", "correctness"},
		ChosenProbs:   [][]float64{{0.9, 0.8}, {0.5}, {0.7, 0.2, 0.4}},
		RejectedProbs: [][]float64{{0.3}, {0.6, 0.1}, {0.2}}}
	const draw, lossName, trainSteps, smoothing = 3, "amopo", 3, 0.8
	list := func(xs []float64) string {
		s := make([]string, len(xs))
		for i, x := range xs {
			s[i] = strconv.FormatFloat(x, 'g', -1, 64)
		}
		return strings.Join(s, ", ")
	}
	cfg := map[string]any{"url": base + "/", "outDir": tmp, "trainerMetrics": trainerMetrics, "runsDir": runsDir,
		"malformed": malformedPath, "trainSteps": trainSteps, "smoothing": smoothing,
		"live": map[string]any{"url": liveBase + "/", "file": liveFile,
			"writer": []string{demoBin, "--steps", "300", "--metrics", liveFile}},
		"sampling": map[string]any{"seed": sample.Seed, "n": sample.N, "draw": draw, "policy": sample.Policy, "loss": lossName,
			"chosen":   []string{list(sample.ChosenProbs[0]), list(sample.ChosenProbs[1]), list(sample.ChosenProbs[2])},
			"rejected": []string{list(sample.RejectedProbs[0]), list(sample.RejectedProbs[1]), list(sample.RejectedProbs[2])}}}
	arg, err := json.Marshal(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	node := exec.CommandContext(ctx, "node", "browser.mjs", string(arg))
	node.Dir = testDir
	var stderr bytes.Buffer
	node.Stderr = &stderr
	stdout, err := node.Output()
	require.NoError(t, err, "node browser.mjs: %s", stderr.String())
	var got browserOut
	require.NoError(t, json.Unmarshal(stdout, &got), "%s", stdout)
	require.Empty(t, got.Error, "the browser script failed; console: %v", got.Console)
	for _, line := range got.Console {
		require.NotContains(t, line, "error", "the page logged an error")
	}
	require.Equal(t, "ready", got.Wasm)

	t.Run("real runs side by side", func(t *testing.T) {
		checkInspect(t, &got.Inspect, smoothing, map[string]string{
			"metrics": trainerMetrics,
			"amopo":   filepath.Join(runsDir, "amopo", metricsFile),
			"fixed":   filepath.Join(runsDir, "fixed", metricsFile),
		})
	})

	t.Run("the layout fits from 400 to 1400 px", func(t *testing.T) {
		require.Len(t, got.Layouts, 2)
		for _, l := range got.Layouts {
			t.Logf("%d px: %d cards, page %d px wide, screenshot %s", l.Width, l.Cards, l.ScrollWidth, l.Screenshot)
			require.Zero(t, l.OverflowCount, "%d px: elements outside their card: %q", l.Width, l.Overflow)
			require.LessOrEqual(t, l.ScrollWidth, l.InnerWidth, "%d px: the page scrolls sideways", l.Width)
			require.Greater(t, l.Cards, 10, "the run's charts are laid out")
			requireColorful(t, l.Screenshot, 64)
		}
	})

	t.Run("a run is followed while it trains", func(t *testing.T) {
		require.NotNil(t, got.Live)
		checkLive(t, got.Live)
	})

	t.Run("sampling equals the Go module", func(t *testing.T) {
		s := got.Sample
		require.Equal(t, "done", s.State, s.Error)
		require.Equal(t, 8, s.Histograms, "raw and alpha histograms for each of the 4 policies")
		for _, policy := range []string{"gaussian", "gaussian-split", "fixed", "uniform"} {
			req := sample
			req.Policy = policy
			if policy == "fixed" {
				req.Weights = []float64{1, 1, 1} // the page's default fixed weights
			}
			want, err := sampling.Sample(&req)
			require.NoError(t, err)
			// The page's wasm and this amd64 test use Go's math in different builds
			// (portable vs assembly Exp/Log): equal to the last bits or nearly.
			require.InDeltaSlice(t, want.MeanAlpha, s.MeanAlpha[policy], 1e-12, policy)
			if policy == sample.Policy {
				require.InDeltaSlice(t, want.Raw[draw], s.DrawRaw, 1e-12)
				require.InDeltaSlice(t, want.Alpha[draw], s.DrawAlpha, 1e-12)
			}
		}
		// A probability typed as a word is refused with what was typed, not read as 0.
		require.Contains(t, got.BadInput, `"abc" is not a number`)
		require.Contains(t, got.BadInput, `"0.9, abc"`)
		// The first draw (wasm fetched, compiled and run over loopback): measured, not
		// asserted tightly, as 8 agents share this machine's 2 cores.
		t.Logf("first sampling draw %.0f ms after navigation", got.FirstDrawMs)
		require.Positive(t, got.FirstDrawMs)
	})

	t.Run("loss equals cmd/loss's amopo.Evaluate", func(t *testing.T) {
		s := got.Sample
		require.Contains(t, s.LossBackend, "amopo.Evaluate")
		lossReq, err := sample.LossRequest(lossName, draw)
		require.NoError(t, err)
		var shown spec.Request
		require.NoError(t, json.Unmarshal([]byte(s.Request), &shown))
		require.Equal(t, lossReq, shown, "the page shows the request it evaluated")
		p, pair, err := lossReq.Resolve()
		require.NoError(t, err)
		backend, err := backends.NewWithConfig("go")
		require.NoError(t, err)
		defer backend.Finalize()
		res, _, err := amopo.Evaluate(backend, &p, []spec.Pair{pair}, false)
		require.NoError(t, err)
		want := res.Response(&p)
		require.InEpsilon(t, want.Loss, s.Loss, 1e-12)
		require.InDeltaSlice(t, want.Alpha, s.Alpha, 1e-12)
		require.InDeltaSlice(t, want.Mu, s.Mu, 1e-12)
		require.InDeltaSlice(t, want.Sigma, s.Sigma, 1e-12)
		require.InDeltaSlice(t, want.Margins, s.Margins, 1e-12)
		require.InDeltaSlice(t, want.Losses, s.Losses, 1e-12)
	})

	t.Run("malformed lines are named and skipped", func(t *testing.T) {
		m := got.Inspect.Malformed
		require.Equal(t, "3", m.Run["steps"])
		want := []string{ // the first reason goes on with the JSON parser's own words
			"bad, line 4: not valid JSON (",
			"bad, line 5: not a JSON object: \"[1,2]\"",
			"bad, line 7: no numeric \"step\": ",
			"bad, line 8: \"loss\" is not a number (it is \"x\")",
		}
		require.Len(t, m.Errors, len(want), "%q", m.Errors)
		for i, w := range want {
			require.True(t, strings.HasPrefix(m.Errors[i], w), "%q, want %q...", m.Errors[i], w)
		}
	})

	t.Run("live training matches cmd/amopo-demo", func(t *testing.T) {
		require.Equal(t, "done", got.Train.State, got.Train.Error)
		// Chromium with --enable-unsafe-webgpu grants an adapter (SwiftShader): the steps run
		// on the webgpu backend in the wasm, and must not have fallen back to pure Go.
		require.Contains(t, got.Train.Note, "WebGPU: available")
		require.Equal(t, "webgpu", got.Train.Backend, "%s\nconsole: %q", got.Train.BackendNote, got.Console)
		require.Contains(t, got.Train.BackendNote, "webgpu backend")
		t.Logf("%s; %s", got.Train.BackendNote, got.Train.Progress)
		require.Len(t, got.Train.Losses, trainSteps)
		for i, loss := range got.Train.Losses {
			// The pure-Go run of the same toy, seed and policy (cmd/amopo-demo; the pure-Go
			// wasm path matches it within 1e-5); float32 kernels on WebGPU: 1e-4 relative.
			rel := math.Abs(loss-run[i]["loss"]) / math.Abs(run[i]["loss"])
			t.Logf("step %d: loss webgpu (browser) %.7f, go %.7f, relative difference %.1e", i, loss, run[i]["loss"], rel)
			require.LessOrEqual(t, rel, 1e-4, "step %d", i)
		}
		// Downloaded as JSONL, and opened in "Inspect a run": the same steps.
		toy := readMetrics(t, got.Train.JSONL)
		require.Len(t, toy, trainSteps)
		for i, row := range toy {
			require.Equal(t, got.Train.Losses[i], row["loss"])
		}
		require.Equal(t, strconv.Itoa(trainSteps), got.Train.Inspected["steps"])
	})
}

func readMetrics(t *testing.T, path string) []map[string]float64 {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var rows []map[string]float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]float64
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		rows = append(rows, m)
	}
	require.NoError(t, sc.Err())
	return rows
}

// requireColorful decodes a PNG and requires at least min distinct colours: a blank or
// failed render has one or two.
func requireColorful(t *testing.T, path string, min int) {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err, path)
	b := img.Bounds()
	require.Greater(t, b.Dx(), 100)
	colors := map[[4]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			colors[[4]uint32{r >> 8, g >> 8, bl >> 8, a >> 8}] = true
		}
	}
	require.GreaterOrEqual(t, len(colors), min, "%s looks blank", path)
}

func TestWasmStaleness(t *testing.T) {
	root := webtest.Root(t)
	out := filepath.Join(t.TempDir(), "amopo.wasm")
	stale, why, err := wasmStale(root, out)
	require.NoError(t, err)
	require.True(t, stale)
	require.Equal(t, "no wasm yet", why)

	require.NoError(t, os.WriteFile(out, []byte("wasm"), 0o644))
	future := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(out, future, future))
	stale, _, err = wasmStale(root, out)
	require.NoError(t, err)
	require.False(t, stale, "newer than every source file")

	past := time.Unix(0, 0)
	require.NoError(t, os.Chtimes(out, past, past))
	stale, why, err = wasmStale(root, out)
	require.NoError(t, err)
	require.True(t, stale)
	require.Contains(t, why, "older than")
}

func TestHandlerServesThePageOffline(t *testing.T) {
	dir := t.TempDir()
	wasm, exec := filepath.Join(dir, "a.wasm"), filepath.Join(dir, "wasm_exec.js")
	require.NoError(t, os.WriteFile(wasm, []byte("\x00asm"), 0o644))
	require.NoError(t, os.WriteFile(exec, []byte("// go"), 0o644))
	h, err := newHandler(wasm, exec, nil)
	require.NoError(t, err)
	base := serve(t, h, serverTimeouts)
	for path, ctype := range map[string]string{"/": "text/html", "/amopo.wasm": "application/wasm",
		"/wasm_exec.js": "javascript", "/js/main.js": "javascript", "/style.css": "text/css"} {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Contains(t, resp.Header.Get("Content-Type"), ctype, path)
	}
	// No file of the page refers to another host: it works offline.
	page, err := os.ReadFile(filepath.Join(webtest.Root(t), "web", "index.html"))
	require.NoError(t, err)
	require.NotRegexp(t, `(src|href)="(https?:)?//`, string(page))
	_, err = newHandler(filepath.Join(dir, "missing.wasm"), exec, nil)
	require.ErrorContains(t, err, "missing.wasm")
}
