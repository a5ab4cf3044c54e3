package data

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func byteEncoder(t *testing.T, cfg EncodeConfig) *Encoder {
	t.Helper()
	cfg.Tokenizer = ByteTokenizer{}
	cfg.EOS = ByteEOS
	if cfg.Templates == nil {
		cfg.Templates = Templates{{Name: "general", Template: "{prompt}"}, {Name: "helpfulness", Template: "#{score} {prompt}"}}
	}
	e, err := NewEncoder(cfg)
	require.NoError(t, err)
	return e
}

func text(ids []int32) string {
	var b strings.Builder
	for _, id := range ids {
		switch {
		case id < 256:
			b.WriteByte(byte(id))
		case id == ByteEOS:
			b.WriteString("<eos>")
		case id == ByteBOS:
			b.WriteString("<bos>")
		default:
			b.WriteString("<?>")
		}
	}
	return b.String()
}

func TestEncodeBuildsTwoKSequences(t *testing.T) {
	e := byteEncoder(t, EncodeConfig{Chat: UserTurn(ByteTokenizer{}.ApplyChatTemplate), MaxLength: 64})
	p := Pair{Prompt: "2+2?", Chosen: Response{"4", Scores{"helpfulness": 3}}, Rejected: Response{"five", Scores{"helpfulness": 1}}}
	ex, err := e.Encode(&p)
	require.NoError(t, err)
	require.Len(t, ex.Seqs, 2)
	got := [][2]string{}
	for _, s := range ex.Seqs {
		got = append(got, [2]string{text(s[0].Tokens), text(s[1].Tokens)})
		require.Equal(t, s[0].Tokens[:s[0].PromptLen], s[1].Tokens[:s[1].PromptLen], "chosen and rejected share the prompt")
	}
	require.Equal(t, [][2]string{
		{"Q: 2+2?\nA: 4<eos>", "Q: 2+2?\nA: five<eos>"},
		{"Q: #3 2+2?\nA: 4<eos>", "Q: #3 2+2?\nA: five<eos>"},
	}, got)
	require.Equal(t, len("Q: #3 2+2?\nA: "), ex.Seqs[1][0].PromptLen)
	require.False(t, ex.PromptTruncated || ex.ResponseTruncated)
	require.Equal(t, len("Q: #3 2+2?\nA: five")+1, ex.Len())
}

func TestEncodeConfigErrors(t *testing.T) {
	ts := DefaultTemplates()
	for _, c := range []struct {
		cfg  EncodeConfig
		want string
	}{
		{EncodeConfig{Tokenizer: ByteTokenizer{}, Templates: ts, MaxLength: 128, MaxPromptLength: 128}, "max_prompt_length must be in [1, max_length-1] = [1, 127], got 128"},
		{EncodeConfig{Tokenizer: ByteTokenizer{}, Templates: ts, MaxLength: 128, MaxPromptLength: 512}, "an empty response gives a NaN loss"},
		{EncodeConfig{Tokenizer: ByteTokenizer{}, Templates: ts, MaxLength: 1}, "max_length must be >= 2"},
		{EncodeConfig{Templates: ts, MaxLength: 8}, "no tokenizer"},
		{EncodeConfig{Tokenizer: ByteTokenizer{}, MaxLength: 8}, "at least one"},
		{EncodeConfig{Tokenizer: ByteTokenizer{}, Templates: ts, MaxLength: 8, EOS: -1}, "eos id"},
		{EncodeConfig{Tokenizer: ByteTokenizer{}, Templates: ts, MaxLength: 8, AddBOS: true, BOS: -1}, "bos id"},
	} {
		_, err := NewEncoder(c.cfg)
		require.ErrorContains(t, err, c.want)
	}
	e, err := NewEncoder(EncodeConfig{Tokenizer: ByteTokenizer{}, Templates: ts, MaxLength: 9})
	require.NoError(t, err)
	require.Equal(t, 4, e.Config().MaxPromptLength, "0 means max_length/2")
}

