package task

import (
	"testing"

	"github.com/amopo-engine/amopo/data"
	"github.com/stretchr/testify/require"
)

// TestTaskThroughThePipeline encodes and batches the task with the byte-level tokenizer:
// the sequences are short enough that nothing is cut at max_length 256.
func TestTaskThroughThePipeline(t *testing.T) {
	ds, err := Generate(Config{Seed: 5, Train: 200})
	require.NoError(t, err)
	tok := data.ByteTokenizer{}
	enc, err := data.NewEncoder(data.EncodeConfig{
		Tokenizer: tok, Chat: data.UserTurn(tok.ApplyChatTemplate), Templates: Templates(),
		MaxLength: 256, MaxPromptLength: 192, EOS: tok.EOS(),
	})
	require.NoError(t, err)
	var exs []data.Example
	var lengths []int
	for i := range ds.Train {
		ex, err := enc.Encode(&ds.Train[i])
		require.NoError(t, err)
		require.False(t, ex.PromptTruncated || ex.ResponseTruncated)
		exs = append(exs, ex)
		lengths = append(lengths, ex.Len())
	}
	plan, err := data.Plan(lengths, data.BatchConfig{BatchSize: 16, Seed: 1}, 0)
	require.NoError(t, err)
	b, err := data.Collate(exs, plan[0], data.BytePad, 8)
	require.NoError(t, err)
	require.Equal(t, []int{16, 4, 2, b.S}, b.Dims())
	require.LessOrEqual(t, b.S, 256)
	require.Equal(t, 0, b.S%8)
}
