package experiment

import (
	"math"
	"sort"
	"strings"
)

// Summary is a mean over seeds with the half-width of its 95% confidence interval
// (Student's t with n-1 degrees of freedom; NaN with one seed).
type Summary struct {
	Mean, HalfWidth float64
	N               int
	Values          []float64 // the per-seed values, in seed order
}

// Summarize computes the mean and the 95% t confidence interval of xs.
func Summarize(xs []float64) Summary {
	s := Summary{N: len(xs), Values: append([]float64(nil), xs...), HalfWidth: math.NaN(), Mean: math.NaN()}
	if len(xs) == 0 {
		return s
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	s.Mean = sum / float64(len(xs))
	if len(xs) < 2 {
		return s
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - s.Mean) * (x - s.Mean)
	}
	sd := math.Sqrt(ss / float64(len(xs)-1))
	s.HalfWidth = TQuantile975(len(xs)-1) * sd / math.Sqrt(float64(len(xs)))
	return s
}

// Low and High are the interval's ends.
func (s Summary) Low() float64  { return s.Mean - s.HalfWidth }
func (s Summary) High() float64 { return s.Mean + s.HalfWidth }

// t975 are the 0.975 quantiles of Student's t for 1..30 degrees of freedom.
var t975 = []float64{12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
	2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
	2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042}

// z975 is the 0.975 quantile of the standard normal.
const z975 = 1.959963984540054

// TQuantile975 is the 0.975 quantile of Student's t with df degrees of freedom: the
// table above up to 30, then the Cornish-Fisher expansion of t in powers of 1/df around
// the normal quantile (Abramowitz & Stegun 26.7.5), whose first four terms are within
// 2e-6 of the exact quantile from df 31 on and tend to 1.96 as df grows. (Interpolating
// between a few tabled values instead was off by up to 0.02 just above df 120.)
func TQuantile975(df int) float64 {
	switch {
	case df < 1:
		return math.NaN()
	case df <= 30:
		return t975[df-1]
	}
	z, n := z975, float64(df)
	z2 := z * z
	g1 := z * (z2 + 1) / 4
	g2 := z * ((5*z2+16)*z2 + 3) / 96
	g3 := z * (((3*z2+19)*z2+17)*z2 - 15) / 384
	g4 := z * ((((79*z2+776)*z2+1482)*z2-1920)*z2 - 945) / 92160
	return z + g1/n + g2/(n*n) + g3/(n*n*n) + g4/(n*n*n*n)
}

// WinRate is the share of prompts where a's judge-score sum is higher than b's, ties
// counting half.
func WinRate(a, b []float64) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return math.NaN()
	}
	w := 0.0
	for i := range a {
		switch {
		case a[i] > b[i]:
			w++
		case a[i] == b[i]:
			w += 0.5
		}
	}
	return w / float64(len(a))
}

// ChangeVerdict reads a summary of score differences: "improved" when its whole interval
// is above 0, "worse" when below, "unclear" otherwise (or with one seed).
func ChangeVerdict(s Summary) string {
	switch {
	case math.IsNaN(s.HalfWidth):
		return "unclear"
	case s.Low() > 0:
		return "improved"
	case s.High() < 0:
		return "worse"
	}
	return "unclear"
}

// EveryDimension reads the per-dimension changes of a method against SFT: "held" when every
// dimension improved, "did not hold" when one got worse, "inconclusive" otherwise; with
// the dimensions' verdicts.
func EveryDimension(delta map[string]Summary, dims []string) string {
	verdict := "held"
	var parts []string
	for _, d := range dims {
		v := ChangeVerdict(delta[d])
		parts = append(parts, d+" "+v)
		switch {
		case v == "worse":
			verdict = "did not hold"
		case v == "unclear" && verdict == "held":
			verdict = "inconclusive"
		}
	}
	return verdict + " (" + strings.Join(parts, ", ") + ")"
}

// PairedT is a paired t-test over seeds: the mean of the per-seed differences a-b, its
// t statistic on n-1 degrees of freedom, and the p-value (two-sided, or one-sided for
// "a > b" when asked). NaN with fewer than two seeds or differences that are all equal.
type PairedT struct {
	MeanDiff, SD, T float64
	DF              int
	P               float64 // the p-value of the test that was asked for
}