func TestTruncationKeepsAResponseToken(t *testing.T) {
	long := strings.Repeat("x", 100)
	p := Pair{Prompt: strings.Repeat("p", 100), Chosen: Response{long, Scores{"helpfulness": 4}}, Rejected: Response{"ok", Scores{"helpfulness": 0}}}

	// The tightest legal setting: the prompt may take all but one token.
	e := byteEncoder(t, EncodeConfig{MaxLength: 16, MaxPromptLength: 15})
	ex, err := e.Encode(&p)
	require.NoError(t, err)
	for _, s := range ex.Seqs {
		for _, seq := range s {
			require.Len(t, seq.Tokens, 16)
			require.Equal(t, 15, seq.PromptLen)
		}
	}
	require.Equal(t, "#4 pppppppppppp"+"x", text(ex.Seqs[1][0].Tokens), "the template head survives; one response token is left")
	require.Equal(t, "#4 pppppppppppp"+"o", text(ex.Seqs[1][1].Tokens))
	require.True(t, ex.PromptTruncated && ex.ResponseTruncated)

	// A shorter prompt limit leaves more of the response; the cut response has no EOS.
	e = byteEncoder(t, EncodeConfig{MaxLength: 16, MaxPromptLength: 6})
	ex, err = e.Encode(&p)
	require.NoError(t, err)
	require.Equal(t, "#4 ppp"+"xxxxxxxxxx", text(ex.Seqs[1][0].Tokens))
	require.Equal(t, "#4 ppp"+"ok<eos>", text(ex.Seqs[1][1].Tokens), "the short side is not cut")
}

func TestTruncationCutsThePromptOnlyAsFarAsNeeded(t *testing.T) {
	e := byteEncoder(t, EncodeConfig{MaxLength: 20, MaxPromptLength: 4})
	p := Pair{Prompt: "abcdefghijklmnopqrstuvwxyz", Chosen: Response{"yes", Scores{"helpfulness": 2}}, Rejected: Response{"no", Scores{"helpfulness": 1}}}
	ex, err := e.Encode(&p)
	require.NoError(t, err)
	// The longest response is "yes"+EOS = 4 tokens, so the prompt keeps 16, not 4.
	require.Equal(t, "#2 nopqrstuvwxyz"+"yes<eos>", text(ex.Seqs[1][0].Tokens))
	require.Equal(t, "klmnopqrstuvwxyz"+"yes<eos>", text(ex.Seqs[0][0].Tokens))
	require.True(t, ex.PromptTruncated)
	require.False(t, ex.ResponseTruncated)
}

func TestPromptFits(t *testing.T) {
	e := byteEncoder(t, EncodeConfig{MaxLength: 20, MaxPromptLength: 4})
	for prompt, fits := range map[string]bool{"abcd": true, "abcde": false} {
		got, err := e.PromptFits(prompt, nil, 0)
		require.NoError(t, err)
		require.Equal(t, fits, got, prompt)
		ids, err := e.EncodePrompt(prompt, nil, 0)
		require.NoError(t, err)
		require.Equal(t, fits, text(ids) == prompt, "PromptFits agrees with EncodePrompt on %q", prompt)
	}
	fits, err := e.PromptFits("ab", Scores{"helpfulness": 3}, 1) // "#3 ab": 5 tokens
	require.NoError(t, err)
	require.False(t, fits)
	_, err = e.PromptFits("ab", nil, 2)
	require.ErrorContains(t, err, "out of range")
}

