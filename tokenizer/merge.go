package tokenizer

// merge applies the BPE rules to the bytes of piece: repeatedly the pair with
// the lowest rank (the leftmost among equals) is merged, as Hugging Face does.
func (m *bpeModel) merge(piece string) []int32 {
	ids, _ := m.mergeCounted(piece)
	return ids
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
	// Most pre-tokens are short words: their buffers live on the stack.
	var symBuf [stackPiece]mergeSymbol
	var keyBuf [2 * stackPiece]uint64
	syms, keys := symBuf[:0], keyBuf[:0]
	if n > stackPiece {
		syms, keys = make([]mergeSymbol, 0, n), make([]uint64, 0, n-1)
	}
	syms = syms[:n]
	for i := 0; i < n; i++ {
		syms[i] = mergeSymbol{id: m.byteID[piece[i]], prev: int32(i - 1), next: int32(i + 1)}
	}
	syms[n-1].next = -1

	steps := 0
	for i := 0; i < n-1; i++ {
		if mg, ok := m.merges[pairKey(syms[i].id, syms[i+1].id)]; ok {
			keys = append(keys, heapKey(mg.rank, int32(i)))
		}
	}
	heapInit(keys, &steps)

	for len(keys) > 0 {
		var top uint64
		keys, top = heapPop(keys, &steps)
		rank, pos := splitHeapKey(top)
		left := &syms[pos]
		if left.gone || left.next < 0 {
			continue
		}
		right := &syms[left.next]
		mg, ok := m.merges[pairKey(left.id, right.id)]
		if !ok || mg.rank != rank {
			continue // the pair at pos changed since this entry was pushed
		}
		left.id = mg.id
		right.gone = true
		left.next = right.next
		if left.next >= 0 {
			syms[left.next].prev = pos
		}
		if left.prev >= 0 {
			if mg, ok := m.merges[pairKey(syms[left.prev].id, left.id)]; ok {
				keys = heapPush(keys, heapKey(mg.rank, left.prev), &steps)
			}
		}
		if left.next >= 0 {
			if mg, ok := m.merges[pairKey(left.id, syms[left.next].id)]; ok {
				keys = heapPush(keys, heapKey(mg.rank, pos), &steps)
			}
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
// its first byte; a symbol merged into its left neighbour is gone.
type mergeSymbol struct {
	id         int32
	prev, next int32 // -1 at the ends
	gone       bool
}

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
