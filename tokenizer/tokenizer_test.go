package tokenizer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeTinyTokenizer writes a tokenizer.json with the 256 byte tokens (ids in
// byte order), a few merges in the given format, and added tokens.
func writeTinyTokenizer(t *testing.T, pairMerges bool, pattern string, added []map[string]any) string {
	t.Helper()
	vocab := map[string]int{}
	for b := 0; b < 256; b++ {
		vocab[string(byteToRune[b])] = b
	}
	merges := [][2]string{{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"Ġ", "w"}}
	for _, m := range merges {
		vocab[m[0]+m[1]] = len(vocab)
	}
	var mergesJSON any = merges
	if !pairMerges {
		lines := []string{}
		for _, m := range merges {
			lines = append(lines, m[0]+" "+m[1])
		}
		mergesJSON = lines
	}
	doc := map[string]any{
		"added_tokens": added,
		"normalizer":   map[string]any{"type": "NFC"},
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]any{"Regex": pattern}, "behavior": "Isolated", "invert": false},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
		}},
		"decoder": map[string]any{"type": "ByteLevel"},
		"model":   map[string]any{"type": "BPE", "vocab": vocab, "merges": mergesJSON},
	}
	dir := t.TempDir()
	data, err := json.Marshal(doc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer.json"), data, 0o644))
	return dir
}

func TestMergesInBothFormats(t *testing.T) {
	for _, pairs := range []bool{false, true} {
		tok, err := Load(writeTinyTokenizer(t, pairs, qwen2Pattern, nil))
		require.NoError(t, err)
		hello, _ := tok.TokenID("hello")
		gw, _ := tok.TokenID("Ġw")
		require.Equal(t, []int{hello, gw, 'o', 'r', 'l', 'd'}, tok.Encode("hello world"), "pair merges: %v", pairs)
		require.Equal(t, "hello world", tok.Decode(tok.Encode("hello world")))
	}
}

func TestAddedTokensStripAndMatchLongest(t *testing.T) {
	dir := writeTinyTokenizer(t, true, qwen2Pattern, []map[string]any{
		{"id": 300, "content": "<a>", "special": true},
		{"id": 301, "content": "<a><b>", "special": true},
		{"id": 302, "content": "[S]", "lstrip": true, "rstrip": true},
	})
	tok, err := Load(dir)
	require.NoError(t, err)
	require.Equal(t, []int{301, 300, 'x'}, tok.Encode("<a><b><a>x"), "leftmost-longest")
	require.Equal(t, []int{'x', 302, 'y'}, tok.Encode("x  [S] \t y"), "lstrip/rstrip swallow whitespace")
	require.True(t, tok.IsSpecial(300))
	require.False(t, tok.IsSpecial(302))
	require.Equal(t, 303, tok.VocabSize())
}

func TestUnknownSplitRegexNamesFile(t *testing.T) {
	dir := writeTinyTokenizer(t, true, `\w+|\s+`, nil)
	_, err := Load(dir)
	require.ErrorContains(t, err, filepath.Join(dir, "tokenizer.json"))
	require.ErrorContains(t, err, "split regex")
}

func TestLoadMissingDir(t *testing.T) {
	_, err := Load(t.TempDir())
	require.ErrorContains(t, err, "neither tokenizer.json")
}

func TestQwenFileIsTheExpectedOne(t *testing.T) {
	requireOracles(t)
	data, err := os.ReadFile(qwenDir + "/tokenizer.json")
	require.NoError(t, err)
	sum := sha256.Sum256(data)
	require.Equal(t, "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4", hex.EncodeToString(sum[:]))
}

