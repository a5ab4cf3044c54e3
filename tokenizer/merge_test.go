package tokenizer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// letters returns n pseudo-random lowercase letters: one pre-token for every
// split regex, with the merges of natural text applying all along it.
func letters(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.Grow(n)
	for range n {
		b.WriteByte(byte('a' + r.IntN(26)))
	}
	return b.String()
}

// TestMergeCostGrowsAsNLogN counts the merge loop's steps rather than timing
// it: a pre-token ten times longer may cost about 10·log(10n)/log(n) times
// more (12.5 at n = 10^4), where a loop that rescans the pairs after every
// merge costs 100 times more.
func TestMergeCostGrowsAsNLogN(t *testing.T) {
	tok := loadQwen(t)
	// merge rescans only short pre-tokens (at most scanLimit² work each); these
	// are far longer, so what is counted here is what merge runs on them.
	require.LessOrEqual(t, scanLimit, 64)
	for _, text := range []string{letters(10_000, 1), strings.Repeat("a", 10_000), strings.Repeat(" ", 10_000)} {
		small, long := text, strings.Repeat(text, 10)
		_, stepsSmall := tok.model.mergeCounted(small)
		_, stepsLong := tok.model.mergeCounted(long)
		n := float64(len(small))
		bound := 10 * math.Log2(10*n) / math.Log2(n)
		ratio := float64(stepsLong) / float64(stepsSmall)
		t.Logf("%q…: %d steps for %d bytes, %d for %d: ratio %.1f (n log n: %.1f)", small[:8], stepsSmall, len(small), stepsLong, len(long), ratio, bound)
		require.Less(t, ratio, 1.5*bound, "merge cost grows faster than n log n")
		// Each merge pushes at most two pairs, so the heap holds O(n) keys
		// and every operation costs O(log n) steps.
		require.Less(t, float64(stepsLong), 8*float64(len(long))*math.Log2(float64(len(long))), "more heap steps than O(n log n) allows")
	}
}

// TestMergeMatchesRankScan checks both merge loops against the definition (merge
// the lowest-ranked pair, leftmost first, until none applies) on every pre-token of
// the oracle corpus, whatever its length, and the heap on long pre-tokens, which the
// corpus lacks.
func TestMergeMatchesRankScan(t *testing.T) {
	tok := loadQwen(t)
	m := tok.model
	for _, p := range corpusPieces(tok) {
		want := rankScanMerge(m, p)
		heap, _ := m.mergeCounted(p)
		require.Equal(t, want, heap, "heap: %q", p)
		require.Equal(t, want, m.mergeScan(p), "scan: %q", p)
		require.Equal(t, want, m.merge(p), "merge: %q", p)
	}
	for i, text := range []string{letters(3_000, 7), strings.Repeat("a", 1_001), strings.Repeat("  ", 700), strings.Repeat("ab", 900), "x", ""} {
		require.Equal(t, rankScanMerge(m, text), m.merge(text), "text %d", i)
	}
}

// rankScanMerge is the textbook quadratic BPE loop, used as the reference.
func rankScanMerge(m *bpeModel, piece string) []int32 {
	syms := make([]int32, len(piece))
	for i := range len(piece) {
		syms[i] = m.byteID[piece[i]]
	}
	for {
		best, bestRank := -1, int32(math.MaxInt32)
		for i := 0; i+1 < len(syms); i++ {
			if mg, ok := m.merges[pairKey(syms[i], syms[i+1])]; ok && mg.rank < bestRank {
				best, bestRank = i, mg.rank
			}
		}
		if best < 0 {
			return syms
		}
		syms[best] = m.merges[pairKey(syms[best], syms[best+1])].id
		syms = append(syms[:best+1], syms[best+2:]...)
	}
}

// corpusPieces returns the pre-tokens of the oracle corpus, as Encode splits them.
func corpusPieces(tok *Tokenizer) []string {
	var pieces []string
	for _, line := range generateCorpus(corpusLines) {
		for _, sg := range tok.added.split(line, nil) {
			if sg.tok != nil {
				continue
			}
			s := nfc(sg.text)
			for i := 0; i < len(s); {
				n := tok.piece(s, i)
				pieces = append(pieces, s[i:i+n])
				i += n
			}
		}
	}
	return pieces
}

// BenchmarkMergeCorpusWords merges every pre-token of the oracle corpus (mostly short
// words: the word cache is bypassed) with merge, the heap alone and the rescanning
// loop alone, in one process so that the ratios hold on a shared machine.
func BenchmarkMergeCorpusWords(b *testing.B) {
	tok := loadQwen(b)
	pieces := corpusPieces(tok)
	size := 0
	for _, p := range pieces {
		size += len(p)
	}
	for _, c := range []struct {
		name  string
		merge func(string) []int32
	}{
		{"merge", tok.model.merge},
		{"heap", func(p string) []int32 { ids, _ := tok.model.mergeCounted(p); return ids }},
		{"scan", tok.model.mergeScan},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				for _, p := range pieces {
					c.merge(p)
				}
			}
		})
	}
}

// BenchmarkEncodeLongPreToken encodes one pre-token of 10^2..10^6 letters;
// time per byte should stay about flat (it grows with log n).
func BenchmarkEncodeLongPreToken(b *testing.B) {
	tok := loadQwen(b)
	for n := 100; n <= 1_000_000; n *= 10 {
		text := letters(n, 3)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				tok.Encode(text)
			}
		})
	}
}

// BenchmarkMergeShort compares the two loops on short pre-tokens, where the heap's
// bookkeeping costs more than rescanning a few ranks: it sets scanLimit.
func BenchmarkMergeShort(b *testing.B) {
	tok := loadQwen(b)
	for _, n := range []int{4, 8, 16, 32, 64} {
		words := make([]string, 1000)
		for i := range words {
			words[i] = letters(n, uint64(i))
		}
		for _, c := range []struct {
			name  string
			merge func(string) []int32
		}{
			{"heap", func(p string) []int32 { ids, _ := tok.model.mergeCounted(p); return ids }},
			{"scan", tok.model.mergeScan},
		} {
			b.Run(fmt.Sprintf("n=%d/%s", n, c.name), func(b *testing.B) {
				b.SetBytes(int64(n * len(words)))
				for b.Loop() {
					for _, w := range words {
						c.merge(w)
					}
				}
			})
		}
	}
}
