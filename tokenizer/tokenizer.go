package tokenizer

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Tokenizer encodes text to token ids and back. It is safe for concurrent use.
type Tokenizer struct {
	model  *bpeModel
	added  *addedMatcher
	addeds []AddedToken
	piece  pieceFunc
	nfc    bool

	idBytes []string // raw bytes of each id, "" where an id is unused
	isAdded []bool   // ids of added tokens, which Decode writes verbatim

	eos, pad, bos int // -1 when the files name none
	chat          chatTemplate
}

// Encode returns the ids for text. Added and special tokens written in the
// text (such as "<|im_start|>") become their single ids; no BOS/EOS is added.
func (t *Tokenizer) Encode(text string) []int {
	ids := make([]int, 0, len(text)/3+1)
	var segBuf [8]segment
	for _, sg := range t.added.split(text, segBuf[:0]) {
		if sg.tok != nil {
			ids = append(ids, sg.tok.ID)
			continue
		}
		s := sg.text
		if t.nfc && !isNFCInert(s) {
			s = norm.NFC.String(s)
		}
		ids = t.model.encodePieces(s, t.piece, ids)
	}
	return ids
}

// DecodeBytes returns the raw bytes the ids stand for. A single id may end in
// the middle of a UTF-8 sequence, so streaming callers should use this and
// wait for complete runes. Unknown ids are skipped.
func (t *Tokenizer) DecodeBytes(ids []int) []byte {
	var b []byte
	for _, id := range ids {
		if id >= 0 && id < len(t.idBytes) {
			b = append(b, t.idBytes[id]...)
		}
	}
	return b
}

// Decode returns the text for ids, with invalid UTF-8 (from an incomplete
// sequence of ids) replaced by U+FFFD as Hugging Face's decoder does.
// Special tokens are kept, so Decode(Encode(s)) == s for valid UTF-8 s.
func (t *Tokenizer) Decode(ids []int) string {
	return strings.ToValidUTF8(string(t.DecodeBytes(ids)), "\uFFFD")
}

// TokenID returns the id of a token written as in tokenizer.json: added
// tokens verbatim ("<|im_end|>"), vocabulary entries in byte-level form
// ("Ġthe" for " the").
func (t *Tokenizer) TokenID(s string) (int, bool) {
	if a, ok := t.added.byText[s]; ok {
		return a.ID, true
	}
	raw, ok := byteLevelDecode(s)
	if !ok {
		return 0, false
	}
	id, ok := t.model.vocab[raw]
	return int(id), ok
}

// Token is the inverse of TokenID.
func (t *Tokenizer) Token(id int) (string, bool) {
	if id < 0 || id >= len(t.idBytes) {
		return "", false
	}
	if t.isAdded[id] {
		return t.idBytes[id], true
	}
	if t.idBytes[id] == "" {
		return "", false
	}
	return byteLevelEncode(t.idBytes[id]), true
}

// VocabSize is one more than the largest id the tokenizer can produce
// (vocabulary plus added tokens). Model embedding tables are often larger
// (Qwen2.5 pads 151,665 to 151,936).
func (t *Tokenizer) VocabSize() int { return len(t.idBytes) }

// EOS is the end-of-sequence id from tokenizer_config.json ("<|im_end|>" for
// Qwen chat models, "<|endoftext|>" for GPT-2).
func (t *Tokenizer) EOS() (int, bool) { return t.eos, t.eos >= 0 }

// Pad is the padding id from tokenizer_config.json; GPT-2 has none, and
// trainers usually pad with EOS and mask it out of the loss.
func (t *Tokenizer) Pad() (int, bool) { return t.pad, t.pad >= 0 }

// BOS is the beginning-of-sequence id, if the files name one (Qwen does not).
func (t *Tokenizer) BOS() (int, bool) { return t.bos, t.bos >= 0 }

// AddedTokens lists the tokens matched verbatim in text.
func (t *Tokenizer) AddedTokens() []AddedToken {
	return append([]AddedToken(nil), t.addeds...)
}

// IsSpecial reports whether id is a special (control) token, which callers
// usually drop when showing generated text.
func (t *Tokenizer) IsSpecial(id int) bool {
	if id < 0 || id >= len(t.isAdded) || !t.isAdded[id] {
		return false
	}
	a, ok := t.added.byText[t.idBytes[id]]
	return ok && a.Special
}
