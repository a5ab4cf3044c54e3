// Package testpairs makes the batches of preference pairs that the tests of the loss
// module share: random, extreme (-1e4 log-probs, length-1 responses) and ties.
package testpairs

import (
	"math/rand/v2"

	"github.com/amopo-engine/amopo/amopo/spec"
)

// Tokens returns n log-probs uniform in [lo, hi].
func Tokens(rng *rand.Rand, n int, lo, hi float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = lo + (hi-lo)*rng.Float64()
	}
	return out
}

// MarginObjectives is M, the number of MODPO margin rewards per response in these batches.
const MarginObjectives = 2

// Random returns b pairs of k dimensions, every response 1..7 tokens long with
// log-probs in [lo, hi], with reference log-probs and MarginObjectives margin rewards in
// [-3, 3] per response (MODPO's; the other losses ignore them).
func Random(rng *rand.Rand, b, k int, lo, hi float64) []spec.Pair {
	batch := make([]spec.Pair, b)
	side := func() [][]float64 {
		s := make([][]float64, k)
		for d := range s {
			s[d] = Tokens(rng, 1+rng.IntN(7), lo, hi)
		}
		return s
	}
	for i := range batch {
		batch[i] = spec.Pair{Chosen: side(), Rejected: side()}
		// The reference scores the same tokens: same lengths.
		batch[i].RefChosen = make([][]float64, k)
		batch[i].RefRejected = make([][]float64, k)
		for d := range k {
			batch[i].RefChosen[d] = Tokens(rng, len(batch[i].Chosen[d]), lo, hi)
			batch[i].RefRejected[d] = Tokens(rng, len(batch[i].Rejected[d]), lo, hi)
		}
		batch[i].MarginChosen = make([][]float64, k)
		batch[i].MarginRejected = make([][]float64, k)
		for d := range k {
			batch[i].MarginChosen[d] = Tokens(rng, MarginObjectives, -3, 3)
			batch[i].MarginRejected[d] = Tokens(rng, MarginObjectives, -3, 3)
		}
	}
	return batch
}

// Extreme mixes sides whose log-probs are all about -1e4 with moderate ones, and
// length-1 responses, so that every log-sigmoid saturates one way or the other.
func Extreme(rng *rand.Rand) []spec.Pair {
	batch := Random(rng, 3, 4, -8, -0.01)
	ext := func(n int) []float64 { return Tokens(rng, n, -1e4, -5e3) }
	for b := range batch {
		for k := range 4 {
			switch (b*4 + k) % 4 {
			case 0: // extreme chosen, length 1
				batch[b].Chosen[k] = ext(1)
				batch[b].RefChosen[k] = Tokens(rng, 1, -8, -0.01)
			case 1: // extreme rejected, extreme margin rewards
				batch[b].Rejected[k] = ext(len(batch[b].Rejected[k]))
				batch[b].MarginChosen[k] = Tokens(rng, MarginObjectives, 5e3, 1e4)
				batch[b].MarginRejected[k] = ext(MarginObjectives)
			case 2: // both extreme, references extreme too
				batch[b].Chosen[k], batch[b].Rejected[k] = ext(7), ext(1)
				batch[b].RefChosen[k], batch[b].RefRejected[k] = ext(7), ext(1)
			case 3: // moderate policy, extreme reference
				batch[b].RefChosen[k] = ext(len(batch[b].Chosen[k]))
			}
		}
	}
	batch[0].Chosen[0] = []float64{-1e4}
	return batch
}

// Ties has chosen == rejected (and ref chosen == ref rejected) everywhere.
func Ties(rng *rand.Rand) []spec.Pair {
	batch := Random(rng, 3, 4, -8, -0.01)
	for b := range batch {
		for k := range 4 {
			batch[b].Rejected[k] = append([]float64(nil), batch[b].Chosen[k]...)
			batch[b].RefRejected[k] = append([]float64(nil), batch[b].RefChosen[k]...)
			batch[b].MarginRejected[k] = append([]float64(nil), batch[b].MarginChosen[k]...)
		}
	}
	return batch
}

// Clone deep-copies a batch.
func Clone(batch []spec.Pair) []spec.Pair {
	c := func(s [][]float64) [][]float64 {
		if s == nil {
			return nil
		}
		out := make([][]float64, len(s))
		for i := range s {
			out[i] = append([]float64(nil), s[i]...)
		}
		return out
	}
	out := make([]spec.Pair, len(batch))
	for i, p := range batch {
		out[i] = spec.Pair{Chosen: c(p.Chosen), Rejected: c(p.Rejected), RefChosen: c(p.RefChosen), RefRejected: c(p.RefRejected),
			MarginChosen: c(p.MarginChosen), MarginRejected: c(p.MarginRejected)}
	}
	return out
}

// FitParams sets what these batches need of p: MODPO's objective weights for
// MarginObjectives margin rewards (w_k 0.6, then 0.3 and 0.1, so both rewards count
// differently).
func FitParams(p *spec.Params) {
	if p.Loss.NeedsMarginRewards() {
		p.ObjectiveWeights = []float64{0.6, 0.3, 0.1}
	}
}
