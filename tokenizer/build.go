package tokenizer

import (
	"fmt"
)

// spec is what every loader collects before the tokenizer is built.
type spec struct {
	vocab        map[string]int // byte-level form, as in the files
	merges       [][2]string    // byte-level form, in rank order
	added        []AddedToken
	piece        pieceFunc
	nfc          bool
	ignoreMerges bool
	vocabField   string // how error messages name the vocabulary ("model.vocab")
}

// idLimit bounds the ids a file may use. Tables indexed by id are allocated
// up to the largest one, so an id like 1e12 (a typo, or a hostile file)
// would exhaust memory; real files number their tokens densely, and the
// slack allows for unused ids between the vocabulary and added tokens.
func (s spec) idLimit() int { return 2*(len(s.vocab)+len(s.added)) + 1024 }

func (s spec) checkID(field, tok string, id int) error {
	if limit := s.idLimit(); id < 0 || id >= limit {
		return fmt.Errorf("%s: token %q has id %d, outside 0..%d (the file has %d tokens; ids are bounded by twice that plus 1024)",
			field, tok, id, limit-1, len(s.vocab)+len(s.added))
	}
	return nil
}

func build(s spec) (*Tokenizer, error) {
	m := &bpeModel{
		vocab:        make(map[string]int32, len(s.vocab)),
		merges:       make(map[uint64]merge, len(s.merges)),
		ignoreMerges: s.ignoreMerges,
	}
	if s.vocabField == "" {
		s.vocabField = "vocabulary"
	}
	size := 0
	for tok, id := range s.vocab {
		raw, ok := byteLevelDecode(tok)
		if !ok {
			return nil, fmt.Errorf("%s: token %q (id %d) is not in the byte-level alphabet", s.vocabField, tok, id)
		}
		if err := s.checkID(s.vocabField, tok, id); err != nil {
			return nil, err
		}
		m.vocab[raw] = int32(id)
		size = max(size, id+1)
	}
	for _, a := range s.added {
		if err := s.checkID("added_tokens", a.Content, a.ID); err != nil {
			return nil, err
		}
		size = max(size, a.ID+1)
	}
	for b := 0; b < 256; b++ {
		id, ok := m.vocab[string([]byte{byte(b)})]
		if !ok {
			return nil, fmt.Errorf("vocabulary lacks the token for byte 0x%02x", b)
		}
		m.byteID[b] = id
	}
	for rank, pr := range s.merges {
		a, okA := s.vocab[pr[0]]
		b, okB := s.vocab[pr[1]]
		c, okC := s.vocab[pr[0]+pr[1]]
		if !okA || !okB || !okC {
			return nil, fmt.Errorf("merge %d (%q %q) uses a token missing from the vocabulary", rank, pr[0], pr[1])
		}
		// A duplicated pair takes its last rank, as both Hugging Face
		// tokenizers and transformers.js build their maps that way.
		m.merges[pairKey(int32(a), int32(b))] = merge{rank: int32(rank), id: int32(c)}
	}

	t := &Tokenizer{
		model:   m,
		addeds:  s.added,
		piece:   s.piece,
		nfc:     s.nfc,
		idBytes: make([]string, size),
		isAdded: make([]bool, size),
		eos:     -1, pad: -1, bos: -1,
	}
	for raw, id := range m.vocab {
		t.idBytes[id] = raw
	}
	for _, a := range s.added {
		t.idBytes[a.ID] = a.Content
		t.isAdded[a.ID] = true
	}
	t.added = newAddedMatcher(t.addeds)
	return t, nil
}

// tokenIDOrErr resolves a token named by a config file.
func (t *Tokenizer) tokenIDOrErr(name, tok string) (int, error) {
	if tok == "" {
		return -1, nil
	}
	id, ok := t.TokenID(tok)
	if !ok {
		return -1, fmt.Errorf("%s %q is not in the vocabulary", name, tok)
	}
	return id, nil
}
