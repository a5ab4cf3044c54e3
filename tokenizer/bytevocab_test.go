package tokenizer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestByteVocabWriteLoadsBack(t *testing.T) {
	dir := t.TempDir()
	v := ByteVocab{Specials: []string{"<|pad|>", "<|bos|>", "<|eos|>"}, BOS: "<|bos|>", EOS: "<|eos|>", Pad: "<|pad|>",
		ChatTemplate: "{{ bos_token }}", ModelMaxLength: 512}
	require.NoError(t, v.Write(dir))
	tok, err := Load(dir)
	require.NoError(t, err)
	require.Equal(t, 259, tok.VocabSize())
	for role, get := range map[int]func() (int, bool){257: tok.BOS, 258: tok.EOS, 256: tok.Pad} {
		id, ok := get()
		require.True(t, ok)
		require.Equal(t, role, id)
	}
	// Every byte is its own token, through the GPT-2 split, on the whole corpus.
	for _, line := range generateCorpus(2000) {
		want := make([]int, len(line))
		for i := 0; i < len(line); i++ {
			want[i] = int(line[i])
		}
		if line == "" {
			want = nil
		}
		got := tok.Encode(line)
		if len(want) == 0 && len(got) == 0 {
			continue
		}
		require.Equal(t, want, got, "%q", line)
		require.Equal(t, line, tok.Decode(got))
	}
	// The special tokens' text is the special token, as in every Hugging Face tokenizer.
	require.Equal(t, []int{'a', 258, 'b'}, tok.Encode("a<|eos|>b"))

	for _, bad := range []ByteVocab{
		{Specials: []string{"<a>", "<a>"}},
		{Specials: []string{""}},
		{Specials: []string{"<a>"}, EOS: "<b>"},
	} {
		require.Error(t, bad.Write(t.TempDir()), "%+v", bad)
	}
	st, err := os.Stat(filepath.Join(dir, "tokenizer.json"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), st.Mode().Perm())
}
