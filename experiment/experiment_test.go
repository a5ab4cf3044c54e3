package experiment

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/data/task"
	"github.com/stretchr/testify/require"
)

func TestStatistics(t *testing.T) {
	s := Summarize([]float64{1, 2, 3})
	require.InDelta(t, 2, s.Mean, 1e-12)
	require.InDelta(t, 4.303*1/math.Sqrt(3), s.HalfWidth, 1e-9) // sd 1, t(2) = 4.303
	require.True(t, math.IsNaN(Summarize([]float64{5}).HalfWidth))
	require.InDelta(t, 1.9623, TQuantile975(1000), 1e-4) // t(1000), not yet the normal's 1.96
	require.InDelta(t, 2.042, TQuantile975(30), 1e-12)
	require.InDelta(t, 0.5, WinRate([]float64{3, 1, 2, 0}, []float64{1, 1, 3, 0}), 1e-12) // (1 + .5 + 0 + .5) / 4
	require.InDelta(t, 0.75, WinRate([]float64{3, 2}, []float64{1, 2}), 1e-12)
}

func TestPresetsValidate(t *testing.T) {
	for _, name := range []string{"tiny", "cpu", "cpu-3", "gpu"} {
		cfg, err := Preset(name)
		require.NoError(t, err)
		require.NoError(t, cfg.Validate(), name)
		require.GreaterOrEqual(t, len(cfg.Seeds), 2, name)
	}
	cpu, _ := Preset("cpu")
	require.GreaterOrEqual(t, len(cpu.Seeds), 10, "the protocol's preset runs at least 10 seeds")
	names := map[string]bool{}
	for _, m := range cpu.Methods {
		names[m.Name] = true
	}
	for _, n := range []string{"amopo", "amopo-split", "amopo-fixed", "amopo-no-ln", "amopo-ref", "simpo", "dpo", "orpo",
		"contrastive-cpo", "cal-dpo", "controllable-cpo", "modpo", "spo"} {
		require.True(t, names[n], n)
	}
	// The estimate counts what each method adds: more seeds, SPO's per-stage reference
	// passes, controllable CPO's CPSFT.
	est, err := EstimateCost(cpu, Throughput{SFT: 1000, Preference: 300})
	require.NoError(t, err)
	slow, err := EstimateCost(cpu, Throughput{SFT: 1000, Preference: 150})
	require.NoError(t, err)
	require.InDelta(t, est.PrefTokens/300, slow.Seconds-est.Seconds, 1e-6, "preference tokens at the preference throughput")
	_, err = EstimateCost(cpu, Throughput{SFT: 1000})
	require.ErrorContains(t, err, "throughputs must be > 0")
	three, _ := Preset("cpu-3")
	est3, err := EstimateCost(three, Throughput{SFT: 1000, Preference: 300})
	require.NoError(t, err)
	require.Greater(t, est.Seconds, est3.Seconds, "10 seeds vs 3: %s vs %s", est, est3)
	for _, n := range []string{"spo", "controllable-cpo", "modpo", "amopo-ref"} {
		without := three
		without.Methods = nil
		for _, m := range three.Methods {
			if m.Name != n {
				without.Methods = append(without.Methods, m)
			}
		}
		without.Claims = nil
		e, err := EstimateCost(without, Throughput{SFT: 1000, Preference: 300})
		require.NoError(t, err)
		require.Less(t, e.Seconds, est3.Seconds, n)
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "exp.yaml")
	require.NoError(t, os.WriteFile(path, []byte("seeds: [4, 5]\nclaims: []\nmethods:\n  - {name: x, loss: simpo, lr: [0.001]}\n"), 0o644))
	require.NoError(t, Load(path, &cpu))
	require.Equal(t, []uint64{4, 5}, cpu.Seeds)
	require.NoError(t, cpu.Validate())
	require.NoError(t, os.WriteFile(path, []byte("sedes: [4]\n"), 0o644))
	require.Error(t, Load(path, &cpu))
}

