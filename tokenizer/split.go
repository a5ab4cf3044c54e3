package tokenizer

import "strings"

// A pieceFunc returns the length in bytes of the pre-token that starts at
// s[i:] (always > 0 for i < len(s)). Each one is a hand-written equivalent of
// a split regex, because Go's regexp cannot express the \s+(?!\S) lookahead.
type pieceFunc func(s string, i int) int

// splitPieces cuts s into consecutive pre-tokens, appending them to out.
func splitPieces(s string, next pieceFunc, out []string) []string {
	for i := 0; i < len(s); {
		n := next(s, i)
		out = append(out, s[i:i+n])
		i += n
	}
	return out
}

// Split patterns we know how to run, as they appear in tokenizer.json.
const (
	// Qwen2/Qwen2.5/Qwen3: digits are split one by one.
	qwen2Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// Llama 3 and others: the same but with up to three digits per piece.
	llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// GPT-2, used by the ByteLevel pre-tokenizer when use_regex is true.
	gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
)

// pieceFuncForPattern maps a known split regex to its hand-written splitter.
func pieceFuncForPattern(pattern string) (pieceFunc, bool) {
	switch pattern {
	case qwen2Pattern:
		return qwen2Pieces(1), true
	case llama3Pattern:
		return qwen2Pieces(3), true
	case gpt2Pattern:
		return gpt2Piece, true
	}
	return nil, false
}

// contraction returns the length of 's 't 're 've 'm 'll 'd after the
// apostrophe at s[i-1], or 0. With foldCase it matches any case, including
// U+017F (long s), which Unicode case folding (and so Oniguruma's (?i))
// treats as an 's'.
func contraction(s string, i int, foldCase bool) int {
	rest := s[i:]
	if !foldCase {
		for _, c := range [...]string{"s", "t", "re", "ve", "m", "ll", "d"} {
			if strings.HasPrefix(rest, c) {
				return len(c)
			}
		}
		return 0
	}
	if strings.HasPrefix(rest, "ſ") {
		return len("ſ")
	}
	lower := func(k int) byte {
		if k >= len(rest) {
			return 0
		}
		return rest[k] | 0x20 // ASCII letters only; other bytes never match below
	}
	switch lower(0) {
	case 's', 't', 'm', 'd':
		return 1
	case 'r', 'v':
		if lower(1) == 'e' {
			return 2
		}
	case 'l':
		if lower(1) == 'l' {
			return 2
		}
	}
	return 0
}

// qwen2Pieces implements qwen2Pattern (maxDigits 1) and llama3Pattern
// (maxDigits 3). The alternatives are tried in the regex's order, and the
// backtracking of each one is spelled out.
func qwen2Pieces(maxDigits int) pieceFunc {
	return func(s string, i int) int {
		r, w, c := runeAt(s, i)
		// (?i:'s|'t|'re|'ve|'m|'ll|'d)
		if r == '\'' {
			if n := contraction(s, i+1, true); n > 0 {
				return 1 + n
			}
		}
		// [^\r\n\p{L}\p{N}]?\p{L}+
		if c == classLetter {
			return runEnd(s, i, classLetter) - i
		}
		if c != classNumber && r != '\r' && r != '\n' {
			if next, ok := classAt(s, i+w); ok && next == classLetter {
				return runEnd(s, i+w, classLetter) - i
			}
		}
		// \p{N} or \p{N}{1,3}
		if c == classNumber {
			j := i + w
			for k := 1; k < maxDigits && j < len(s); k++ {
				_, w2, c2 := runeAt(s, j)
				if c2 != classNumber {
					break
				}
				j += w2
			}
			return j - i
		}
		// ' ?[^\s\p{L}\p{N}]+[\r\n]*'
		start := i
		if r == ' ' {
			start = i + 1
		}
		if next, ok := classAt(s, start); ok && next == classOther {
			j := runEnd(s, start, classOther)
			for j < len(s) && (s[j] == '\r' || s[j] == '\n') {
				j++
			}
			return j - i
		}
		// Only whitespace is left here: the rune at i is \s.
		return whitespacePiece(s, i, true)
	}
}

// whitespacePiece handles the whitespace alternatives at s[i], which is \s:
// with newlines, \s*[\r\n]+ (up to the last CR or LF of the run); then
// \s+(?!\S) (the whole run at the end of the text, else all but its last
// rune); then \s+ (a single whitespace rune before a non-space).
func whitespacePiece(s string, i int, newlines bool) int {
	end, lastStart, lastNL, runes := i, i, -1, 0
	for end < len(s) {
		r, w, c := runeAt(s, end)
		if c != classSpace {
			break
		}
		if r == '\r' || r == '\n' {
			lastNL = end
		}
		lastStart = end
		end += w
		runes++
	}
	if newlines && lastNL >= 0 {
		return lastNL + 1 - i
	}
	if end == len(s) || runes == 1 {
		return end - i
	}
	return lastStart - i
}

// gpt2Piece implements gpt2Pattern.
func gpt2Piece(s string, i int) int {
	r, _, c := runeAt(s, i)
	if r == '\'' {
		if n := contraction(s, i+1, false); n > 0 {
			return 1 + n
		}
	}
	// ' ?\p{L}+', ' ?\p{N}+' and ' ?[^\s\p{L}\p{N}]+' share the optional space.
	start, cls := i, c
	if r == ' ' {
		if next, ok := classAt(s, i+1); ok && next != classSpace {
			start, cls = i+1, next
		}
	}
	if cls != classSpace {
		return runEnd(s, start, cls) - i
	}
	return whitespacePiece(s, i, false)
}
