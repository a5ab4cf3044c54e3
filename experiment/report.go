package experiment

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/amopo-engine/amopo/data/task"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// SFT names the SFT model in the analysis, next to the methods.
const SFT = "sft"

// Analysis is what the report shows, computed from Results only.
type Analysis struct {
	Names   []string                        // "sft" then the methods, in config order
	Columns []string                        // the dimensions then "total"
	Scores  map[string]map[string]Summary   // [name][column] over seeds
	Win     map[string]map[string]Summary   // [a][b]: a's win rate against b over seeds
	Delta   map[string]map[string]Summary   // [method][column]: its score minus SFT's, paired by seed
	Alpha   map[string]map[string][]float64 // [method][dimension][step-1], mean over seeds
	// Claims are the claims' comparisons with their tests (ClaimTests).
	Claims []ClaimTest
}

// Evaluation returns the test evaluation of name ("sft" or a method) in one seed.
func (sr *SeedRun) Evaluation(name string) Eval {
	if name == SFT {
		return sr.SFT
	}
	return sr.Methods[name].Test
}

// Analyze computes the means, intervals and win rates of the results.
func Analyze(res *Results) *Analysis {
	a := &Analysis{Names: []string{SFT}, Columns: append(append([]string(nil), res.Dimensions...), Total),
		Scores: map[string]map[string]Summary{}, Win: map[string]map[string]Summary{},
		Delta: map[string]map[string]Summary{}, Alpha: map[string]map[string][]float64{}}
	for _, m := range res.Config.Methods {
		a.Names = append(a.Names, m.Name)
	}
	sums := func(ev Eval) []float64 {
		out := make([]float64, len(ev.Scores))
		for i, s := range ev.Scores {
			out[i] = task.Total(s)
		}
		return out
	}
	for _, n := range a.Names {
		a.Scores[n] = map[string]Summary{}
		for _, c := range a.Columns {
			var xs []float64
			for _, sr := range res.Seeds {
				xs = append(xs, sr.Evaluation(n).Mean[c])
			}
			a.Scores[n][c] = Summarize(xs)
		}
		if n != SFT {
			a.Delta[n] = map[string]Summary{}
			for _, c := range a.Columns {
				var xs []float64
				for _, sr := range res.Seeds {
					xs = append(xs, sr.Evaluation(n).Mean[c]-sr.SFT.Mean[c])
				}
				a.Delta[n][c] = Summarize(xs)
			}
		}
		a.Win[n] = map[string]Summary{}
		for _, o := range a.Names {
			if o == n {
				continue
			}
			var xs []float64
			for _, sr := range res.Seeds {
				xs = append(xs, WinRate(sums(sr.Evaluation(n)), sums(sr.Evaluation(o))))
			}
			a.Win[n][o] = Summarize(xs)
		}
	}
	for _, m := range res.Config.Methods {
		var per []map[string][]float64
		for _, sr := range res.Seeds {
			if al := sr.Methods[m.Name].Alpha; al != nil {
				per = append(per, al)
			}
		}
		if len(per) == 0 {
			continue
		}
		mean := map[string][]float64{}
		for d := range per[0] {
			steps := len(per[0][d])
			for _, p := range per {
				steps = min(steps, len(p[d]))
			}
			mean[d] = make([]float64, steps)
			for _, p := range per {
				for i := 0; i < steps; i++ {
					mean[d][i] += p[d][i] / float64(len(per))
				}
			}
		}
		a.Alpha[m.Name] = mean
	}
	a.Claims = ClaimTests(res, a)
	return a
}

// Meta is what the report says about how it was made.
type Meta struct {
	Command string `json:"command"` // the exact command line
	Machine string `json:"machine"` // see MachineInfo
}

// ReadResults reads a results.json that Write wrote.
func ReadResults(path string) (*Results, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	res := &Results{}
	if err := json.Unmarshal(text, res); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if res.Meta == nil {
		return nil, fmt.Errorf("%s: no meta (command and machine): written by an older build", path)
	}
	return res, nil
}