// Every method of the paper's comparison gets the same number of grid points, at every
// level, so that no method is tuned harder than another.
func TestPaperGridsAreTheSameSize(t *testing.T) {
	for level, want := range []int{1, 4, 6} {
		for _, m := range PaperMethods(level) {
			grid, err := m.Grid(1e-4)
			require.NoError(t, err)
			require.Len(t, grid, want, "level %d, method %s", level, m.Name)
		}
	}
}

// The refusals of the new method keys.
func TestMethodKeysRefused(t *testing.T) {
	cfg, err := Preset("tiny")
	require.NoError(t, err)
	for _, tc := range []struct {
		m    Method
		want string
	}{
		{Method{Name: "s", Loss: "dpo", Schedule: "sequential"}, "schedule"},
		{Method{Name: "s", Loss: "dpo", Schedule: ScheduleSPO, Templates: "all"}, "K = 1"},
		{Method{Name: "m", Loss: "modpo", ObjectiveWeights: []float64{0.5, 0.5}}, "one per task dimension"},
		{Method{Name: "d", Loss: "dpo", ObjectiveWeights: []float64{0.5, 0.5, 0}}, "MODPO's"},
		{Method{Name: "c", Loss: "controllable-cpo", Templates: "all"}, "K = 1"},
	} {
		c := cfg
		c.Claims = nil
		c.Methods = []Method{tc.m}
		require.ErrorContains(t, c.Validate(), tc.want, tc.m.Name)
	}
	c := cfg
	c.Pref.Steps = 2
	c.Claims = nil
	c.Methods = []Method{{Name: "spo", Loss: "dpo", Schedule: ScheduleSPO}}
	require.ErrorContains(t, c.Validate(), "at least one step each")
	c = cfg
	c.Claims[0].Equivalence = -1
	require.ErrorContains(t, c.Validate(), "equivalence")
}

