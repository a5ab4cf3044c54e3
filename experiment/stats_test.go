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
