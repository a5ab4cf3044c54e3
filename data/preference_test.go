package data

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func prefRow(split, prompt, r1, r2 string, strength int) string {
	// The release has more columns (statements, elaborations): they must be ignored.
	return fmt.Sprintf(`{"split": %q, "prompt": %q, "response_1": %q, "response_2": %q, "preference_strength": %d, "preference_statement": "@Response 1 is better", "all_preferences_unprocessed": [-2, -1]}`,
		split, prompt, r1, r2, strength)
}

func TestHelpSteer2PreferenceOrderAndTies(t *testing.T) {
	path := writeFixture(t, "preference.jsonl.gz", true, "\r\n",
		prefRow("train", "Say hi", "Hi!", "Go away.", -2),
		prefRow("train", "Say hi", "Hello", "Hellö, wörld", 3),
		prefRow("train", "Tie", "a", "b", 0),
		prefRow("validation", "Held out", "x", "y", -1),
	)
	pairs, st := loadAll(t, Options{Format: HelpSteer2Preference}, path)
	require.Len(t, pairs, 3)
	require.Equal(t, Pair{Prompt: "Say hi", Chosen: Response{"Hi!", Scores{}}, Rejected: Response{"Go away.", Scores{}},
		Strength: 2, Source: Pos{path, 1}}, pairs[0], "negative strength prefers response_1")
	require.Equal(t, "Hellö, wörld", pairs[1].Chosen.Text, "positive strength prefers response_2")
	require.Equal(t, 3, pairs[1].Strength)
	require.Equal(t, map[string]int{Overall: 1}, st.TiesDropped)
	require.Equal(t, map[string]int{Overall: 3}, st.PairsByDimension)

	pairs, st = loadAll(t, Options{Format: HelpSteer2Preference, Split: "validation"}, path)
	require.Len(t, pairs, 1)
	require.Equal(t, 3, st.OtherSplit)
}

func TestHelpSteer2PreferenceBadRows(t *testing.T) {
	path := writeFixture(t, "preference.jsonl", false, "\n",
		prefRow("train", "p", "a", "b", 4),
		`{"split": "train", "prompt": "p", "response_1": "a", "preference_strength": 1}`,
		prefRow("train", "", "a", "b", 1),
		`{"split": "train", "prompt": "p", "response_1": "a", "response_2": "b", "preference_strength": "-1"}`,
		`{"split": "train", "prompt": "p", "response_1": "a", "response_2": "b", "preference_strength": -1}}`,
	)
	_, st := loadAll(t, Options{Format: HelpSteer2Preference}, path)
	require.Equal(t, []string{
		path + ":1: preference_strength: 4 out of range [-3, 3]",
		path + ":2: response_2: missing",
		path + ":3: prompt: empty",
		path + `:4: preference_strength: expected a number, got a string "-1"`,
		path + ":5: json: malformed JSON at column 99: invalid character '}' after top-level value",
	}, errorLines(st))
}
