package tokenizer

import "sync"

// merge is one BPE rule: the pair it applies to is the map key.
type merge struct {
	rank int32 // position in the merges list; lower merges first
	id   int32 // token the pair becomes
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// bpeModel holds the vocabulary in raw-byte form (byte-level strings decoded)
// so that pre-tokens can be looked up without re-encoding them.
type bpeModel struct {
	vocab        map[string]int32 // raw bytes -> id
	byteID       [256]int32       // id of each single-byte token
	merges       map[uint64]merge
	ignoreMerges bool // Llama 3 style: a pre-token found whole in vocab is one token

	cache wordCache
}

// encodePieces splits s into pre-tokens and appends their ids to out. Hits
// in the word cache are served under one read lock for the whole text, since
// taking the lock per word cost more than the lookups.
func (m *bpeModel) encodePieces(s string, next pieceFunc, out []int) []int {
	c := &m.cache
	c.mu.RLock()
	for i := 0; i < len(s); {
		n := next(s, i)
		piece := s[i : i+n]
		i += n
		ids, ok := c.m[piece]
		if !ok {
			c.mu.RUnlock()
			ids = m.word(piece)
			c.mu.RLock()
		}
		for _, id := range ids {
			out = append(out, int(id))
		}
	}
	c.mu.RUnlock()
	return out
}

// word computes the ids of one pre-token that missed the cache.
func (m *bpeModel) word(piece string) []int32 {
	if m.ignoreMerges {
		if id, ok := m.vocab[piece]; ok {
			return []int32{id}
		}
	}
	ids := m.merge(piece)
	m.cache.put(piece, ids)
	return ids
}

// wordCache remembers the ids of pre-tokens already seen; natural text
// repeats the same words, so most pre-tokens skip the merge loop. It is
// cleared when full rather than evicting one by one, which keeps it simple
// and bounded for long training runs.
type wordCache struct {
	mu sync.RWMutex
	m  map[string][]int32
}

const wordCacheLimit = 1 << 17

func (c *wordCache) put(piece string, ids []int32) {
	// Long pieces (whitespace runs, unbroken CJK) rarely repeat.
	if len(piece) > 64 {
		return
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= wordCacheLimit {
		c.m = make(map[string][]int32)
	}
	// Clone so the cache does not pin the caller's (possibly huge) text.
	c.m[string([]byte(piece))] = ids
	c.mu.Unlock()
}

// reset empties the cache (benchmarks use it to measure cold encoding).
func (c *wordCache) reset() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}
