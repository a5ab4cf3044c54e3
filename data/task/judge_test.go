package task

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

var (
	numTagged = Meta{Kind: "add", Type: Number, Format: Tagged, Expected: []string{"42"}}
	numBare   = Meta{Kind: "add", Type: Number, Format: Bare, Expected: []string{"42"}}
	listCSV   = Meta{Kind: "sort", Type: List, Format: CSVUpper, Expected: []string{"ant", "cat", "dog"}, Items: []string{"dog", "ant", "cat"}}
	listSpace = Meta{Kind: "sort", Type: List, Format: SpaceLower, Expected: []string{"ant", "cat", "dog"}, Items: []string{"dog", "ant", "cat"}}
	wordUpper = Meta{Kind: "reverse_word", Type: Word, Format: Upper, Expected: []string{"tac"}}
	wordTag   = Meta{Kind: "reverse_word", Type: Word, Format: Tagged, Expected: []string{"tac"}}
)

// TestJudges scores hand-written responses; the comments say why. C = correctness,
// IF = instruction following, H = helpfulness.
func TestJudges(t *testing.T) {
	cases := []struct {
		m         Meta
		response  string
		c, inf, h int
	}{
		// add 17 and 25. answer in the form ANSWER: x.
		{numTagged, "ANSWER: 42", 4, 4, 4},
		{numTagged, "42", 4, 2, 4},                                 // conflict: right value, prefix missing
		{numTagged, "ANSWER: 41", 1, 4, 2},                         // conflict: perfect format, off by one
		{numTagged, "answer: 42", 4, 3, 4},                         // malformed prefix
		{numTagged, "The answer is 42. Hope this helps!", 4, 0, 2}, // no prefix, extra text; filler, verbose
		{numTagged, "I don't know.", 0, 0, 0},
		{numTagged, "  ANSWER: 42\n", 4, 4, 4}, // surrounding whitespace is no deviation
		// add 17 and 25. answer with just the number.
		{numBare, "42.", 4, 3, 4},
		{numBare, "Sure! 42", 4, 2, 3},
		{numBare, "ANSWER: 42", 4, 3, 4}, // a prefix nobody asked for
		{numBare, "43", 1, 4, 2},
		{numBare, "17+25=42", 4, 2, 4},  // the last number is the answer; the working is extra text
		{numBare, "forty-two", 0, 0, 0}, // no digits: no answer the judges can read
		// sort these words: dog, ant, cat. give them as a comma-separated list in uppercase.
		{listCSV, "ANT,CAT,DOG", 4, 4, 4},
		{listCSV, "ant, cat, dog", 4, 3, 4}, // wrong case
		{listCSV, "ANT,DOG,CAT", 2, 4, 2},   // conflict: one swap, format perfect
		{listCSV, "Sure! ANT CAT DOG", 4, 1, 3},
		{listCSV, "ANT,CAT", 2, 4, 2}, // an item missing
		{listCSV, "ANT,CAT,DOG.", 4, 3, 4},
		// the same, separated by spaces in lowercase.
		{listSpace, "ant cat dog", 4, 4, 4},
		{listSpace, "dog ant cat", 2, 4, 2}, // the input order, not sorted
		{listSpace, "ANT,CAT,DOG", 4, 2, 4}, // conflict: right items, wrong case and separator
		{listSpace, "hello", 0, 0, 0},
		// spell cat backwards. answer with just the word in uppercase.
		{wordUpper, "TAC", 4, 4, 4},
		{wordUpper, "tac", 4, 3, 4},
		{wordUpper, "CAT", 1, 4, 2}, // not reversed: an anagram scores 1
		{wordUpper, "The word is TAC.", 4, 2, 3},
		{wordUpper, "", 0, 0, 0},
		{wordTag, "ANSWER: tac", 4, 4, 4},
		{wordTag, "Of course. ANSWER: tca", 1, 2, 2}, // text before the prefix; letters scrambled
	}
	for _, c := range cases {
		name := fmt.Sprintf("%s/%s/%q", c.m.Type, c.m.Format, c.response)
		require.Equal(t, c.c, JudgeCorrectness(c.m, c.response), "correctness of %s", name)
		require.Equal(t, c.inf, JudgeInstructionFollowing(c.m, c.response), "instruction following of %s", name)
		require.Equal(t, c.h, JudgeHelpfulness(c.m, c.response), "helpfulness of %s", name)
		s := Judge(c.m, c.response)
		require.Equal(t, []float64{float64(c.h), float64(c.c), float64(c.inf)},
			[]float64{s[Helpfulness], s[Correctness], s[InstructionFollowing]})
	}
}
