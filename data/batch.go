package data

import (
	"fmt"
	"math/rand/v2"
	"sort"
)

// BatchConfig says how examples are grouped into batches.
type BatchConfig struct {
	BatchSize int
	// Seed and the epoch number fix the order: the same (Seed, epoch) gives the same batches.
	Seed uint64
	// Window is how many batches' worth of examples are sorted by length together: larger
	// windows waste less padding, smaller ones keep the order more random. 0 means 16.
	Window int
	// DropLast leaves out a last batch smaller than BatchSize.
	DropLast bool
}

// Plan returns the example indices of each batch of one epoch. Examples are shuffled,
// cut into windows of Window*BatchSize, sorted by length inside each window (so a batch
// holds similar lengths and little padding), cut into batches, and the batches shuffled.
// lengths[i] is the length of example i (Example.Len).
func Plan(lengths []int, cfg BatchConfig, epoch int) ([][]int, error) {
	if cfg.BatchSize < 1 {
		return nil, fmt.Errorf("batch size must be >= 1, got %d", cfg.BatchSize)
	}
	window := cfg.Window
	if window == 0 {
		window = 16
	}
	if window < 1 {
		return nil, fmt.Errorf("batch window must be >= 1, got %d", window)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(epoch)))
	perm := rng.Perm(len(lengths))
	var batches [][]int
	span := window * cfg.BatchSize
	for start := 0; start < len(perm); start += span {
		chunk := perm[start:min(start+span, len(perm))]
		sort.SliceStable(chunk, func(i, j int) bool { return lengths[chunk[i]] < lengths[chunk[j]] })
		for b := 0; b < len(chunk); b += cfg.BatchSize {
			batch := chunk[b:min(b+cfg.BatchSize, len(chunk))]
			if len(batch) < cfg.BatchSize && cfg.DropLast {
				continue
			}
			batches = append(batches, append([]int(nil), batch...))
		}
	}
	rng.Shuffle(len(batches), func(i, j int) { batches[i], batches[j] = batches[j], batches[i] })
	return batches, nil
}

// Batch is B pairs as flat row-major int32 arrays of shape [B, K, 2, S] (side 0 chosen,
// 1 rejected), right-padded to S.
type Batch struct {
	B, K, S int
	// Tokens holds the ids, PadID past each sequence's end.
	Tokens []int32
	// ResponseMask is 1 on response tokens (EOS included), 0 on the prompt and padding.
	ResponseMask []int32
	// AttentionMask is 1 on real tokens, 0 on padding.
	AttentionMask []int32
	// PositionIDs are cumsum(AttentionMask)-1 clamped at 0: 0..n-1 over the tokens, then
	// n-1 repeated over the padding (right padding leaves the real positions untouched).
	PositionIDs []int32
	// Index holds the examples' indices in the slice Collate was given.
	Index []int
}

// Dims returns [B, K, 2, S].
func (b *Batch) Dims() []int { return []int{b.B, b.K, 2, b.S} }

// Offset returns the flat index of [i, k, side, t].
func (b *Batch) Offset(i, k, side, t int) int { return ((i*b.K+k)*2+side)*b.S + t }

// Collate pads the examples idx into one Batch. S is the longest sequence, rounded up to
// a multiple of padMultiple when that is > 1 (fewer distinct shapes to compile).
func Collate(examples []Example, idx []int, padID int32, padMultiple int) (*Batch, error) {
	if len(idx) == 0 {
		return nil, fmt.Errorf("collate: empty batch")
	}
	for _, i := range idx {
		if i < 0 || i >= len(examples) {
			return nil, fmt.Errorf("collate: example index %d out of range [0, %d)", i, len(examples))
		}
	}
	k := len(examples[idx[0]].Seqs)
	s := 0
	for _, i := range idx {
		if len(examples[i].Seqs) != k {
			return nil, fmt.Errorf("collate: example %d (%s) has %d templates, example %d has %d",
				i, examples[i].Source, len(examples[i].Seqs), idx[0], k)
		}
		s = max(s, examples[i].Len())
	}
	if padMultiple > 1 && s%padMultiple != 0 {
		s += padMultiple - s%padMultiple
	}
	n := len(idx) * k * 2 * s
	b := &Batch{
		B: len(idx), K: k, S: s,
		Tokens:        make([]int32, n),
		ResponseMask:  make([]int32, n),
		AttentionMask: make([]int32, n),
		PositionIDs:   make([]int32, n),
		Index:         append([]int(nil), idx...),
	}
	for bi, i := range idx {
		for kk, pair := range examples[i].Seqs {
			for side, seq := range pair {
				off := b.Offset(bi, kk, side, 0)
				for t := 0; t < s; t++ {
					if t < len(seq.Tokens) {
						b.Tokens[off+t] = seq.Tokens[t]
						b.AttentionMask[off+t] = 1
						b.PositionIDs[off+t] = int32(t)
						if t >= seq.PromptLen {
							b.ResponseMask[off+t] = 1
						}
					} else {
						b.Tokens[off+t] = padID
						b.PositionIDs[off+t] = int32(max(len(seq.Tokens)-1, 0))
					}
				}
			}
		}
	}
	return b, nil
}
