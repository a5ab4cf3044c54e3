package trainer

import (
	"fmt"

	"github.com/amopo-engine/amopo/data"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// padMultiple rounds sequence lengths up so that a run compiles a handful of step graphs,
// not one per length.
const padMultiple = 16

// PairSource serves encoded pairs as preference batches [B, K, 2, S], planned per epoch
// by data.Plan (seeded shuffle, length buckets), so (epoch, index) always gives the same
// batch; with references (SetReferences) each batch carries the reference model's summed
// log-probs RefSums [B, K, 2] of its pairs (DPO, Cal-DPO).
type PairSource struct {
	Examples []data.Example
	Config   data.BatchConfig
	PadID    int32
	// Refs[i] holds example i's K*2 summed reference log-probs ([k][side] flattened).
	Refs [][]float32
	// Margins[i] holds example i's MODPO margin rewards (SetMarginRewards).
	Margins     [][]float32
	marginCount int
	lengths     []int
	plans       map[int][][]int
}

// SetReferences attaches the reference log-probs of every example (ReferenceSums).
func (s *PairSource) SetReferences(refs [][]float32) error {
	if len(refs) != len(s.Examples) {
		return fmt.Errorf("%d reference rows for %d pairs", len(refs), len(s.Examples))
	}
	s.Refs = refs
	return nil
}

// NewPairSource checks the batch size against the data.
func NewPairSource(examples []data.Example, cfg data.BatchConfig, pad int32) (*PairSource, error) {
	if len(examples) < cfg.BatchSize {
		return nil, fmt.Errorf("%d pairs is fewer than one batch of %d", len(examples), cfg.BatchSize)
	}
	cfg.DropLast = true // every batch has B pairs: a fixed shape, a fixed number of batches
	s := &PairSource{Examples: examples, Config: cfg, PadID: pad, plans: map[int][][]int{}}
	for i := range examples {
		s.lengths = append(s.lengths, examples[i].Len())
	}
	return s, nil
}

func (s *PairSource) plan(epoch int) ([][]int, error) {
	if p, ok := s.plans[epoch]; ok {
		return p, nil
	}
	p, err := data.Plan(s.lengths, s.Config, epoch)
	if err != nil {
		return nil, err
	}
	s.plans = map[int][][]int{epoch: p} // keep one epoch's plan
	return p, nil
}

// NumBatches implements Source.
func (s *PairSource) NumBatches() int { return len(s.lengths) / s.Config.BatchSize }

// Batch implements Source.
func (s *PairSource) Batch(epoch, index int) (*Batch, error) {
	plan, err := s.plan(epoch)
	if err != nil {
		return nil, err
	}
	b, err := data.Collate(s.Examples, plan[index], s.PadID, padMultiple)
	if err != nil {
		return nil, err
	}
	out := fromDataBatch(b, b.Dims())
	if s.Refs != nil {
		flat := make([]float32, 0, b.B*b.K*2)
		for _, i := range b.Index {
			flat = append(flat, s.Refs[i]...)
		}
		out.RefSums = tensors.FromFlatDataAndDimensions(flat, b.B, b.K, 2)
	}
	s.attachMargins(out, b)
	return out, nil
}

// fromDataBatch turns a collated batch into host tensors of the given dimensions.
func fromDataBatch(b *data.Batch, dims []int) *Batch {
	resp := make([]float32, len(b.ResponseMask))
	n := 0
	for i, m := range b.ResponseMask {
		resp[i] = float32(m)
	}
	for _, m := range b.AttentionMask {
		n += int(m)
	}
	return &Batch{
		Tokens:    tensors.FromFlatDataAndDimensions(b.Tokens, dims...),
		Response:  tensors.FromFlatDataAndDimensions(resp, dims...),
		Attention: tensors.FromFlatDataAndDimensions(b.AttentionMask, dims...),
		Positions: tensors.FromFlatDataAndDimensions(b.PositionIDs, dims...),
		NumTokens: n,
	}
}

// SFTSource serves the chosen responses under the first template (the general one) as
// [B, S] batches for the SFT warm-up.
type SFTSource struct {
	pairs *PairSource
}

// NewSFTSource wraps the same examples as a PairSource, keeping one sequence per pair.
func NewSFTSource(examples []data.Example, cfg data.BatchConfig, pad int32) (*SFTSource, error) {
	sft := make([]data.Example, len(examples))
	for i, ex := range examples {
		sft[i] = data.Example{Seqs: [][2]data.Sequence{{ex.Seqs[0][0], ex.Seqs[0][0]}}, Source: ex.Source}
	}
	p, err := NewPairSource(sft, cfg, pad)
	if err != nil {
		return nil, err
	}
	return &SFTSource{pairs: p}, nil
}

// NumBatches implements Source.
func (s *SFTSource) NumBatches() int { return s.pairs.NumBatches() }

// Batch implements Source: the [B, 1, 2, S] pair batch's chosen rows as [B, S].
func (s *SFTSource) Batch(epoch, index int) (*Batch, error) {
	plan, err := s.pairs.plan(epoch)
	if err != nil {
		return nil, err
	}
	b, err := data.Collate(s.pairs.Examples, plan[index], s.pairs.PadID, padMultiple)
	if err != nil {
		return nil, err
	}
	// Keep side 0 of each row: rows are laid out [B, 1, 2, S].
	keep := func(flat []int32) []int32 {
		out := make([]int32, 0, b.B*b.S)
		for i := 0; i < b.B; i++ {
			out = append(out, flat[b.Offset(i, 0, 0, 0):b.Offset(i, 0, 0, 0)+b.S]...)
		}
		return out
	}
	sb := &data.Batch{B: b.B, K: 1, S: b.S, Tokens: keep(b.Tokens), ResponseMask: keep(b.ResponseMask),
		AttentionMask: keep(b.AttentionMask), PositionIDs: keep(b.PositionIDs)}
	return fromDataBatch(sb, []int{b.B, b.S}), nil
}