// MachineInfo describes this machine: host name, CPU model and count, OS, Go version.
func MachineInfo() string {
	host, _ := os.Hostname()
	cpu := ""
	if text, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(text), "\n") {
			if strings.HasPrefix(line, "model name") {
				if i := strings.Index(line, ":"); i >= 0 {
					cpu = strings.TrimSpace(line[i+1:])
				}
				break
			}
		}
	}
	return fmt.Sprintf("host %s; %d CPUs (%s); %s/%s; %s", host, runtime.NumCPU(), cpu, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func fmtSigned(s Summary, prec int) string {
	if math.IsNaN(s.HalfWidth) {
		return fmt.Sprintf("%+.*f", prec, s.Mean)
	}
	return fmt.Sprintf("%+.*f ± %.*f", prec, s.Mean, prec, s.HalfWidth)
}

func fmtCI(s Summary, prec int) string {
	if math.IsNaN(s.Mean) {
		return "n/a"
	}
	if math.IsNaN(s.HalfWidth) {
		return fmt.Sprintf("%.*f", prec, s.Mean)
	}
	return fmt.Sprintf("%.*f ± %.*f", prec, s.Mean, prec, s.HalfWidth)
}

// Write writes the report (markdown), the plots (PNG) and results.json to res.Config.OutDir,
// and returns the analysis and the report's path.
func Write(res *Results, meta Meta) (*Analysis, string, error) {
	dir := res.Config.OutDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	res.Meta = &meta
	a := Analyze(res)
	var plots []string
	if err := plotScores(a, filepath.Join(dir, "scores.png")); err != nil {
		return nil, "", fmt.Errorf("plot: %w", err)
	}
	plots = append(plots, "scores.png")
	for _, m := range res.Config.Methods {
		if al := a.Alpha[m.Name]; al != nil {
			name := "alpha-" + m.Name + ".png"
			if err := plotAlpha(m.Name, al, filepath.Join(dir, name)); err != nil {
				return nil, "", fmt.Errorf("plot: %w", err)
			}
			plots = append(plots, name)
		}
	}
	js, err := json.MarshalIndent(res, "", " ")
	if err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), js, 0o644); err != nil {
		return nil, "", err
	}
	name := res.Config.Report
	if name == "" {
		name = "experiment.md"
	}
	path := filepath.Join(dir, name)
	return a, path, os.WriteFile(path, []byte(Markdown(res, a, meta, plots)), 0o644)
}