// TestProtocolEndToEndAtATinySize runs the whole protocol (SFT, generator and on-policy
// pairs, reference log-probs, a grid, two methods, two seeds, judging, statistics, the
// report and the plots) and checks that the report's numbers are those of the run.
func TestProtocolEndToEndAtATinySize(t *testing.T) {
	cfg, err := Preset("tiny")
	require.NoError(t, err)
	cfg.OutDir = t.TempDir()
	cfg.RunsDir = t.TempDir()
	var log bytes.Buffer
	res, err := Run(cfg, &log)
	require.NoError(t, err, log.String())
	a, path, err := Write(res, Meta{Command: "go test ./experiment", Machine: MachineInfo()})
	require.NoError(t, err)
	report, err := os.ReadFile(path)
	require.NoError(t, err)
	text := string(report)

	// The held-out prompts are the generator's, and the scores are the judges' on the
	// recorded answers.
	ds, err := task.Generate(task.Config{Seed: cfg.Data.DataSeed, Train: cfg.Data.TrainSize,
		Eval: cfg.Data.ValidationSize + cfg.Data.TestSize})
	require.NoError(t, err)
	test := ds.Eval[cfg.Data.ValidationSize:]
	require.Len(t, res.Seeds, 2)
	for _, sr := range res.Seeds {
		require.Greater(t, sr.GeneratorPairs, 0)
		require.Equal(t, cfg.OnPolicy.Prompts, sr.OnPolicyPairs+sr.OnPolicySkipped)
		for _, n := range a.Names {
			ev := sr.Evaluation(n)
			require.Len(t, ev.Answers, len(test), n)
			sum := map[string]float64{}
			for i, it := range test {
				s := task.Judge(it.Meta, ev.Answers[i])
				require.Equal(t, s, ev.Scores[i])
				for _, d := range task.Dimensions() {
					sum[d] += s[d] / float64(len(test))
					sum[Total] += s[d] / float64(len(test))
				}
			}
			for c, v := range sum {
				require.InDelta(t, v, ev.Mean[c], 1e-9, "%s %s", n, c)
			}
		}
	}
	// The grid was searched on the first seed only, and its pick reused.
	first, second := res.Seeds[0].Methods["amopo"], res.Seeds[1].Methods["amopo"]
	require.Len(t, first.Tried, 2)
	require.Empty(t, second.Tried)
	require.Equal(t, res.Chosen["amopo"], second.Point)
	require.Equal(t, first.Point, second.Point)
	// AMoPO logged its weights at every step, for the 4 templates; DPO has none.
	require.Len(t, first.Alpha, 4)
	for _, v := range first.Alpha {
		require.Len(t, v, cfg.Pref.Steps)
	}
	require.Nil(t, res.Seeds[0].Methods["dpo"].Alpha)

	checkTable(t, res, a, text)
	// Win rates recomputed from the per-prompt scores.
	var xs []float64
	for _, sr := range res.Seeds {
		var am, dp []float64
		for i := range test {
			am = append(am, task.Total(sr.Methods["amopo"].Test.Scores[i]))
			dp = append(dp, task.Total(sr.Methods["dpo"].Test.Scores[i]))
		}
		xs = append(xs, WinRate(am, dp))
	}
	want := Summarize(xs)
	require.InDelta(t, want.Mean, a.Win["amopo"]["dpo"].Mean, 1e-12)
	require.InDelta(t, 1-want.Mean, a.Win["dpo"]["amopo"].Mean, 1e-12)
	require.InDelta(t, want.Mean, a.Claims[0].Win.Mean, 1e-12)
	require.Contains(t, text, "| AMoPO beats DPO | amopo vs dpo | "+fmtSigned(a.Claims[0].Diff, 3))
	// Every baseline of the paper trained and has a result row; the floors were scored on
	// the test prompts with the judges.
	for _, m := range cfg.Methods {
		require.Contains(t, text, "| "+m.Name+" | "+methodLabel(cfg, m.Name), m.Name)
	}
	floors := FloorAnswers(test)
	for _, n := range FloorNames() {
		require.Equal(t, floors[n], res.Floors[n].Answers)
		for i, it := range test {
			require.Equal(t, task.Judge(it.Meta, floors[n][i]), res.Floors[n].Scores[i], n)
		}
		require.Contains(t, text, fmt.Sprintf("| %s | - | %.3f |", n, res.Floors[n].Mean[task.Dimensions()[0]]))
	}
	for _, s := range []string{"spo stage 0 (helpfulness)", "spo stage 2 (instruction_following)", "modpo: ", "cpsft"} {
		require.Contains(t, log.String(), s)
	}
	require.Len(t, res.Seeds[0].Methods["amopo-ref"].Alpha, 4, "amopo-ref trains on the K = 4 templates")
	checkResume(t, cfg, res)

	for _, s := range []string{"## Judge scores", "### Against SFT", "### Between methods", "## The paper's claims",
		"## Per-seed scores", "## Grid search", "command: `go test ./experiment`", "seeds: [1 2]", "machine: host ",
		"wall time: ", "![scores](scores.png)", "![alpha-amopo](alpha-amopo.png)"} {
		require.Contains(t, text, s)
	}
	for _, f := range []string{"scores.png", "alpha-amopo.png"} {
		fh, err := os.Open(filepath.Join(cfg.OutDir, f))
		require.NoError(t, err)
		img, err := png.Decode(fh)
		fh.Close()
		require.NoError(t, err, f)
		require.Greater(t, img.Bounds().Dx(), 100)
	}
	// The report renders again from results.json alone, identically.
	again, err := ReadResults(filepath.Join(cfg.OutDir, "results.json"))
	require.NoError(t, err)
	require.Equal(t, "go test ./experiment", again.Meta.Command)
	plots := []string{"scores.png"}
	for _, m := range cfg.Methods {
		if res.Seeds[0].Methods[m.Name].Alpha != nil {
			plots = append(plots, "alpha-"+m.Name+".png")
		}
	}
	require.Equal(t, []string{"scores.png", "alpha-amopo.png", "alpha-amopo-fixed.png", "alpha-amopo-ref.png"}, plots)
	require.Equal(t, text, Markdown(again, Analyze(again), *again.Meta, plots))
	require.NoFileExists(t, filepath.Join(cfg.OutDir, "alpha-dpo.png"))
	require.NoDirExists(t, filepath.Join(cfg.OutDir, "runs"))
	require.FileExists(t, filepath.Join(cfg.RunsDir, "seed-2", "dpo", "metrics.jsonl"))
	require.NoDirExists(t, filepath.Join(cfg.RunsDir, "seed-2", "dpo", "checkpoints")) // removed once judged
}

