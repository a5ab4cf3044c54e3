package experiment

import (
	"math"
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

// Verdict reads a win-rate summary: "held" when its whole interval is above 1/2, "did not
// hold" when it is below, "inconclusive" otherwise.
func Verdict(s Summary) string {
	switch {
	case math.IsNaN(s.HalfWidth):
		if s.Mean > 0.5 {
			return "inconclusive (one seed, favourable)"
		}
		return "inconclusive (one seed)"
	case s.Low() > 0.5:
		return "held"
	case s.High() < 0.5:
		return "did not hold"
	}
	return "inconclusive"
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