// PairedTTest tests the per-seed differences d = a - b. greater asks the one-sided
// question "mean d > 0" (the paper's claims are directional); otherwise two-sided.
func PairedTTest(a, b []float64, greater bool) PairedT {
	r := PairedT{MeanDiff: math.NaN(), SD: math.NaN(), T: math.NaN(), P: math.NaN()}
	if len(a) != len(b) || len(a) == 0 {
		return r
	}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	s := Summarize(d)
	r.MeanDiff, r.DF = s.Mean, len(d)-1
	if len(d) < 2 {
		return r
	}
	ss := 0.0
	for _, x := range d {
		ss += (x - s.Mean) * (x - s.Mean)
	}
	r.SD = math.Sqrt(ss / float64(len(d)-1))
	if r.SD == 0 {
		return r
	}
	r.T = s.Mean / (r.SD / math.Sqrt(float64(len(d))))
	if greater {
		r.P = StudentTUpper(r.T, r.DF)
	} else {
		r.P = 2 * StudentTUpper(math.Abs(r.T), r.DF)
	}
	return r
}

// StudentTUpper is P(T > t) for Student's t with df degrees of freedom, from the
// regularized incomplete beta function: P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2).
func StudentTUpper(t float64, df int) float64 {
	if df < 1 || math.IsNaN(t) {
		return math.NaN()
	}
	v := float64(df)
	tail := 0.5 * regIncBeta(v/(v+t*t), v/2, 0.5) // P(T > |t|)
	if t >= 0 {
		return tail
	}
	return 1 - tail
}

// regIncBeta is the regularized incomplete beta function I_x(a, b), by Lentz's continued
// fraction (Numerical Recipes 6.4), on the side of x where it converges fast.
func regIncBeta(x, a, b float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a + b)
	lb, _ := math.Lgamma(a)
	lc, _ := math.Lgamma(b)
	front := math.Exp(la - lb - lc + a*math.Log(x) + b*math.Log(1-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(x, a, b) / a
	}
	return 1 - front*betaCF(1-x, b, a)/b
}

func betaCF(x, a, b float64) float64 {
	const tiny = 1e-300
	c, d := 1.0, 1-(a+b)*x/(a+1)
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= 300; m++ {
		fm := float64(m)
		num := fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm))
		for i := 0; i < 2; i++ {
			d = 1 + num*d
			if math.Abs(d) < tiny {
				d = tiny
			}
			c = 1 + num/c
			if math.Abs(c) < tiny {
				c = tiny
			}
			d = 1 / d
			h *= d * c
			num = -(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1))
			if i == 0 && math.Abs(d*c-1) < 1e-15 {
				return h
			}
		}
		if math.Abs(d*c-1) < 1e-15 {
			break
		}
	}
	return h
}

// Holm adjusts p-values for multiple comparisons by Holm's step-down method: sorted
// ascending, the i-th smallest (0-based) of m becomes max over j <= i of min(1, (m-j)*p_j).
// The adjusted values are returned in the input's order; NaNs stay NaN and do not count.
func Holm(p []float64) []float64 {
	idx := make([]int, 0, len(p))
	out := make([]float64, len(p))
	for i, v := range p {
		out[i] = math.NaN()
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(i, j int) bool { return p[idx[i]] < p[idx[j]] })
	m, running := len(idx), 0.0
	for rank, i := range idx {
		running = math.Max(running, math.Min(1, float64(m-rank)*p[i]))
		out[i] = running
	}
	return out
}

// TOST is Schuirmann's two one-sided tests on paired differences: equivalence within
// (-bound, +bound) is shown when both one-sided tests reject, i.e. when P, the larger of
// their p-values, is below the level.
type TOST struct {
	Bound, MeanDiff float64
	PLower, PUpper  float64 // H0: mean <= -bound; H0: mean >= +bound
	P               float64
}

// EquivalenceTest runs TOST on the per-seed differences a - b with the given bound.
func EquivalenceTest(a, b []float64, bound float64) TOST {
	r := TOST{Bound: bound, MeanDiff: math.NaN(), PLower: math.NaN(), PUpper: math.NaN(), P: math.NaN()}
	if len(a) != len(b) || len(a) < 2 {
		return r
	}
	lo := make([]float64, len(a))
	for i := range a {
		lo[i] = b[i] - bound // a - b > -bound  <=>  a > b - bound
	}
	hi := make([]float64, len(a))
	for i := range a {
		hi[i] = b[i] + bound
	}
	r.PLower = PairedTTest(a, lo, true).P
	up := PairedTTest(hi, a, true) // b + bound > a  <=>  a - b < bound
	r.PUpper = up.P
	r.MeanDiff = PairedTTest(a, b, false).MeanDiff
	r.P = math.Max(r.PLower, r.PUpper)
	return r
}
