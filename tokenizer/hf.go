package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// hfFile is the part of tokenizer.json this package reads.
type hfFile struct {
	AddedTokens []struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
		Special    bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer   *hfComponent `json:"normalizer"`
	PreTokenizer *hfComponent `json:"pre_tokenizer"`
	Decoder      *hfComponent `json:"decoder"`
	Model        struct {
		Type                    string          `json:"type"`
		Vocab                   map[string]int  `json:"vocab"`
		Merges                  json.RawMessage `json:"merges"`
		ByteFallback            bool            `json:"byte_fallback"`
		ContinuingSubwordPrefix string          `json:"continuing_subword_prefix"`
		EndOfWordSuffix         string          `json:"end_of_word_suffix"`
		Dropout                 *float64        `json:"dropout"`
		IgnoreMerges            bool            `json:"ignore_merges"`
	} `json:"model"`
}

// hfComponent covers normalizers, pre-tokenizers and decoders.
type hfComponent struct {
	Type           string         `json:"type"`
	Normalizers    []*hfComponent `json:"normalizers"`
	PreTokenizers  []*hfComponent `json:"pretokenizers"`
	Decoders       []*hfComponent `json:"decoders"`
	Pattern        struct{ Regex, String *string }
	Behavior       string `json:"behavior"`
	Invert         bool   `json:"invert"`
	AddPrefixSpace bool   `json:"add_prefix_space"`
	UseRegex       *bool  `json:"use_regex"`
}

// LoadHF reads a Hugging Face tokenizer.json holding a byte-level BPE model.
// Anything this package would get wrong (another model type, an unknown split
// regex, other normalizers) is refused with an error naming the file.
func LoadHF(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var f hfFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("tokenizer: parse %s: %w", path, err)
	}
	s, err := f.spec()
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	t, err := build(s)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	return t, nil
}

func (f *hfFile) spec() (spec, error) {
	m := f.Model
	switch {
	case m.Type != "BPE":
		return spec{}, fmt.Errorf("model type %q is not supported (only BPE)", m.Type)
	case m.ByteFallback || m.ContinuingSubwordPrefix != "" || m.EndOfWordSuffix != "":
		return spec{}, fmt.Errorf("BPE options byte_fallback/continuing_subword_prefix/end_of_word_suffix are not supported")
	case m.Dropout != nil && *m.Dropout != 0:
		return spec{}, fmt.Errorf("BPE dropout is not supported")
	}
	merges, err := parseMerges(m.Merges)
	if err != nil {
		return spec{}, err
	}
	nfc, err := parseNormalizer(f.Normalizer)
	if err != nil {
		return spec{}, err
	}
	piece, err := parsePreTokenizer(f.PreTokenizer)
	if err != nil {
		return spec{}, err
	}
	if d := f.Decoder; d != nil && d.Type != "ByteLevel" {
		return spec{}, fmt.Errorf("decoder %q is not supported (only ByteLevel)", d.Type)
	}
	added := make([]AddedToken, 0, len(f.AddedTokens))
	for _, a := range f.AddedTokens {
		if a.SingleWord {
			return spec{}, fmt.Errorf("added token %q: single_word is not supported", a.Content)
		}
		added = append(added, AddedToken{ID: a.ID, Content: a.Content, Special: a.Special, LStrip: a.LStrip, RStrip: a.RStrip})
	}
	return spec{vocab: m.Vocab, merges: merges, added: added, piece: piece, nfc: nfc, ignoreMerges: m.IgnoreMerges, vocabField: "model.vocab"}, nil
}

// parseMerges accepts both formats: "a b" strings (older files) and
// ["a", "b"] pairs (tokenizers >= 0.20, which allows spaces in tokens).
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	var pairs [][2]string
	if err := json.Unmarshal(raw, &pairs); err == nil {
		return pairs, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return nil, fmt.Errorf("merges are neither \"a b\" strings nor [a, b] pairs: %w", err)
	}
	pairs = make([][2]string, len(lines))
	for i, l := range lines {
		a, b, ok := strings.Cut(l, " ")
		if !ok || strings.Contains(b, " ") {
			return nil, fmt.Errorf("merge %d %q is not two tokens separated by one space", i, l)
		}
		pairs[i] = [2]string{a, b}
	}
	return pairs, nil
}

// parseNormalizer accepts no normalizer or NFC (alone or in a Sequence).
func parseNormalizer(n *hfComponent) (nfc bool, err error) {
	if n == nil {
		return false, nil
	}
	switch n.Type {
	case "NFC":
		return true, nil
	case "Sequence":
		for _, sub := range n.Normalizers {
			subNFC, err := parseNormalizer(sub)
			if err != nil {
				return false, err
			}
			nfc = nfc || subNFC
		}
		return nfc, nil
	}
	return false, fmt.Errorf("normalizer %q is not supported (only NFC)", n.Type)
}

// parsePreTokenizer accepts the two byte-level layouts in use: a Split with a
// known regex followed by ByteLevel(use_regex=false) (Qwen2, Llama 3), or a
// lone ByteLevel with its built-in GPT-2 regex (GPT-2, RoBERTa-style files).
func parsePreTokenizer(p *hfComponent) (pieceFunc, error) {
	if p == nil {
		return nil, fmt.Errorf("a pre_tokenizer is required")
	}
	switch p.Type {
	case "ByteLevel":
		if p.AddPrefixSpace {
			return nil, fmt.Errorf("ByteLevel add_prefix_space is not supported")
		}
		if p.UseRegex != nil && !*p.UseRegex {
			return nil, fmt.Errorf("ByteLevel without a split regex is not supported")
		}
		return gpt2Piece, nil
	case "Sequence":
		if len(p.PreTokenizers) == 2 && p.PreTokenizers[0].Type == "Split" && p.PreTokenizers[1].Type == "ByteLevel" {
			split, bl := p.PreTokenizers[0], p.PreTokenizers[1]
			if bl.AddPrefixSpace || bl.UseRegex == nil || *bl.UseRegex {
				return nil, fmt.Errorf("a Split followed by ByteLevel must have use_regex=false and add_prefix_space=false")
			}
			if split.Behavior != "Isolated" || split.Invert || split.Pattern.Regex == nil {
				return nil, fmt.Errorf("only an Isolated, non-inverted regex Split is supported")
			}
			if f, ok := pieceFuncForPattern(*split.Pattern.Regex); ok {
				return f, nil
			}
			return nil, fmt.Errorf("split regex %q is not supported (known: Qwen2, Llama 3, GPT-2)", *split.Pattern.Regex)
		}
		if len(p.PreTokenizers) == 1 {
			return parsePreTokenizer(p.PreTokenizers[0])
		}
	}
	return nil, fmt.Errorf("pre_tokenizer %q in this layout is not supported", p.Type)
}