func TestTruncationFallsBackToTokensWhenTheWrapperIsTooLong(t *testing.T) {
	e := byteEncoder(t, EncodeConfig{
		MaxLength: 10, MaxPromptLength: 5, AddBOS: true, BOS: ByteBOS,
		Templates: Templates{{Name: "helpfulness", Template: "a long header {score}: {prompt}"}},
	})
	p := Pair{Prompt: "question", Chosen: Response{"0123456789", Scores{"helpfulness": 1}}, Rejected: Response{"r", Scores{"helpfulness": 0}}}
	ex, err := e.Encode(&p)
	require.NoError(t, err)
	require.Equal(t, "<bos>"+" 1: "+"01234", text(ex.Seqs[0][0].Tokens), "the BOS stays first; the prompt is cut from the left")
}

// bosTok behaves like tokenizers that add a BOS to every Encode and read "<s>"/"</s>"
// in text as the special tokens: the source of duplicated BOS/EOS.
type bosTok struct{}

const (
	bosID = 1000
	eosID = 1001
)

func (bosTok) Encode(s string) []int {
	ids := []int{bosID}
	for len(s) > 0 {
		switch {
		case strings.HasPrefix(s, "<s>"):
			ids, s = append(ids, bosID), s[3:]
		case strings.HasPrefix(s, "</s>"):
			ids, s = append(ids, eosID), s[4:]
		default:
			ids, s = append(ids, int(s[0])), s[1:]
		}
	}
	return ids
}

func TestNoDuplicatedBOSOrEOS(t *testing.T) {
	e, err := NewEncoder(EncodeConfig{
		Tokenizer: bosTok{}, EOS: eosID, AddBOS: true, BOS: bosID, MaxLength: 64,
		Templates: Templates{{Name: "general", Template: "{prompt}"}},
		Chat:      func(p string) (string, error) { return "<s>[INST] " + p + " [/INST]", nil },
	})
	require.NoError(t, err)
	p := Pair{Prompt: "hi", Chosen: Response{"yo</s>", nil}, Rejected: Response{"no", nil}}
	ex, err := e.Encode(&p)
	require.NoError(t, err)
	seq := ex.Seqs[0][0]
	want := []int32{bosID}
	for _, c := range "[INST] hi [/INST]yo" {
		want = append(want, int32(c))
	}
	want = append(want, eosID)
	require.Equal(t, want, seq.Tokens)
	require.Equal(t, int32(eosID), ex.Seqs[0][1].Tokens[len(ex.Seqs[0][1].Tokens)-1])

	ids, err := e.EncodePrompt("hi", nil, 0)
	require.NoError(t, err)
	require.Equal(t, want[:seq.PromptLen], ids)
	_, err = e.EncodePrompt("hi", nil, 1)
	require.ErrorContains(t, err, "template index 1 out of range")
}

// otherMessage stands for package tokenizer's Message: another package's plain
// struct{Role, Content string} still fits UserTurn.
type otherMessage struct{ Role, Content string }

func TestUserTurnTakesAnyPlainMessageType(t *testing.T) {
	apply := func(ms []otherMessage, gen bool) (string, error) {
		require.True(t, gen)
		return "<|im_start|>" + ms[0].Role + "\n" + ms[0].Content + "<|im_end|>\n<|im_start|>assistant\n", nil
	}
	s, err := UserTurn(apply)("hi")
	require.NoError(t, err)
	require.Equal(t, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", s)
}

func TestEncodeAllNamesTheBadPair(t *testing.T) {
	e := byteEncoder(t, EncodeConfig{MaxLength: 64, MaxPromptLength: 32})
	good := Pair{Prompt: "q", Chosen: Response{Text: "a", Scores: Scores{"helpfulness": 3}}, Rejected: Response{Text: "b"}}
	exs, err := e.EncodeAll([]Pair{good, good})
	require.NoError(t, err)
	require.Len(t, exs, 2)
	one, err := e.Encode(&good)
	require.NoError(t, err)
	require.Equal(t, one, exs[1])
	bad := good
	bad.Chosen.Scores = nil // the helpfulness template needs the chosen answer's score
	_, err = e.EncodeAll([]Pair{good, bad})
	require.ErrorContains(t, err, "pair 1: ")
}