// Markdown renders the report.
func Markdown(res *Results, a *Analysis, meta Meta, plots []string) string {
	cfg := res.Config
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# The paper's comparison in miniature\n\n")
	p("Every number below was computed by the command that follows and written by `experiment.Write`; none is typed by hand.\n\n")
	p("- command: `%s`\n", meta.Command)
	p("- preset: %s; seeds: %v; backend: %s\n", orDash(cfg.Preset), cfg.Seeds, orDash(cfg.Backend))
	p("- machine: %s\n", meta.Machine)
	p("- wall time: %.0f s (%.1f min)\n", res.Seconds, res.Seconds/60)
	p("- model: %s preset, %.2fM parameters, %s\n", cfg.Model.Preset, float64(res.ModelParams)/1e6, orDash(cfg.Model.DType))
	p("- data: built-in task (data seed %d): %d SFT pairs, %d validation and %d test prompts; SFT %d steps x %d sequences; every method %d preference steps x %d pairs (grad accum %d)\n",
		cfg.Data.DataSeed, cfg.Data.TrainSize, cfg.Data.ValidationSize, cfg.Data.TestSize,
		cfg.SFT.Steps, cfg.SFT.BatchSize, cfg.Pref.Steps, cfg.Pref.BatchSize, max(cfg.Pref.GradAccum, 1))
	p("- prompts cut by data.max_prompt_length %d: %d of %d test prompts, %d of %d generator pairs (under some template)\n",
		cfg.Data.MaxPromptLength, res.PromptsCut, len(res.Test), res.PairsCut, min(cfg.Data.GeneratorPairs, cfg.Data.TrainSize))
	if cfg.SFTSeed != 0 {
		p("- one SFT model (seed %d) is the start of every seed's methods, as the paper starts every method from one instruct model; the seeds vary the preference stage (data order, on-policy samples, weight draws)\n", cfg.SFTSeed)
	}
	p("- preference pairs per seed (generator + on-policy, on-policy prompts skipped for tied samples):")
	for _, sr := range res.Seeds {
		p(" seed %d: %d + %d (%d skipped);", sr.Seed, sr.GeneratorPairs, sr.OnPolicyPairs, sr.OnPolicySkipped)
	}
	p("\n- time per seed (SFT + judging, on-policy sampling, each method's training and judging, grid included):")
	for _, sr := range res.Seeds {
		p(" seed %d: %.0f s, %.0f s", sr.Seed, sr.SFTSeconds, sr.PairsSeconds)
		for _, m := range cfg.Methods {
			p(", %s %.0f s", m.Name, sr.Methods[m.Name].Seconds)
		}
		p(";")
	}
	p("\n- on-policy sampling: %d prompts x %d samples at temperature %g (top-k %d), at most %d new tokens; evaluation: greedy, at most %d new tokens\n\n",
		cfg.OnPolicy.Prompts, cfg.OnPolicy.Samples, cfg.OnPolicy.Temperature, cfg.OnPolicy.TopK, cfg.OnPolicy.MaxNewTokens, cfg.MaxNewTokens)

	notes := false
	for _, m := range cfg.Methods {
		if n := methodNote(m); n != "" {
			if !notes {
				p("How the multi-objective baselines were run here (docs/loss.md):\n\n")
				notes = true
			}
			p("- %s: %s\n", m.Name, n)
		}
	}
	if notes {
		p("\n")
	}
	if len(cfg.Claims) > 0 {
		p("## In short\n\n")
		for _, line := range ClaimSummary(a.Claims, a, res.Dimensions) {
			p("- %s\n", line)
		}
		p("\nThe judges are programs scoring a toy task (number, list and word questions with format instructions) and the model has under a million parameters: these are the paper's claims checked in miniature, not its setting (7B/14B models, HelpSteer2, GPT-4 judges). Details and every number below.\n\n")
	}
	p("## Judge scores on the held-out test prompts\n\n")
	p("Mean over %d seeds of the mean program-judge score (0-4 per dimension; total: their sum, 0-12), ± the half-width of the 95%% confidence interval (Student's t, %d degrees of freedom).\n\n", len(res.Seeds), len(res.Seeds)-1)
	p("The floor rows need no model: a constant placeholder in the requested format, and the prompt echoed back, scored by the same judges (the same answers on every seed, so no interval). A method that does not beat them has learned nothing the judges can see.\n\n")
	p("| method | hyper-parameters |")
	for _, c := range a.Columns {
		p(" %s |", c)
	}
	p("\n|---|---|%s\n", strings.Repeat("---|", len(a.Columns)))
	for _, n := range FloorNames() {
		if ev, ok := res.Floors[n]; ok {
			p("| %s | - |", n)
			for _, c := range a.Columns {
				p(" %.3f |", ev.Mean[c])
			}
			p("\n")
		}
	}
	for _, n := range a.Names {
		hp := "-"
		if pt, ok := res.Chosen[n]; ok {
			hp = methodLabel(cfg, n) + "; " + pt.String()
		}
		p("| %s | %s |", n, hp)
		for _, c := range a.Columns {
			p(" %s |", fmtCI(a.Scores[n][c], 3))
		}
		p("\n")
	}

	p("\n## Win rates\n\nPer test prompt, a method wins against another when its judge-score sum is higher; ties count half. Mean over seeds ± 95%% CI.\n\n")
	p("### Against SFT\n\n| method | win rate vs SFT |\n|---|---|\n")
	for _, n := range a.Names[1:] {
		p("| %s | %s |\n", n, fmtCI(a.Win[n][SFT], 3))
	}
	p("\n### Change against SFT per dimension\n\nThe method's mean score minus the SFT model's, paired by seed, ± 95%% CI; improved or worse when the whole interval is on one side of 0.\n\n| method |")
	for _, c := range a.Columns {
		p(" %s |", c)
	}
	p("\n|---|%s\n", strings.Repeat("---|", len(a.Columns)))
	for _, n := range a.Names[1:] {
		p("| %s |", n)
		for _, c := range a.Columns {
			p(" %s (%s) |", fmtSigned(a.Delta[n][c], 3), ChangeVerdict(a.Delta[n][c]))
		}
		p("\n")
	}
	p("\n### Between methods (row against column)\n\n| |")
	for _, n := range a.Names {
		p(" %s |", n)
	}
	p("\n|---|%s\n", strings.Repeat("---|", len(a.Names)))
	for _, r := range a.Names {
		p("| %s |", r)
		for _, c := range a.Names {
			if r == c {
				p(" - |")
			} else {
				p(" %s |", fmtCI(a.Win[r][c], 2))
			}
		}
		p("\n")
	}

	if len(cfg.Claims) > 0 {
		p("\n## The paper's claims\n\nEach comparison is a one-sided paired t-test over the %d seeds on the mean judge-score sum (0-12) of the test prompts (method minus the other, paired by seed), or, for an equivalence claim, Schuirmann's two one-sided tests (TOST) with the stated bound; the p-values are Holm-corrected over all %d comparisons as one family, and a claim held where the adjusted p is below %g. Change: the mean per-seed difference ± 95%% CI; d_z: that mean over the differences' standard deviation; the win rate per prompt beside it.\n\n", len(res.Seeds), len(a.Claims), ClaimLevel)
		p("| claim | comparison | change (sum) | d_z | win rate | p | Holm p | verdict |\n|---|---|---|---|---|---|---|---|\n")
		for _, t := range a.Claims {
			p("| %s | %s vs %s | %s | %.2f | %s | %s | %s | %s |\n", t.Claim, t.Method, t.Over, fmtSigned(t.Diff, 3), t.DZ,
				fmtCI(t.Win, 3), fmtP(t.P), fmtP(t.Adjusted), t.Verdict)
		}
		p("\nPer dimension, the same comparisons (mean per-seed difference ± 95%% CI; no test, for reading the change):\n\n| comparison |")
		for _, d := range res.Dimensions {
			p(" %s |", d)
		}
		p("\n|---|%s\n", strings.Repeat("---|", len(res.Dimensions)))
		for _, t := range a.Claims {
			p("| %s vs %s |", t.Method, t.Over)
			for _, d := range res.Dimensions {
				p(" %s |", fmtSigned(t.PerDimension[d], 3))
			}
			p("\n")
		}
		if d, ok := a.Delta["amopo"]; ok {
			p("\nEvery dimension improves (paper, Tables 2-3), for amopo against SFT: %s.\n", EveryDimension(d, res.Dimensions))
		}
	}

	p("\n## Per-seed scores\n\n| method | seed | hyper-parameters |")
	for _, c := range a.Columns {
		p(" %s |", c)
	}
	p("\n|---|---|---|%s\n", strings.Repeat("---|", len(a.Columns)))
	for _, n := range a.Names {
		for _, sr := range res.Seeds {
			hp := "-"
			if n != SFT {
				hp = sr.Methods[n].Point.String()
			}
			p("| %s | %d | %s |", n, sr.Seed, hp)
			ev := sr.Evaluation(n)
			for _, c := range a.Columns {
				p(" %.3f |", ev.Mean[c])
			}
			p("\n")
		}
	}
	grid := false
	for _, sr := range res.Seeds {
		for _, m := range cfg.Methods {
			if len(sr.Methods[m.Name].Tried) > 0 {
				if !grid {
					p("\n## Grid search (first seed, validation prompts: mean judge-score sum)\n\n| method | grid point | validation |\n|---|---|---|\n")
					grid = true
				}
				for _, t := range sr.Methods[m.Name].Tried {
					p("| %s | %s | %.3f |\n", m.Name, t.Point, t.Validation)
				}
			}
		}
	}
	if len(plots) > 0 {
		p("\n## Plots\n\n")
		for _, f := range plots {
			p("![%s](%s)\n\n", strings.TrimSuffix(f, ".png"), f)
		}
	}
	return b.String()
}

