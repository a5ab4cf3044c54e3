package tokenizer

import "math"

// merge applies the BPE rules to the bytes of piece: repeatedly the pair with
// the lowest rank (the leftmost among equals) is merged, as Hugging Face does.
// Short pre-tokens, nearly all of natural text, are merged by rescanning their
// few pair ranks, which measured no slower than the heap there; longer ones by
// the heap, whose cost grows as n log n instead of n².
func (m *bpeModel) merge(piece string) []int32 {
	if len(piece) <= scanLimit {
		return m.mergeScan(piece)
	}
	ids, _ := m.mergeCounted(piece)
	return ids
}

// scanLimit is the longest pre-token merged by rescanning (BenchmarkMergeShort).
const scanLimit = 16

// mergeScan finds the lowest-ranked pair by a scan of a slice of ranks after
// every merge, looking up again only the two pairs next to the merge.
func (m *bpeModel) mergeScan(piece string) []int32 {
	syms := make([]int32, len(piece))
	for i := 0; i < len(piece); i++ {
		syms[i] = m.byteID[piece[i]]
	}
	if len(syms) < 2 {
		return syms
	}
	const none = math.MaxInt32
	ranks := make([]int32, len(syms)-1) // ranks[i] is for (syms[i], syms[i+1])
	rankOf := func(i int) int32 {
		if mg, ok := m.merges[pairKey(syms[i], syms[i+1])]; ok {
			return mg.rank
		}
		return none
	}
	for i := range ranks {
		ranks[i] = rankOf(i)
	}
	for len(syms) > 1 {
		best := 0
		for i := 1; i < len(ranks); i++ {
			if ranks[i] < ranks[best] {
				best = i
			}
		}
		if ranks[best] == none {
			break
		}
		syms[best] = m.merges[pairKey(syms[best], syms[best+1])].id
		syms = append(syms[:best+1], syms[best+2:]...)
		ranks = append(ranks[:best], ranks[best+1:]...)
		if best > 0 {
			ranks[best-1] = rankOf(best - 1)
		}
		if best < len(ranks) {
			ranks[best] = rankOf(best)
		}
	}
	return syms
}

// mergeCounted is merge that also returns how many heap steps it took (pushes,
// pops and sift moves), so a test can check the cost grows as n log n.
//
// A pre-token can be megabytes long (an unbroken line of letters), so the
// merge loop must not rescan the pairs after every merge. As in the Rust
// tokenizers, the symbols form a linked list over the original byte positions
// and the candidate pairs sit in a min-heap keyed by (rank, position). A merge
// changes only the pairs next to it: new ones are pushed, and stale entries
// are recognised when popped (their left symbol is gone, or the pair at that
// position now has another rank) instead of being removed.
func (m *bpeModel) mergeCounted(piece string) ([]int32, int) {
	n := len(piece)
	if n < 2 {
		if n == 1 {
			return []int32{m.byteID[piece[0]]}, 0
		}
		return []int32{}, 0
	}
	// Short pre-tokens keep their buffers on the stack.
	var symBuf [stackPiece]mergeSymbol
	var keyBuf [2 * stackPiece]uint64
	syms, keys := symBuf[:0], keyBuf[:0]
	if n > stackPiece {
		syms, keys = make([]mergeSymbol, 0, n), make([]uint64, 0, n-1)
	}
	syms = syms[:n]
	for i := 0; i < n; i++ {
		syms[i] = mergeSymbol{id: m.byteID[piece[i]], prev: int32(i - 1), next: int32(i + 1), rank: noPair}
	}
	syms[n-1].next = -1

	steps := 0
	// pairAt records the merge of the pair starting at pos, so that a popped
	// entry is checked against it without another map lookup.
	pairAt := func(pos int32) bool {
		s := &syms[pos]
		s.rank = noPair
		if s.next < 0 {
			return false
		}
		mg, ok := m.merges[pairKey(s.id, syms[s.next].id)]
		if ok {
			s.rank, s.merged = mg.rank, mg.id
		}
		return ok
	}
	for i := int32(0); i < int32(n-1); i++ {
		if pairAt(i) {
			keys = append(keys, heapKey(syms[i].rank, i))
		}
	}
	heapInit(keys, &steps)

	for len(keys) > 0 {
		var top uint64
		keys, top = heapPop(keys, &steps)
		rank, pos := splitHeapKey(top)
		left := &syms[pos]
		if left.rank != rank {
			continue // stale: the pair at pos was merged or has changed since
		}
		right := &syms[left.next]
		left.id = left.merged
		right.rank = noPair // gone: merged into left
		left.next = right.next
		if left.next >= 0 {
			syms[left.next].prev = pos
		}
		if left.prev >= 0 && pairAt(left.prev) {
			keys = heapPush(keys, heapKey(syms[left.prev].rank, left.prev), &steps)
		}
		if pairAt(pos) {
			keys = heapPush(keys, heapKey(left.rank, pos), &steps)
		}
	}

	count := 0
	for i := int32(0); i >= 0; i = syms[i].next {
		count++
	}
	out := make([]int32, 0, count)
	for i := int32(0); i >= 0; i = syms[i].next {
		out = append(out, syms[i].id)
	}
	return out, steps
}

// stackPiece is the longest pre-token merged without heap allocations.
const stackPiece = 32

// mergeSymbol is one node of the list of symbols, indexed by the position of
// its first byte. rank and merged describe the pair it starts with its right
// neighbour; rank is noPair when no merge applies or the symbol is gone (merged
// into its left neighbour).
type mergeSymbol struct {
	id         int32
	prev, next int32 // -1 at the ends
	rank       int32
	merged     int32
}

const noPair = -1

// heapKey orders pairs by rank, then by position (leftmost first).
func heapKey(rank, pos int32) uint64 { return uint64(uint32(rank))<<32 | uint64(uint32(pos)) }

func splitHeapKey(k uint64) (rank, pos int32) { return int32(k >> 32), int32(uint32(k)) }

// The heap of pair keys is a plain binary min-heap, written out rather than
// through container/heap to avoid an interface call per comparison. Its
// functions take and return the slice instead of storing it in a struct, so
// that a short pre-token's keys can stay on the stack. steps counts the work
// done, for the complexity test.

func heapInit(keys []uint64, steps *int) {
	for i := len(keys)/2 - 1; i >= 0; i-- {
		heapDown(keys, i, steps)
	}
}

func heapPush(keys []uint64, k uint64, steps *int) []uint64 {
	*steps++
	keys = append(keys, k)
	i := len(keys) - 1
	for i > 0 {
		p := (i - 1) / 2
		if keys[p] <= keys[i] {
			break
		}
		keys[p], keys[i] = keys[i], keys[p]
		i = p
		*steps++
	}
	return keys
}

func heapPop(keys []uint64, steps *int) ([]uint64, uint64) {
	*steps++
	top := keys[0]
	last := len(keys) - 1
	keys[0] = keys[last]
	keys = keys[:last]
	heapDown(keys, 0, steps)
	return keys, top
}

func heapDown(keys []uint64, i int, steps *int) {
	n := len(keys)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && keys[r] < keys[l] {
			c = r
		}
		if keys[i] <= keys[c] {
			return
		}
		keys[i], keys[c] = keys[c], keys[i]
		i = c
		*steps++
	}
}