// checkTable checks that the report's table rows hold the means and intervals of the
// per-seed scores, as formatted, and the per-seed rows are there.
func checkTable(t *testing.T, res *Results, a *Analysis, text string) {
	for _, n := range a.Names {
		row := ""
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, "| "+n+" | ") && !strings.Contains(line, "| 1 |") && !strings.Contains(line, "| 2 |") {
				row = line
				break
			}
		}
		require.NotEmpty(t, row, n)
		for _, c := range a.Columns {
			var xs []float64
			for _, sr := range res.Seeds {
				xs = append(xs, sr.Evaluation(n).Mean[c])
			}
			s := Summarize(xs)
			require.Equal(t, s.Mean, a.Scores[n][c].Mean)
			require.Contains(t, row, " "+fmtCI(s, 3)+" |", "%s %s", n, c)
		}
		// Per-seed rows.
		for _, sr := range res.Seeds {
			require.Contains(t, text, fmt.Sprintf("| %s | %d |", n, sr.Seed))
		}
	}
}

// TestReportNumbersAreTheRunsOwn builds results with distinct per-prompt scores and
// checks every table cell, win rate and claim of the report against them.
func TestReportNumbersAreTheRunsOwn(t *testing.T) {
	cfg, err := Preset("tiny")
	require.NoError(t, err)
	cfg.OutDir = t.TempDir()
	cfg.Seeds = []uint64{1, 2, 3}
	cfg.Methods = cfg.Methods[:2] // amopo, dpo
	cfg.Claims = []Claim{{Text: "AMoPO beats DPO", Method: "amopo", Over: []string{"dpo"}},
		{Text: "AMoPO beats SFT", Method: "amopo", Over: []string{SFT}}}
	rng := rand.New(rand.NewPCG(9, 9))
	dims := task.Dimensions()
	eval := func(shift int) Eval {
		ev := Eval{Mean: map[string]float64{}}
		for i := 0; i < 10; i++ {
			s := data.Scores{}
			for _, d := range dims {
				s[d] = float64(min(4, rng.IntN(4)+shift))
				ev.Mean[d] += s[d] / 10
				ev.Mean[Total] += s[d] / 10
			}
			ev.Scores = append(ev.Scores, s)
			ev.Answers = append(ev.Answers, "x")
		}
		return ev
	}
	res := &Results{Config: cfg, Dimensions: dims, Chosen: map[string]Point{"amopo": {Beta: 0.8, Gamma: 2, LR: 1e-4}, "dpo": {Beta: 0.2, LR: 2.5e-4}}}
	for _, seed := range cfg.Seeds {
		sr := &SeedRun{Seed: seed, SFT: eval(0), Methods: map[string]*MethodRun{
			"amopo": {Method: "amopo", Seed: seed, Point: res.Chosen["amopo"], Test: eval(1),
				Alpha: map[string][]float64{"general": {0.2, 0.3}, "correctness": {0.8, 0.7}}},
			"dpo": {Method: "dpo", Seed: seed, Point: res.Chosen["dpo"], Test: eval(0)},
		}}
		res.Seeds = append(res.Seeds, sr)
	}
	a, path, err := Write(res, Meta{Command: "cmd", Machine: "m"})
	require.NoError(t, err)
	text, err := os.ReadFile(path)
	require.NoError(t, err)
	checkTable(t, res, a, string(text))
	require.NotZero(t, a.Scores["amopo"][Total].HalfWidth)
	for _, x := range []string{SFT, "amopo", "dpo"} {
		for _, y := range []string{SFT, "amopo", "dpo"} {
			if x == y {
				continue
			}
			var xs []float64
			for _, sr := range res.Seeds {
				var p, q []float64
				for i := range sr.Evaluation(x).Scores {
					p = append(p, task.Total(sr.Evaluation(x).Scores[i]))
					q = append(q, task.Total(sr.Evaluation(y).Scores[i]))
				}
				xs = append(xs, WinRate(p, q))
			}
			want := Summarize(xs)
			require.InDelta(t, want.Mean, a.Win[x][y].Mean, 1e-12)
			require.InDelta(t, want.HalfWidth, a.Win[x][y].HalfWidth, 1e-12)
			if y == SFT {
				require.Contains(t, string(text), "| "+x+" | "+fmtCI(want, 3)+" |")
			}
		}
	}
	// The claims: one-sided paired t-tests on the per-seed sums, Holm over the two.
	var p []float64
	for i, other := range []string{"dpo", SFT} {
		var d []float64
		for _, sr := range res.Seeds {
			d = append(d, sr.Methods["amopo"].Test.Mean[Total]-sr.Evaluation(other).Mean[Total])
		}
		s := Summarize(d)
		sd := math.Sqrt(((d[0]-s.Mean)*(d[0]-s.Mean) + (d[1]-s.Mean)*(d[1]-s.Mean) + (d[2]-s.Mean)*(d[2]-s.Mean)) / 2)
		tt := s.Mean / (sd / math.Sqrt(3))
		p = append(p, 0.5-tt/(2*math.Sqrt(2+tt*tt))) // the t tail on 2 degrees of freedom
		require.InDelta(t, p[i], a.Claims[i].P, 1e-12)
		require.InDelta(t, s.Mean/sd, a.Claims[i].DZ, 1e-12)
	}
	lo, hi := min(p[0], p[1]), max(p[0], p[1])
	adj := map[float64]float64{lo: min(1, 2*lo), hi: max(min(1, 2*lo), hi)}
	for i, c := range a.Claims {
		require.InDelta(t, adj[p[i]], c.Adjusted, 1e-12)
		require.Contains(t, string(text), fmt.Sprintf("| %s | amopo vs %s | %s | %.2f | %s | %s | %s | %s |", c.Claim, c.Over,
			fmtSigned(c.Diff, 3), c.DZ, fmtCI(c.Win, 3), fmtP(c.P), fmtP(c.Adjusted), c.Verdict))
		row := "| amopo vs " + c.Over + " |"
		for _, d := range dims {
			var dd []float64
			for _, sr := range res.Seeds {
				dd = append(dd, sr.Methods["amopo"].Test.Mean[d]-sr.Evaluation(c.Over).Mean[d])
			}
			row += " " + fmtSigned(Summarize(dd), 3) + " |"
		}
		require.Contains(t, string(text), row+"\n")
	}
	// The change against SFT, per dimension, paired by seed.
	for _, c := range a.Columns {
		var xs []float64
		for _, sr := range res.Seeds {
			xs = append(xs, sr.Methods["amopo"].Test.Mean[c]-sr.SFT.Mean[c])
		}
		want := Summarize(xs)
		require.InDelta(t, want.Mean, a.Delta["amopo"][c].Mean, 1e-12)
		require.Contains(t, string(text), fmtSigned(want, 3)+" ("+ChangeVerdict(want)+")")
	}
	require.Contains(t, string(text), "Every dimension improves (paper, Tables 2-3), for amopo against SFT: "+EveryDimension(a.Delta["amopo"], dims))
	require.Contains(t, string(text), "## In short\n\n- "+ClaimSummary(a.Claims, a, dims)[0]+"\n")
	require.Equal(t, []float64{0.2, 0.3}, a.Alpha["amopo"]["general"])
	require.FileExists(t, filepath.Join(cfg.OutDir, "alpha-amopo.png"))
}

