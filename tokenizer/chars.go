package tokenizer

import (
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// charClass is what the split patterns ask of a rune: \p{L}, \p{N}, \s or
// none of them ("other", e.g. punctuation, symbols, marks, emoji).
type charClass uint8

const (
	classOther charClass = iota
	classLetter
	classNumber
	classSpace
)

// asciiClass avoids the unicode tables for the common case.
var asciiClass = func() (t [utf8.RuneSelf]charClass) {
	for r := rune(0); r < utf8.RuneSelf; r++ {
		t[r] = slowClass(r)
	}
	return t
}()

// bmpInfo caches, for every rune of the Basic Multilingual Plane, its class
// (low two bits) and whether it is nfcInert. Looking a rune up in the unicode
// and norm tables took most of the encoding time on non-Latin text. It is
// built on first use (a few milliseconds, 64 KiB) rather than at init.
var bmpInfo = sync.OnceValue(func() *[0x10000]uint8 {
	var t [0x10000]uint8
	for r := rune(0); r < 0x10000; r++ {
		t[r] = uint8(slowClass(r))
		if slowNFCInert(r) {
			t[r] |= nfcInertBit
		}
	}
	return &t
})

const (
	classMask   = 3
	nfcInertBit = 4
)

// slowNFCInert reports whether r is unchanged by NFC and can neither reorder
// nor compose with the rune before it. A string made only of such runes is
// already in NFC, so normalizing it can be skipped.
func slowNFCInert(r rune) bool {
	if r == utf8.RuneError {
		return false // may stand for invalid bytes, which the norm package handles
	}
	s := string(r)
	p := norm.NFC.PropertiesString(s)
	return norm.NFC.IsNormalString(s) && p.BoundaryBefore() && p.CCC() == 0
}

// isEmojiPlane covers the emoji and pictograph blocks of plane 1, which have
// no canonical decompositions or combining marks (a test checks every rune),
// so emoji-heavy text also skips the normalizer.
func isEmojiPlane(r rune) bool { return r >= 0x1F000 && r <= 0x1FAFF }

// isNFCInert reports whether s is certainly in NFC without running the
// normalizer: true when every rune is nfcInert.
func isNFCInert(s string) bool {
	info := bmpInfo()
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if r >= 0x10000 {
			if !isEmojiPlane(r) {
				return false
			}
		} else if info[r]&nfcInertBit == 0 {
			return false
		}
		i += w
	}
	return true
}

// slowClass follows the Rust/Oniguruma meaning of \s used by Hugging Face
// tokenizers: the Unicode White_Space property. It differs from JavaScript's
// \s on U+0085 (space here) and U+FEFF (not space here).
func slowClass(r rune) charClass {
	switch {
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	case unicode.Is(unicode.White_Space, r):
		return classSpace
	}
	return classOther
}

// runeAt decodes the rune at s[i:] and its class. Invalid UTF-8 decodes as a
// one-byte U+FFFD, which is "other", so malformed input still round-trips.
func runeAt(s string, i int) (rune, int, charClass) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1, asciiClass[c]
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	if r < 0x10000 {
		return r, w, charClass(bmpInfo()[r] & classMask)
	}
	return r, w, slowClass(r)
}

// runEnd returns the end of the run of runes of class c that starts at i.
func runEnd(s string, i int, c charClass) int {
	for i < len(s) {
		_, w, k := runeAt(s, i)
		if k != c {
			break
		}
		i += w
	}
	return i
}

// classAt is the class of the rune at i; ok is false at the end of s.
func classAt(s string, i int) (charClass, bool) {
	if i >= len(s) {
		return 0, false
	}
	_, _, c := runeAt(s, i)
	return c, true
}
