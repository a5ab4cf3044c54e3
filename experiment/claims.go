package experiment

import (
	"fmt"
	"math"
	"strings"
)

// ClaimLevel is the family-wise error rate of the claims' verdicts (Holm).
const ClaimLevel = 0.05

// ClaimTest is one comparison of a claim, read from the per-seed mean judge-score sums
// on the test prompts.
type ClaimTest struct {
	Claim, Method, Over string
	// Equivalence > 0: the claim is "as well as, within +-Equivalence" (TOST).
	Equivalence float64
	// Diff summarises the per-seed differences method - over of the mean judge-score sum;
	// DZ is Cohen's d_z, their mean over their standard deviation.
	Diff Summary
	DZ   float64
	// PerDimension summarises the per-seed differences of each dimension's mean score.
	PerDimension map[string]Summary
	// Win is the win rate over seeds (per prompt, ties half), shown beside the change.
	Win Summary
	// P is the one-sided paired t-test's p-value (method > over), or TOST's; Adjusted is it
	// after Holm's correction over every comparison of every claim.
	P, Adjusted float64
	Verdict     string
}

// ClaimTests tests every comparison of the claims and Holm-adjusts their p-values as one
// family.
func ClaimTests(res *Results, a *Analysis) []ClaimTest {
	var out []ClaimTest
	for _, cl := range res.Config.Claims {
		for _, o := range cl.Over {
			var x, y []float64
			for _, sr := range res.Seeds {
				x = append(x, sr.Evaluation(cl.Method).Mean[Total])
				y = append(y, sr.Evaluation(o).Mean[Total])
			}
			d := make([]float64, len(x))
			for i := range x {
				d[i] = x[i] - y[i]
			}
			ct := ClaimTest{Claim: cl.Text, Method: cl.Method, Over: o, Equivalence: cl.Equivalence,
				Diff: Summarize(d), Win: a.Win[cl.Method][o]}
			ct.PerDimension = map[string]Summary{}
			for _, dim := range res.Dimensions {
				var dd []float64
				for _, sr := range res.Seeds {
					dd = append(dd, sr.Evaluation(cl.Method).Mean[dim]-sr.Evaluation(o).Mean[dim])
				}
				ct.PerDimension[dim] = Summarize(dd)
			}
			t := PairedTTest(x, y, true)
			ct.DZ = t.MeanDiff / t.SD
			ct.P = t.P
			if cl.Equivalence > 0 {
				ct.P = EquivalenceTest(x, y, cl.Equivalence).P
			}
			out = append(out, ct)
		}
	}
	p := make([]float64, len(out))
	for i := range out {
		p[i] = out[i].P
	}
	for i, adj := range Holm(p) {
		out[i].Adjusted = adj
		out[i].Verdict = claimVerdict(out[i])
	}
	return out
}

func claimVerdict(c ClaimTest) string {
	switch {
	case math.IsNaN(c.Adjusted):
		return "undecided (fewer than 2 seeds, or identical differences)"
	case c.Adjusted < ClaimLevel && c.Equivalence > 0:
		return fmt.Sprintf("held (equivalent within ±%g)", c.Equivalence)
	case c.Adjusted < ClaimLevel:
		return "held"
	case c.Equivalence > 0:
		return "not shown (equivalence not established)"
	case c.Diff.Mean < 0:
		return "not shown (the other was better on average)"
	}
	return "not shown"
}

// ClaimSummary says in one sentence per claim where it held (Holm-adjusted p below
// ClaimLevel) and where it was not shown, and for amopo whether every dimension improved
// over SFT.
func ClaimSummary(tests []ClaimTest, a *Analysis, dims []string) []string {
	var out []string
	var order []string
	by := map[string][]ClaimTest{}
	for _, t := range tests {
		if by[t.Claim] == nil {
			order = append(order, t.Claim)
		}
		by[t.Claim] = append(by[t.Claim], t)
	}
	for _, claim := range order {
		var held, not []string
		for _, t := range by[claim] {
			s := fmt.Sprintf("%s (change %s, Holm p %s)", t.Over, fmtSigned(t.Diff, 3), fmtP(t.Adjusted))
			if strings.HasPrefix(t.Verdict, "held") {
				held = append(held, s)
			} else {
				not = append(not, s)
			}
		}
		var parts []string
		if len(held) > 0 {
			parts = append(parts, "held against "+strings.Join(held, ", "))
		}
		if len(not) > 0 {
			parts = append(parts, "not shown against "+strings.Join(not, ", "))
		}
		out = append(out, fmt.Sprintf("%s (%s): %s.", claim, by[claim][0].Method, strings.Join(parts, "; ")))
	}
	if d, ok := a.Delta["amopo"]; ok {
		out = append(out, "Every dimension improves over SFT (amopo): "+EveryDimension(d, dims)+".")
	}
	return out
}

func fmtP(p float64) string {
	switch {
	case math.IsNaN(p):
		return "n/a"
	case p < 1e-4:
		return "<1e-4"
	}
	return fmt.Sprintf("%.4f", p)
}