func TestChangeVerdicts(t *testing.T) {
	up, down, flat := Summarize([]float64{0.3, 0.4, 0.5}), Summarize([]float64{-0.3, -0.4, -0.5}), Summarize([]float64{-0.3, 0.4, 0.1})
	require.Equal(t, "improved", ChangeVerdict(up))
	require.Equal(t, "worse", ChangeVerdict(down))
	require.Equal(t, "unclear", ChangeVerdict(flat))
	require.Equal(t, "unclear", ChangeVerdict(Summarize([]float64{1})), "one seed says nothing")
	dims := []string{"a", "b"}
	require.Equal(t, "held (a improved, b improved)", EveryDimension(map[string]Summary{"a": up, "b": up}, dims))
	require.Equal(t, "inconclusive (a improved, b unclear)", EveryDimension(map[string]Summary{"a": up, "b": flat}, dims))
	require.Equal(t, "did not hold (a unclear, b worse)", EveryDimension(map[string]Summary{"a": flat, "b": down}, dims))
}

func TestClaimSummary(t *testing.T) {
	tests := []ClaimTest{
		{Claim: "AMoPO beats the baselines", Method: "amopo", Over: "dpo", Diff: Summarize([]float64{0.5, 0.6, 0.7}), Adjusted: 0.01, Verdict: "held"},
		{Claim: "AMoPO beats the baselines", Method: "amopo", Over: "orpo", Diff: Summarize([]float64{-0.1, 0.1, 0}), Adjusted: 0.5, Verdict: "not shown"},
		{Claim: "fixed", Method: "amopo", Over: "amopo-fixed", Equivalence: 0.25, Diff: Summarize([]float64{0.01, 0.02, 0}), Adjusted: 0.3,
			Verdict: "not shown (equivalence not established)"},
	}
	a := &Analysis{Delta: map[string]map[string]Summary{"amopo": {"h": Summarize([]float64{0.1, 0.2, 0.15})}}}
	got := ClaimSummary(tests, a, []string{"h"})
	require.Equal(t, []string{
		"AMoPO beats the baselines (amopo): held against dpo (change " + fmtSigned(tests[0].Diff, 3) + ", Holm p 0.0100); not shown against orpo (change " + fmtSigned(tests[1].Diff, 3) + ", Holm p 0.5000).",
		"fixed (amopo): not shown against amopo-fixed (change " + fmtSigned(tests[2].Diff, 3) + ", Holm p 0.3000).",
		"Every dimension improves over SFT (amopo): held (h improved).",
	}, got)
}

