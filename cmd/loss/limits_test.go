package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// paths are the two ways cmd/loss computes, each with and without the gradient.
var paths = [][]string{nil, {"--reference"}, {"--gradient"}, {"--gradient", "--reference"}}

// TestLossRefusesValuesThatOverflow: finite inputs whose results overflow float64 are
// refused with the field and the inputs named, on every path; they used to come back as
// 0 (alpha, margins, rewards), as a log-prob of 0 (null), or as "json: unsupported value".
func TestLossRefusesValuesThatOverflow(t *testing.T) {
	for body, want := range map[string]string{
		// beta*s_l = 1e308*-2 is -Inf: the rewards and margin used to read 0.
		`{"loss":"simpo","beta":1e308,"chosen_logps":[[-1]],"rejected_logps":[[-2]]}`: `rejected_rewards[0] (dimension "dim_1") is -Inf`,
		// The loss itself is +Inf (the graph used to fail encoding it).
		`{"loss":"simpo","beta":1e308,"length_normalize":false,"chosen_logps":[[-1,-1]],"rejected_logps":[[-0.5]]}`:                             `chosen_rewards[0] (dimension "dim_1") is -Inf`,
		`{"loss":"simpo","nll_weight":1e308,"chosen_logps":[[-3]],"rejected_logps":[[-0.5]]}`:                                                   `losses[0] (dimension "dim_1") is +Inf`,
		`{"loss":"dpo","beta":1e308,"chosen_logps":[[-1]],"rejected_logps":[[-1e10]],"ref_chosen_logps":[[-1e10]],"ref_rejected_logps":[[-1]]}`: `is +Inf`,
		// null used to be read as a log-prob of 0.
		`{"loss":"simpo","chosen_logps":[[null]],"rejected_logps":[[-2]]}`: `chosen_logps[0][0]: null is not a log-prob`,
		// Every token finite, the sum not: it used to say "non-finite log-prob".
		`{"loss":"dpo","chosen_logps":[[-1e308,-1e308]],"rejected_logps":[[-2]],"ref_chosen_logps":[[-1,-1]],"ref_rejected_logps":[[-1]]}`: `chosen_logps[0]: the sum of its 2 log-probs overflows float64`,
	} {
		for _, args := range paths {
			var out, errOut bytes.Buffer
			code := run(args, strings.NewReader(body), &out, &errOut)
			require.Equal(t, 2, code, "%s %v: %s", body, args, out.String())
			require.Empty(t, out.String())
			require.Contains(t, errOut.String(), want, "%s %v", body, args)
			require.Equal(t, 1, strings.Count(errOut.String(), "\n"))
		}
	}
	// ORPO with lambda 1e308: the loss is finite, its gradient is not.
	body := `{"loss":"orpo","lambda":1e308,"chosen_logps":[[-1]],"rejected_logps":[[-0.5]]}`
	for _, args := range paths[2:] {
		_, stderr, code := call(t, body, args...)
		require.Equal(t, 2, code, "%v", args)
		require.Regexp(t, `gradient.*not finite|gradient.*is (NaN|[+-]Inf)`, stderr)
	}
}

// TestLossAnswersRightNearTheEdgeOfFloat64: large but representable values are answered,
// and answered right: fixed weights [1e308, 1e308] are 1:1 (their plain sum overflows),
// and beta 1e308 with a margin of -0.5 gives a loss of beta/2 + gamma, a gradient of -+beta.
func TestLossAnswersRightNearTheEdgeOfFloat64(t *testing.T) {
	const pair = `"chosen_logps":[[-1,-2],[-0.5]],"rejected_logps":[[-2],[-3,-1]]`
	for _, args := range paths {
		huge, stderr, code := call(t, `{"loss":"amopo","policy":"fixed","weights":[1e308,1e308],`+pair+`}`, args...)
		require.Equal(t, 0, code, stderr)
		unit, stderr, code := call(t, `{"loss":"amopo","policy":"fixed","weights":[1,1],`+pair+`}`, args...)
		require.Equal(t, 0, code, stderr)
		require.Equal(t, []float64{0.5, 0.5}, huge.Alpha, "%v", args)
		require.Equal(t, unit.Loss, huge.Loss, "%v", args)
		require.Greater(t, huge.Loss, 0.0)

		edge, stderr, code := call(t, `{"loss":"simpo","beta":1e308,"chosen_logps":[[-1]],"rejected_logps":[[-0.5]]}`, args...)
		require.Equal(t, 0, code, "%v: %s", args, stderr)
		require.InEpsilon(t, 0.5e308+2, edge.Loss, 1e-15, "%v", args) // -logsig(x) = -x for x = -5e307 - 2
		require.Equal(t, []float64{-0.5e308}, edge.Margins)
		if len(args) > 0 && args[0] == "--gradient" {
			require.InEpsilon(t, -1e308, edge.GradChosenLogps[0][0], 1e-15, "%v", args)
			require.InEpsilon(t, 1e308, edge.GradRejectedLogps[0][0], 1e-15, "%v", args)
		}
	}
}

// endless is a reader of spaces that never ends and counts what was read from it.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.read += int64(len(p))
	return len(p), nil
}

// TestLossBoundsStdin: stdin used to be read to its end (1 GB of zeros took 2.7 GB and
// then the process ran out of memory). It is read to the limit and refused.
func TestLossBoundsStdin(t *testing.T) {
	for _, args := range [][]string{{"--max-body", "1000"}, nil} {
		limit := int64(DefaultMaxBody)
		if args != nil {
			limit = 1000
		}
		src := &endless{}
		var out, errOut bytes.Buffer
		code := run(args, src, &out, &errOut)
		require.Equal(t, 2, code)
		require.Contains(t, errOut.String(), fmt.Sprintf("over the limit of %d bytes (--max-body raises it)", limit))
		require.LessOrEqual(t, src.read, limit+1, "read past the limit")
		require.Empty(t, out.String())
	}

	// The boundary: a body of exactly the limit is read, one byte more is not.
	body := `{"loss":"simpo","chosen_logps":[[-1]],"rejected_logps":[[-2]]}`
	padded := body + strings.Repeat(" ", 100-len(body))
	_, stderr, code := call(t, padded, "--max-body", "100")
	require.Equal(t, 0, code, stderr)
	_, stderr, code = call(t, padded+" ", "--max-body", "100")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "over the limit of 100 bytes")

	for _, bad := range []string{"0", "-5"} {
		_, stderr, code = call(t, body, "--max-body", bad)
		require.Equal(t, 2, code)
		require.Contains(t, stderr, "--max-body: must be at least 1 byte")
	}
	_, stderr, code = call(t, body, "--reference", "extra")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, `unexpected argument "extra"`)
}
