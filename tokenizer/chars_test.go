package tokenizer

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

// The BMP table must agree with the unicode tables it caches.
func TestBMPTableMatchesUnicode(t *testing.T) {
	for r := rune(0); r < 0x10000; r++ {
		if utf8.ValidRune(r) {
			_, _, c := runeAt(string(r), 0)
			require.Equal(t, slowClass(r), c, "%U", r)
		}
	}
}

// Pairs of NFC-inert runes must be in NFC, or skipping the normalizer for
// them would be wrong. Every inert rune is paired with a sample of others.
func TestNFCInertPairsAreNormal(t *testing.T) {
	var inert []rune
	for r := rune(0x80); r < 0x10000; r++ {
		if utf8.ValidRune(r) && bmpInfo()[r]&nfcInertBit != 0 {
			inert = append(inert, r)
		}
	}
	require.Greater(t, len(inert), 40000)
	for i, a := range inert {
		for _, b := range []rune{inert[(i*7919)%len(inert)], inert[(i*104729+1)%len(inert)], 'a', 'A'} {
			s := string(a) + string(b)
			require.True(t, isNFCInert(s))
			require.True(t, norm.NFC.IsNormalString(s), "%U %U", a, b)
		}
	}
	require.False(t, isNFCInert("e\u0301"))
}

func TestEmojiPlaneIsNFCInert(t *testing.T) {
	for r := rune(0x1F000); r <= 0x1FAFF; r++ {
		require.True(t, isEmojiPlane(r))
		require.True(t, slowNFCInert(r), "%U", r)
	}
	require.True(t, isNFCInert("👨‍👩‍👧‍👦👍🏽🇫🇷"))
}