func TestQwenAccessors(t *testing.T) {
	tok := loadQwen(t)
	require.Equal(t, 151669, tok.VocabSize()) // 151,643 BPE entries + 26 added tokens
	eos, ok := tok.EOS()
	require.True(t, ok)
	require.Equal(t, 151645, eos) // <|im_end|>
	pad, ok := tok.Pad()
	require.True(t, ok)
	require.Equal(t, 151643, pad) // <|endoftext|>
	_, ok = tok.BOS()
	require.False(t, ok)

	id, ok := tok.TokenID("Ġthe")
	require.True(t, ok)
	require.Equal(t, []int{id}, tok.Encode(" the"))
	s, ok := tok.Token(id)
	require.True(t, ok)
	require.Equal(t, "Ġthe", s)
	s, ok = tok.Token(eos)
	require.True(t, ok)
	require.Equal(t, "<|im_end|>", s)
	require.True(t, tok.IsSpecial(eos))
	require.False(t, tok.IsSpecial(id))
	require.Len(t, tok.AddedTokens(), 26)
}

func TestGPT2Accessors(t *testing.T) {
	tok := loadGPT2(t)
	require.Equal(t, 50257, tok.VocabSize())
	eos, ok := tok.EOS()
	require.True(t, ok)
	require.Equal(t, 50256, eos)
	_, ok = tok.Pad()
	require.False(t, ok)
	// The same files loaded by name.
	direct, err := LoadGPT2(gpt2Dir+"/encoder.json", gpt2Dir+"/vocab.bpe")
	require.NoError(t, err)
	require.Equal(t, tok.Encode("Hello world"), direct.Encode("Hello world"))
}

func TestDecodeIncompleteUTF8(t *testing.T) {
	tok := loadQwen(t)
	ids := tok.Encode("€") // three bytes, one or more tokens
	raw := tok.DecodeBytes(ids)
	require.Equal(t, []byte("€"), raw)
	require.Equal(t, "\uFFFD", tok.Decode([]int{int(tok.model.byteID[0xE2])}))
	require.Equal(t, "", tok.Decode([]int{-1, 1 << 30}), "unknown ids are skipped")
	// Invalid UTF-8 in the input survives as raw bytes.
	for _, s := range []string{"aÿb", "â", "xÃ é"} {
		require.Equal(t, []byte(s), tok.DecodeBytes(tok.Encode(s)), "%q", s)
	}
}

// These pin where this package follows Hugging Face tokenizers (Rust,
// Oniguruma) rather than the JavaScript oracle: \s is Unicode White_Space
// (so U+0085 is space and U+FEFF is not) and (?i) matches U+017F as 's'.
func TestSplitFollowsHuggingFaceWhitespace(t *testing.T) {
	split := func(s string) []string { return splitPieces(s, qwen2Pieces(1), nil) }
	require.Equal(t, []string{"a", "\u0085", "\u0085b"}, split("a\u0085\u0085b"))
	require.Equal(t, []string{"a", "\ufeffb"}, split("a\ufeffb"))
	require.Equal(t, []string{"it", "'ſ"}, split("it'ſ"))
	require.Equal(t, []string{"it", "'S", " ok"}, split("it'S ok"))
	require.Equal(t, []string{"1", "2", "3", "4"}, split("1234"))
	require.Equal(t, []string{"123", "4"}, splitPieces("1234", qwen2Pieces(3), nil))
	require.Equal(t, []string{"x", "  ", " y", "  \n", "\tz", " \t "}, split("x   y  \n\tz \t "))
	require.Equal(t, []string{"Hello", " world", "!!\r\n", "'s"}, split("Hello world!!\r\n's"))
}

func TestConcurrentEncode(t *testing.T) {
	tok := loadQwen(t)
	lines := generateCorpus(2000)
	want := make([][]int, len(lines))
	for i, l := range lines {
		want[i] = tok.Encode(l)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Go(func() {
			for i := len(lines) - 1; i >= 0; i-- {
				if !equalInts(want[i], tok.Encode(lines[i])) {
					t.Errorf("line %d differs under concurrency", i+1)
					return
				}
			}
		})
	}
	wg.Wait()
}
