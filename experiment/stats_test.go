package experiment

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// tDensity is Student's t density with df degrees of freedom.
func tDensity(x, df float64) float64 {
	lgA, _ := math.Lgamma((df + 1) / 2)
	lgB, _ := math.Lgamma(df / 2)
	return math.Exp(lgA-lgB-0.5*math.Log(df*math.Pi)) * math.Pow(1+x*x/df, -(df+1)/2)
}

// tQuantileByIntegration is the oracle: the x with P(0 < T < x) = 0.475, the density
// integrated by Simpson's rule and the root found by Newton's method (from below: the
// CDF is concave on x > 0, so the iterates rise to the root without overshooting).
func tQuantileByIntegration(df int) float64 {
	nu := float64(df)
	integral := func(x float64) float64 {
		const n = 4000 // even
		h := x / n
		s := tDensity(0, nu) + tDensity(x, nu)
		for i := 1; i < n; i++ {
			w := 2.0
			if i%2 == 1 {
				w = 4
			}
			s += w * tDensity(float64(i)*h, nu)
		}
		return s * h / 3
	}
	x := 1.9
	for range 100 {
		step := (0.475 - integral(x)) / tDensity(x, nu)
		x += step
		if math.Abs(step) < 1e-12 {
			break
		}
	}
	return x
}

// TestTQuantileAgainstKnownValues: published t_{0.975} values (4 decimals), past the
// table's 30 degrees of freedom where the old interpolation lived (and jumped from 1.980
// to 1.960 at df 121).
func TestTQuantileAgainstKnownValues(t *testing.T) {
	for df, want := range map[int]float64{
		35: 2.0301, 40: 2.0211, 45: 2.0141, 50: 2.0086, 60: 2.0003, 80: 1.9901,
		100: 1.9840, 120: 1.9799, 121: 1.9798, 200: 1.9719, 500: 1.9647, 1000: 1.9623,
	} {
		require.InDelta(t, want, TQuantile975(df), 6e-5, "df %d", df)
	}
	require.True(t, math.IsNaN(TQuantile975(0)))
}

// TestTQuantileAgainstIntegration holds every df against the integrated t density: the
// table (3 decimals) to its rounding up to 30, the expansion to 1e-5 beyond.
func TestTQuantileAgainstIntegration(t *testing.T) {
	dfs := []int{}
	for df := 1; df <= 130; df++ {
		dfs = append(dfs, df)
	}
	dfs = append(dfs, 150, 200, 300, 1000, 5000)
	prev := math.Inf(1)
	for _, df := range dfs {
		want := tQuantileByIntegration(df)
		tol := 1e-5
		if df <= 30 {
			tol = 5.1e-4
		}
		got := TQuantile975(df)
		require.InDelta(t, want, got, tol, "df %d", df)
		require.Less(t, got, prev, "df %d: the quantile falls with df", df)
		prev = got
	}
	require.InDelta(t, 12.7062, tQuantileByIntegration(1), 1e-4, "the oracle itself, df 1 (Cauchy: tan(0.475 pi))")
	require.InDelta(t, math.Tan(0.475*math.Pi), tQuantileByIntegration(1), 1e-6)
}

// TestHolmByHand: R's p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") is 0.03 0.06 0.06 0.02
// (by hand: sorted 0.005*4, 0.01*3, 0.03*2, then max(0.04*1, 0.06) keeps it monotone).
func TestHolmByHand(t *testing.T) {
	got := Holm([]float64{0.01, 0.04, 0.03, 0.005})
	want := []float64{0.03, 0.06, 0.06, 0.02}
	for i := range want {
		require.InDelta(t, want[i], got[i], 1e-15, "p[%d]", i)
	}
	capped := Holm([]float64{0.4, math.NaN(), 0.3})
	require.InDelta(t, 0.6, capped[2], 1e-15) // 2 tests, the NaN does not count
	require.InDelta(t, 0.6, capped[0], 1e-15) // max(0.4*1, 0.6)
	require.True(t, math.IsNaN(capped[1]))
	require.Equal(t, 1.0, Holm([]float64{0.7, 0.8})[0])
}

// TestStudentTAgainstClosedForms checks the incomplete-beta t tail against the closed
// forms for 1, 2 and 3 degrees of freedom (no scipy on this machine: the forms are exact).
func TestStudentTAgainstClosedForms(t *testing.T) {
	for _, x := range []float64{-3, -0.5, 0, 0.3, 1, 2.5, 12} {
		require.InDelta(t, 0.5-math.Atan(x)/math.Pi, StudentTUpper(x, 1), 1e-12, "df 1, t %g", x)
		require.InDelta(t, 0.5-x/(2*math.Sqrt(2+x*x)), StudentTUpper(x, 2), 1e-12, "df 2, t %g", x)
		u := x / math.Sqrt(3)
		require.InDelta(t, 0.5-(math.Atan(u)+u/(1+u*u))/math.Pi, StudentTUpper(x, 3), 1e-12, "df 3, t %g", x)
	}
	require.InDelta(t, 0.05, 2*StudentTUpper(2.262157162, 9), 1e-8) // t(9) 0.975 quantile
}

// TestPairedTAndTOST: d = [2, 3, 1, 3]: mean 2.25, sd sqrt(2.75/3), t = 4.7001 on 3 df,
// one-sided p from the df-3 closed form in python3 (0.009109927371611148). TOST on d =
// [0.1, -0.2, 0.05] with bound 0.5: both one-sided p-values from the df-2 closed form.
func TestPairedTAndTOST(t *testing.T) {
	r := PairedTTest([]float64{3, 5, 4, 6}, []float64{1, 2, 3, 3}, true)
	require.InDelta(t, 2.25, r.MeanDiff, 1e-12)
	require.Equal(t, 3, r.DF)
	require.InDelta(t, 4.700096710803842, r.T, 1e-12)
	require.InDelta(t, 0.009109927371611148, r.P, 1e-12)
	two := PairedTTest([]float64{3, 5, 4, 6}, []float64{1, 2, 3, 3}, false)
	require.InDelta(t, 2*0.009109927371611148, two.P, 1e-12)
	require.True(t, math.IsNaN(PairedTTest([]float64{1, 2}, []float64{0, 1}, true).P)) // constant difference

	e := EquivalenceTest([]float64{1.1, 0.8, 1.05}, []float64{1, 1, 1}, 0.5)
	require.InDelta(t, -0.016666666666666666, e.MeanDiff, 1e-12)
	require.InDelta(t, 0.017470213911201737, e.PLower, 1e-12)
	require.InDelta(t, 0.015388315402440178, e.PUpper, 1e-12)
	require.InDelta(t, 0.017470213911201737, e.P, 1e-12)
	wide := EquivalenceTest([]float64{1.1, 0.8, 1.05}, []float64{1, 1, 1}, 0.05)
	require.Greater(t, wide.P, 0.3) // a bound inside the noise: not shown equivalent
}
