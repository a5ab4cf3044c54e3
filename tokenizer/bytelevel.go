package tokenizer

// GPT-2's byte-level alphabet maps every byte to a printable rune so that BPE
// vocabularies can be stored as JSON strings: printable Latin-1 bytes map to
// themselves and the other 68 bytes to U+0100 onwards, in byte order.
var byteToRune, runeToByte = buildByteLevelAlphabet()

func buildByteLevelAlphabet() (fwd [256]rune, back map[rune]byte) {
	printable := func(b int) bool {
		return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
	}
	back = make(map[rune]byte, 256)
	next := rune(256)
	for b := 0; b < 256; b++ {
		if printable(b) {
			fwd[b] = rune(b)
		} else {
			fwd[b] = next
			next++
		}
		back[fwd[b]] = byte(b)
	}
	return fwd, back
}

// byteLevelDecode turns a vocabulary entry such as "Ġthe" back into the raw
// bytes it stands for (" the"). ok is false when the string uses a rune
// outside the alphabet, which means it is not a byte-level token.
func byteLevelDecode(s string) (raw string, ok bool) {
	buf := make([]byte, 0, len(s))
	for _, r := range s {
		b, found := runeToByte[r]
		if !found {
			return "", false
		}
		buf = append(buf, b)
	}
	return string(buf), true
}

// byteLevelEncode is the inverse of byteLevelDecode.
func byteLevelEncode(raw string) string {
	runes := make([]rune, len(raw))
	for i := 0; i < len(raw); i++ {
		runes[i] = byteToRune[raw[i]]
	}
	return string(runes)
}
