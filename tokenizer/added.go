package tokenizer

import (
	"sort"
	"strings"
	"unicode"
)

// AddedToken is a token matched verbatim in the text before any splitting,
// such as <|im_start|> or <|endoftext|>.
type AddedToken struct {
	ID      int
	Content string
	Special bool // special tokens are control tokens (EOS, ChatML markers)
	LStrip  bool // swallow whitespace on the left
	RStrip  bool // swallow whitespace on the right
}

// addedMatcher finds added tokens leftmost-longest, like the Aho-Corasick
// matcher of Hugging Face tokenizers. Added vocabularies are small, so a list
// of candidates per first byte, longest first, is enough.
type addedMatcher struct {
	byFirst [256][]*AddedToken
	byText  map[string]*AddedToken
}

func newAddedMatcher(tokens []AddedToken) *addedMatcher {
	m := &addedMatcher{byText: make(map[string]*AddedToken, len(tokens))}
	for i := range tokens {
		t := &tokens[i]
		if t.Content == "" {
			continue
		}
		m.byText[t.Content] = t
		m.byFirst[t.Content[0]] = append(m.byFirst[t.Content[0]], t)
	}
	for b := range m.byFirst {
		sort.SliceStable(m.byFirst[b], func(i, j int) bool {
			return len(m.byFirst[b][i].Content) > len(m.byFirst[b][j].Content)
		})
	}
	return m
}

// segment is a stretch of ordinary text (tok == nil) or one added token.
type segment struct {
	text string
	tok  *AddedToken
}

// split cuts text into ordinary stretches and added tokens, applying the
// tokens' lstrip/rstrip to the neighbouring stretches.
func (m *addedMatcher) split(text string, out []segment) []segment {
	start := 0
	for i := 0; i < len(text); i++ {
		cands := m.byFirst[text[i]]
		if len(cands) == 0 {
			continue
		}
		for _, t := range cands {
			if !strings.HasPrefix(text[i:], t.Content) {
				continue
			}
			before := text[start:i]
			if t.LStrip {
				before = strings.TrimRightFunc(before, unicode.IsSpace)
			}
			if before != "" {
				out = append(out, segment{text: before})
			}
			out = append(out, segment{tok: t})
			i += len(t.Content)
			if t.RStrip {
				i += len(text[i:]) - len(strings.TrimLeftFunc(text[i:], unicode.IsSpace))
			}
			start = i
			i-- // the loop's i++ brings us back to start
			break
		}
	}
	if start < len(text) {
		out = append(out, segment{text: text[start:]})
	}
	return out
}