// The appendix-B grids reach the loss: ORPO's lambda, SimPO's beta, the lr.
func TestPaperGrids(t *testing.T) {
	byName := map[string]Method{}
	for _, m := range PaperMethods(1) {
		byName[m.Name] = m
	}
	grid, err := byName["orpo"].Grid(1)
	require.NoError(t, err)
	require.Len(t, grid, 4)
	sp, err := byName["orpo"].Params(grid[2], []string{"general"}, 1)
	require.NoError(t, err)
	require.Equal(t, 0.2, sp.Lambda)
	require.Contains(t, grid[2].String(), "lambda=0.2")
	grid, err = byName["simpo"].Grid(1)
	require.NoError(t, err)
	require.Equal(t, []Point{{Beta: 0.8, Gamma: 2, LR: 5e-5}, {Beta: 0.8, Gamma: 2, LR: 2e-4},
		{Beta: 1, Gamma: 2, LR: 5e-5}, {Beta: 1, Gamma: 2, LR: 2e-4}}, grid)
	grid, err = byName["amopo"].Grid(1)
	require.NoError(t, err)
	require.Equal(t, []Point{{Beta: 0.8, Gamma: 2, LR: 5e-5}, {Beta: 0.8, Gamma: 2, LR: 2e-4},
		{Beta: 1, Gamma: 2, LR: 5e-5}, {Beta: 1, Gamma: 2, LR: 2e-4}}, grid)
	sp, err = byName["modpo"].Params(grid[0], []string{"general"}, 1)
	require.NoError(t, err)
	require.Len(t, sp.ObjectiveWeights, len(task.Dimensions()), "MODPO: one weight per dimension, uniform by default")
	require.Equal(t, 2, sp.MarginRewardCount())
	sp, err = byName["amopo"].Params(grid[0], []string{"a", "b"}, 1)
	require.NoError(t, err)
	require.Zero(t, sp.NLLWeight, "AMoPO has no SFT term unless asked")
	half := 0.5
	withNLL := byName["amopo"]
	withNLL.NLLWeight = &half
	sp, err = withNLL.Params(grid[0], []string{"a", "b"}, 1)
	require.NoError(t, err)
	require.Equal(t, 0.5, sp.NLLWeight)
}