// methodNote says how a multi-objective baseline was run, where this differs from its paper.
func methodNote(m Method) string {
	switch {
	case m.Schedule == ScheduleSPO:
		return fmt.Sprintf("SPO (Lou et al. 2024) as sequential %s stages, one per dimension in task order, each on the pairs ordered by that dimension (ties left out), from the previous stage's model and with it as the reference; the preference steps split evenly over the stages. Lou et al.'s extra term that keeps the earlier dimensions' implicit rewards is not implemented.", m.Loss)
	case m.Loss == "modpo":
		return "MODPO (Zhou et al. 2024b): pairs ordered by the first dimension (ties left out); no reward model is at hand, so the margin rewards are the data's (judges') scores of the other dimensions; objective weights uniform unless set."
	case m.Loss == "controllable-cpo":
		return "controllable CPO (Guo et al. 2024a) as the paper's Table 4 writes it: a CPSFT model trained from the seed's initialisation with the SFT budget on control-token prompts (<dimension: score> groups of the chosen response's scores before the question), then DPO with the policy on the plain prompt and the CPSFT model as the reference on (c, x), c the chosen response's scores."
	case m.Loss == "amopo-ref":
		return "AMoPO with a reference model (Table 11): the SFT model's length-normalised log-probs on the same dimension templates."
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func methodLabel(cfg Config, name string) string {
	for _, m := range cfg.Methods {
		if m.Name == name {
			l := m.Loss
			if m.Policy != "" {
				l += "/" + m.Policy
			}
			if m.NoLengthNorm {
				l += ", no length norm"
			}
			if m.NLLWeight != nil {
				l += fmt.Sprintf(", NLL term %g", *m.NLLWeight)
			}
			if m.UsesAllTemplates() {
				l += ", K=4"
			} else {
				l += ", K=1"
			}
			return l
		}
	}
	return name
}

func plotScores(a *Analysis, path string) error {
	p := plot.New()
	p.Title.Text = "Judge scores on the test prompts (mean over seeds; intervals in the table)"
	p.Y.Label.Text = "score (0-4)"
	dims := a.Columns[:len(a.Columns)-1]
	n := len(a.Names)
	width := 10 * vg.Inch
	w := vg.Points(float64(min(16, 560/max(n*(len(dims)+1), 1))))
	for j, d := range dims {
		vals := make(plotter.Values, n)
		for i, name := range a.Names {
			vals[i] = a.Scores[name][d].Mean
		}
		bars, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return err
		}
		bars.Offset = w * vg.Length(float64(j)-float64(len(dims)-1)/2)
		bars.Color = plotutil.Color(j)
		bars.LineStyle.Width = 0
		p.Add(bars)
		p.Legend.Add(d, bars)
	}
	p.Legend.Top = true
	p.NominalX(a.Names...)
	p.Y.Min, p.Y.Max = 0, 4.8 // room for the legend above the 0-4 scale
	p.Add(plotter.NewGrid())
	return p.Save(width, 4.5*vg.Inch, path)
}

func plotAlpha(method string, alpha map[string][]float64, path string) error {
	p := plot.New()
	p.Title.Text = "alpha over training: " + method + " (mean over seeds)"
	p.X.Label.Text = "preference step"
	p.Y.Label.Text = "alpha"
	i := 0
	for _, d := range sortedKeys(alpha) {
		xy := make(plotter.XYs, len(alpha[d]))
		for s, v := range alpha[d] {
			xy[s].X, xy[s].Y = float64(s+1), v
		}
		line, err := plotter.NewLine(xy)
		if err != nil {
			return err
		}
		line.Color = plotutil.Color(i)
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(d, line)
		i++
	}
	p.Add(plotter.NewGrid())
	return p.Save(7*vg.Inch, 4*vg.Inch, path)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}
