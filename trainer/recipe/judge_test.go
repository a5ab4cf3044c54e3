package recipe

import (
	"bytes"
	"math"
	"testing"

	"github.com/amopo-engine/amopo/data"
	"github.com/stretchr/testify/require"
)

func TestPairedChangeAndJudgeTable(t *testing.T) {
	mk := func(xs ...float64) []data.Scores {
		out := make([]data.Scores, len(xs))
		for i, x := range xs {
			out[i] = data.Scores{"h": x, "c": 2}
		}
		return out
	}
	before, after := mk(0, 1, 2, 3), mk(1, 1, 3, 2) // differences 1, 0, 1, -1
	m, se := PairedChange(before, after, "h")
	require.InDelta(t, 0.25, m, 1e-15)
	require.InDelta(t, math.Sqrt((0.75*0.75+0.25*0.25+0.75*0.75+1.25*1.25)/3/4), se, 1e-15)
	m, se = PairedChange(before, after, "c")
	require.Zero(t, m)
	require.Zero(t, se)
	m, _ = PairedChange(before, after[:3], "h")
	require.True(t, math.IsNaN(m), "mismatched lengths are no change")

	var w bytes.Buffer
	up := mk(2, 3, 4, 4)
	printJudgeTable(&w, []string{"h", "c"}, []string{"after SFT", "after amopo"},
		[]JudgeScores{{"h": 1.5, "c": 2}, {"h": 3.25, "c": 2}}, before, up)
	require.Contains(t, w.String(), "change ± 2 s.e. (paired)")
	require.Regexp(t, `h .* 1\.500 .* 3\.250  \+1\.750 ± 0\.\d+ up`, w.String())
	require.Regexp(t, `c .* \+0\.000 ± 0\.000\n`, w.String())
}
