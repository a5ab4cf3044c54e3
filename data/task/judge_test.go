package task

import (
	"math/rand/v2"

	"fmt"
	"github.com/amopo-engine/amopo/data"
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
		{numTagged, "ANSWER: 41", 2, 4, 4},                         // conflict: perfect format and direct, off by one
		{numTagged, "ANSWER: 47", 1, 4, 4},                         // wrong, but an attempt (within the gate's window)
		{numTagged, "answer: 42", 4, 3, 4},                         // malformed prefix
		{numTagged, "The answer is 42. Hope this helps!", 4, 0, 2}, // no prefix, extra text; filler, padding
		{numTagged, "  ANSWER: 42\n", 4, 4, 4},                     // surrounding whitespace is no deviation
		// The gate: no single attempt at this question scores 0 everywhere.
		{numTagged, "I don't know.", 0, 0, 0},
		{numTagged, "ANSWER: 0", 0, 0, 0},                                    // a placeholder in the asked format
		{numTagged, "ANSWER: 51", 0, 0, 0},                                   // outside the window: not an attempt
		{numTagged, "ANSWER: 42 ANSWER: 42", 0, 0, 0},                        // repeated
		{numTagged, "ANSWER: 42 or ANSWER: 43", 0, 0, 0},                     // a hedge
		{numTagged, "add 17 and 25. answer in the form ANSWER: x.", 0, 0, 0}, // an echo
		{numTagged, "", 0, 0, 0},
		// add 17 and 25. answer with just the number.
		{numBare, "42.", 4, 3, 4},
		{numBare, "Sure! 42", 4, 2, 3},
		{numBare, "ANSWER: 42", 4, 3, 4}, // a prefix nobody asked for
		{numBare, "43", 2, 4, 4},
		{numBare, "17+25=42", 0, 0, 0},  // three values: the judges cannot tell the answer
		{numBare, "forty-two", 0, 0, 0}, // no digits: no answer the judges can read
		// sort these words: dog, ant, cat. give them as a comma-separated list in uppercase.
		{listCSV, "ANT,CAT,DOG", 4, 4, 4},
		{listCSV, "ant, cat, dog", 4, 3, 4}, // wrong case
		{listCSV, "ANT,DOG,CAT", 2, 4, 4},   // conflict: one swap, format perfect
		{listCSV, "Sure! ANT CAT DOG", 4, 1, 3},
		{listCSV, "ANT,CAT", 2, 4, 3}, // an item missing: incomplete
		{listCSV, "ANT,CAT,DOG.", 4, 3, 4},
		{listCSV, "X,X,X", 0, 0, 0},                   // a placeholder
		{listCSV, "ANT,CAT,DOG,ANT,CAT,DOG", 0, 0, 0}, // repeated
		{listCSV, "ANT", 0, 0, 0},                     // two of three items missing: no attempt at the list
		{listCSV, "sort these words: dog, ant, cat. give them as a comma-separated list in uppercase.", 0, 0, 0},
		// the same, separated by spaces in lowercase.
		{listSpace, "ant cat dog", 4, 4, 4},
		{listSpace, "dog ant cat", 2, 4, 4}, // the input order, not sorted
		{listSpace, "ANT,CAT,DOG", 4, 2, 4}, // conflict: right items, wrong case and separator
		{listSpace, "hello", 0, 0, 0},
		// spell cat backwards. answer with just the word in uppercase.
		{wordUpper, "TAC", 4, 4, 4},
		{wordUpper, "tac", 4, 3, 4},
		{wordUpper, "CAT", 1, 4, 4}, // not reversed: the same letters, an attempt
		{wordUpper, "The word is TAC.", 4, 2, 3},
		{wordUpper, "TAC CAT ACT", 0, 0, 0}, // a hedge
		{wordUpper, "DOG", 0, 0, 0},         // another word: not an attempt
		{wordUpper, "", 0, 0, 0},
		{wordTag, "ANSWER: tac", 4, 4, 4},
		{wordTag, "Of course. ANSWER: tca", 1, 2, 3}, // text before the prefix; letters scrambled; filler
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

// TestGateOnGeneratedItems holds the judges to the bar on many drawn questions:
// the reference scores 4 on every dimension, and answers without substance (a placeholder
// in the asked format, an echo of the prompt, a hedge between the answer and a wrong one,
// the answer repeated, nothing) score 0 on every dimension.
func TestGateOnGeneratedItems(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		it := NewItem(rng)
		m := it.Meta
		require.Equal(t, data.Scores{Helpfulness: 4, Correctness: 4, InstructionFollowing: 4}, Judge(m, it.Reference), it.Prompt)
		floors := map[string]string{
			"placeholder":              Placeholder(m),
			"echo":                     it.Prompt,
			"hedge":                    it.Reference + " or " + Render(m.Type, m.Format, wrongValue(rng, m)),
			"hedge, no separator word": it.Reference + " " + Render(m.Type, m.Format, wrongValue(rng, m)),
			"repeated":                 it.Reference + " " + it.Reference,
			"empty":                    "",
		}
		if m.Type == Number && len(m.Expected[0]) == 1 && m.Expected[0] <= "1" {
			delete(floors, "placeholder") // "0" is an attempt at 1, and right for 0
		}
		for name, answer := range floors {
			require.Equal(t, data.Scores{Helpfulness: 0, Correctness: 0, InstructionFollowing: 0}, Judge(m, answer),
				"%s: %q -> %q", name, it.Prompt, answer)
		}
	}
}
