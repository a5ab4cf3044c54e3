package experiment

import (
	"fmt"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/amopo-engine/amopo/trainer"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// padMultiple is the trainer's: sequence lengths rounded up to few distinct shapes.
const padMultiple = 16

// RefSource serves preference batches [B, K, 2, S] like trainer.PairSource, plus, when
// Refs is set, the reference model's summed response log-probs RefSums [B, K, 2] of the
// same pairs (DPO, Cal-DPO).
type RefSource struct {
	Examples []data.Example
	Config   data.BatchConfig
	PadID    int32
	// Refs[i] holds example i's K*2 summed log-probs ([k][side] flattened); nil: no RefSums.
	Refs    [][]float32
	lengths []int
	plan    [][]int
	epoch   int
}

// NewRefSource checks the batch size against the data.
func NewRefSource(examples []data.Example, cfg data.BatchConfig, pad int32, refs [][]float32) (*RefSource, error) {
	if len(examples) < cfg.BatchSize {
		return nil, fmt.Errorf("%d pairs is fewer than one batch of %d", len(examples), cfg.BatchSize)
	}
	if refs != nil && len(refs) != len(examples) {
		return nil, fmt.Errorf("%d reference rows for %d pairs", len(refs), len(examples))
	}
	cfg.DropLast = true
	s := &RefSource{Examples: examples, Config: cfg, PadID: pad, Refs: refs, epoch: -1}
	for i := range examples {
		s.lengths = append(s.lengths, examples[i].Len())
	}
	return s, nil
}

// NumBatches implements trainer.Source.
func (s *RefSource) NumBatches() int { return len(s.lengths) / s.Config.BatchSize }

// Batch implements trainer.Source.
func (s *RefSource) Batch(epoch, index int) (*trainer.Batch, error) {
	if s.epoch != epoch {
		p, err := data.Plan(s.lengths, s.Config, epoch)
		if err != nil {
			return nil, err
		}
		s.plan, s.epoch = p, epoch
	}
	b, err := data.Collate(s.Examples, s.plan[index], s.PadID, padMultiple)
	if err != nil {
		return nil, err
	}
	out := hostBatch(b, b.Dims())
	if s.Refs != nil {
		flat := make([]float32, 0, b.B*b.K*2)
		for _, i := range b.Index {
			flat = append(flat, s.Refs[i]...)
		}
		out.RefSums = tensors.FromFlatDataAndDimensions(flat, b.B, b.K, 2)
	}
	return out, nil
}

// hostBatch is the trainer's fromDataBatch: a collated batch as host tensors.
func hostBatch(b *data.Batch, dims []int) *trainer.Batch {
	resp := make([]float32, len(b.ResponseMask))
	for i, m := range b.ResponseMask {
		resp[i] = float32(m)
	}
	n := 0
	for _, m := range b.AttentionMask {
		n += int(m)
	}
	return &trainer.Batch{
		Tokens:    tensors.FromFlatDataAndDimensions(b.Tokens, dims...),
		Response:  tensors.FromFlatDataAndDimensions(resp, dims...),
		Attention: tensors.FromFlatDataAndDimensions(b.AttentionMask, dims...),
		Positions: tensors.FromFlatDataAndDimensions(b.PositionIDs, dims...),
		NumTokens: n,
	}
}

// ReferenceSums computes, with the model in ctx (scope "model"), every example's summed
// response log-probs: one row of K*2 values ([k][side]) per example, in chunks of batch
// examples.
func ReferenceSums(backend backends.Backend, ctx *context.Context, cfg *llm.Config, examples []data.Example,
	pad int32, batch int) ([][]float32, error) {
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, in []*Node) []*Node {
		tokens, resp, attn, pos := in[0], in[1], in[2], in[3]
		logits := llm.Forward(ctx.Checked(false).In("model"), cfg, tokens, attn, pos)
		logps, mask := amopo.TokenLogProbs(logits, tokens, resp)
		sums := ReduceSum(Mul(logps, ConvertDType(mask, logps.DType())), -1)
		return []*Node{ConvertDType(sums, dtypes.Float32)}
	})
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	out := make([][]float32, len(examples))
	for start := 0; start < len(examples); start += batch {
		idx := make([]int, 0, batch)
		for i := start; i < min(start+batch, len(examples)); i++ {
			idx = append(idx, i)
		}
		b, err := data.Collate(examples, idx, pad, padMultiple)
		if err != nil {
			return nil, err
		}
		n := b.B * b.K * 2
		hb := hostBatch(b, []int{n, b.S})
		outs, err := exec.Exec(hb.Tokens, hb.Response, hb.Attention, hb.Positions)
		if err != nil {
			return nil, fmt.Errorf("reference log-probs: %w", err)
		}
		flat := tensors.MustCopyFlatData[float32](outs[0])
		outs[0].FinalizeAll()
		per := b.K * 2
		for j, i := range b.Index {
			out[i] = append([]float32(nil), flat[j*per:(j+1)*per]...)
		}
	}
	return out, nil
}