// checkResume simulates a run killed inside its last seed (the cell of (seed 2, dpo) was
// not written, a temporary file was left behind) and reruns it in the same out_dir: no
// finished cell is trained again, the missing one is, and the results are those of the
// uninterrupted run (the training is deterministic for a seed).
func checkResume(t *testing.T, cfg Config, full *Results) {
	cells := filepath.Join(cfg.OutDir, "cells")
	require.NoError(t, os.Remove(filepath.Join(cells, "seed-2", "dpo.json")))
	require.NoError(t, os.WriteFile(filepath.Join(cells, "seed-2", "dpo.json.tmp123"), []byte("{\"meth"), 0o644))
	var log bytes.Buffer
	again, err := Run(cfg, &log)
	require.NoError(t, err, log.String())
	text := log.String()
	for _, sr := range full.Seeds {
		for _, m := range cfg.Methods {
			trained := strings.Contains(text, fmt.Sprintf("seed %d: %s (", sr.Seed, m.Name))
			require.Equal(t, sr.Seed == 2 && m.Name == "dpo", trained, "seed %d %s trained again: %v", sr.Seed, m.Name, trained)
		}
	}
	require.NotContains(t, text, "seed 1: sft:", "a finished seed is not trained again")
	// The same numbers: the recomputed cell's scores and answers, and every kept cell.
	for i, sr := range full.Seeds {
		got := again.Seeds[i]
		require.Equal(t, sr.SFT, got.SFT)
		for _, m := range cfg.Methods {
			want, have := *sr.Methods[m.Name], *got.Methods[m.Name]
			if sr.Seed == 2 && m.Name == "dpo" {
				want.Seconds, have.Seconds = 0, 0
			}
			require.Equal(t, want, have, "seed %d %s", sr.Seed, m.Name)
		}
	}
	require.Equal(t, full.Chosen, again.Chosen)
	// Another config is refused, not mixed with these cells.
	other := cfg
	other.Pref.Steps++
	_, err = Run(other, &log)
	require.ErrorContains(t, err, "another config")
}

// The protocol's prompt sets are disjoint: training pairs, validation prompts (every grid
// pick), test prompts (the report only) and the on-policy prompts.
func TestPromptSetsAreDisjoint(t *testing.T) {
	cfg, err := Preset("cpu")
	require.NoError(t, err)
	e, err := newEnv(cfg, nil, nil)
	require.NoError(t, err)
	require.Len(t, e.val, cfg.Data.ValidationSize)
	require.Len(t, e.test, cfg.Data.TestSize)
	owner := map[string]string{}
	add := func(set, prompt string) {
		if o, ok := owner[prompt]; ok && o != set {
			t.Fatalf("prompt %q is in %s and %s", prompt, o, set)
		}
		owner[prompt] = set
	}
	for _, p := range e.ds.Train {
		add("train", p.Prompt)
	}
	for _, it := range e.val {
		add("validation", it.Prompt)
	}
	for _, it := range e.test {
		add("test", it.Prompt)
	}
	for _, it := range e.onPolicy {
		if owner[it.Prompt] == "validation" || owner[it.Prompt] == "test" {
			t.Fatalf("on-policy prompt %q is held out (%s)", it.Prompt, owner[it.Prompt])
		}
	}
}
