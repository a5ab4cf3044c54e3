package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestScoreScaleFlagsAreFloats: HelpSteer2 scores are integers, but the scale bounds
// were converted to int, so --max-score 1e20 became [0, -9223372036854775808] and
// rejected every row, and --min-score 0.5 became 0 and let a score of 0 through.
func TestScoreScaleFlagsAreFloats(t *testing.T) {
	dir := t.TempDir()
	rows := write(t, dir, "train.jsonl",
		`{"prompt": "p", "response": "a", "helpfulness": 4, "correctness": 3, "coherence": 4, "complexity": 1, "verbosity": 1}`,
		`{"prompt": "p", "response": "b", "helpfulness": 2, "correctness": 3, "coherence": 4, "complexity": 2, "verbosity": 0}`)

	code, out, errOut := runCmd("validate", "--format", "helpsteer2", "--max-score", "1e20", rows)
	require.Equal(t, 0, code, out+errOut)
	require.Contains(t, out, "bad rows: 0\n")

	code, out, _ = runCmd("validate", "--format", "helpsteer2", "--min-score", "0.5", rows)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, rows+":2: verbosity: 0 out of range [0.5, 4]\n")

	for _, c := range []struct{ args []string }{
		{[]string{"--max-score", "inf"}},
		{[]string{"--min-score", "5"}},
		{[]string{"--min-score", "NaN"}},
	} {
		args := append(append([]string{"validate", "--format", "helpsteer2"}, c.args...), rows)
		code, _, errOut := runCmd(args...)
		require.Equal(t, 2, code, c.args)
		require.Contains(t, errOut, c.args[0], c.args)
		require.Contains(t, errOut, "score scale", c.args)
	}
}
