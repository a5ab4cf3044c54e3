package task

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestParseItemRoundTrip reads drawn prompts back: the item, metadata and reference
// equal the drawn ones (so an answers file is judged exactly as the run judged it).
func TestParseItemRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for range 3000 {
		it := NewItem(rng)
		got, err := ParseItem(it.Prompt, it.Reference)
		require.NoError(t, err, it.Prompt)
		require.Equal(t, it, got)
	}
}

func TestParseItemRefusesOtherText(t *testing.T) {
	for _, c := range []struct{ prompt, reference, want string }{
		{"what is love?", "", "no answer-format instruction"},
		{"tell me a joke. answer with just the number.", "1", "not a question of the built-in task"},
		{"add 2 and 3. answer in the form ANSWER: x.", "ANSWER: 6", "the task's answer is \"ANSWER: 5\""},
		{"add 2 and 3. answer with just the word.", "5", "no answer format of a number question"},
	} {
		_, err := ParseItem(c.prompt, c.reference)
		require.ErrorContains(t, err, c.want, c.prompt)
	}
}
