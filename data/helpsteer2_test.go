package data

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// hs2 writes one raw HelpSteer2 row in the release's column order.
func hs2(prompt, response string, h, c, co, cx, v int) string {
	return fmt.Sprintf(`{"prompt": %q, "response": %q, "helpfulness": %d, "correctness": %d, "coherence": %d, "complexity": %d, "verbosity": %d}`,
		prompt, response, h, c, co, cx, v)
}

func TestHelpSteer2PairsPerDimensionAndDropsTies(t *testing.T) {
	path := writeFixture(t, "train.jsonl.gz", true, "\n",
		hs2("What is 2+2?", "4", 4, 4, 4, 1, 0),
		hs2("What is 2+2?", "Five, I think.", 1, 0, 4, 1, 1), // ties: coherence, complexity
		hs2("Name a colour ☀", "Blue.", 2, 4, 3, 0, 0),
		hs2("Name a colour ☀", "Rouge — red.", 3, 4, 3, 0, 2),
		hs2("Name a colour ☀", "Green", 3, 2, 3, 0, 0),
		hs2("Lonely prompt", "only one response", 2, 2, 2, 2, 2),
	)
	pairs, st := loadAll(t, Options{Format: HelpSteer2}, path)
	require.Equal(t, 6, st.Rows)
	require.Equal(t, 0, st.BadRows)
	require.Equal(t, 1, st.UnpairedRows)
	// Group 1: one candidate pair; group 2: three (all pairs of three rows).
	require.Equal(t, map[string]int{"helpfulness": 3, "correctness": 3, "coherence": 0, "complexity": 0, "verbosity": 3}, withZeros(st.PairsByDimension))
	require.Equal(t, map[string]int{"helpfulness": 1, "correctness": 1, "coherence": 4, "complexity": 4, "verbosity": 1}, withZeros(st.TiesDropped))
	require.Len(t, pairs, st.Pairs)
	require.Equal(t, 9, st.Pairs)

	first := pairs[0]
	require.Equal(t, "helpfulness", first.Dimension)
	require.Equal(t, "4", first.Chosen.Text)
	require.Equal(t, "Five, I think.", first.Rejected.Text)
	require.Equal(t, Scores{"helpfulness": 4, "correctness": 4, "coherence": 4, "complexity": 1, "verbosity": 0}, first.Chosen.Scores)
	require.Equal(t, Pos{path, 1}, first.Source)

	// Verbosity orders the first pair the other way round: chosen is the more verbose one.
	for _, p := range pairs {
		if p.Dimension == "verbosity" && p.Prompt == "What is 2+2?" {
			require.Equal(t, "Five, I think.", p.Chosen.Text)
		}
		require.Greater(t, p.Chosen.Scores[p.Dimension], p.Rejected.Scores[p.Dimension])
	}
}

func withZeros(m map[string]int) map[string]int {
	out := map[string]int{}
	for _, d := range HelpSteer2Dimensions() {
		out[d] = m[d]
	}
	return out
}

func TestHelpSteer2SelectedDimensions(t *testing.T) {
	// Only the selected columns are required.
	path := writeFixture(t, "x.jsonl", false, "\n",
		`{"prompt": "p", "response": "a", "helpfulness": 3}`,
		`{"prompt": "p", "response": "b", "helpfulness": 1}`)
	pairs, st := loadAll(t, Options{Format: HelpSteer2, Dimensions: []string{"helpfulness"}}, path)
	require.Len(t, pairs, 1)
	require.Equal(t, 0, st.BadRows)
	_, err := NewReader(Options{Format: HelpSteer2, Dimensions: []string{"instruction_following"}})
	require.ErrorContains(t, err, `unknown dimension "instruction_following"`)
}

func TestHelpSteer2BadRows(t *testing.T) {
	path := writeFixture(t, "bad.jsonl", false, "\n",
		hs2("p", "a", 4, 4, 4, 4, 4),
		`{"prompt": "p", "response": "b", "helpfulness": 4, "correctness": 4, "coherence": 4, "complexity": 4`, // malformed
		`{"prompt": "p", "response": "c", "helpfulness": 5, "correctness": 4, "coherence": 4, "complexity": 4, "verbosity": 4}`,
		`{"prompt": "p", "response": "d", "helpfulness": 2.5, "correctness": 4, "coherence": 4, "complexity": 4, "verbosity": 4}`,
		`{"prompt": "p", "response": "e", "helpfulness": 2, "correctness": 4, "coherence": 4, "complexity": 4}`,
		hs2("  ", "f", 1, 1, 1, 1, 1),
		`{"prompt": "p", "response": 7, "helpfulness": 2, "correctness": 4, "coherence": 4, "complexity": 4, "verbosity": 4}`,
		`["not", "an", "object"]`,
		hs2("p", "g", 0, 0, 0, 0, 0),
	)
	pairs, st := loadAll(t, Options{Format: HelpSteer2}, path)
	require.Equal(t, []string{
		path + ":2: json: malformed JSON at column 100: unexpected end of JSON input",
		path + ":3: helpfulness: 5 out of range [0, 4]",
		path + ":4: helpfulness: expected an integer, got 2.5",
		path + ":5: verbosity: missing",
		path + ":6: prompt: empty",
		path + ":7: response: expected a string, got a number 7",
		path + ":8: json: expected a JSON object, got array",
	}, errorLines(st))
	require.Equal(t, 9, st.Rows)
	require.Equal(t, 7, st.BadRows)
	require.Len(t, pairs, 5, "rows 1 and 9 still pair: the bad rows between them are skipped")

	// Without SkipBad the first bad row stops the read, as a *RowError.
	_, _, err := Load([]string{path}, Options{Format: HelpSteer2})
	var re *RowError
	require.ErrorAs(t, err, &re)
	require.Equal(t, RowError{File: path, Line: 2, Field: "json", Reason: "malformed JSON at column 100: unexpected end of JSON input"}, *re)
}
