package trainer

import (
	"fmt"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

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
		hb := fromDataBatch(b, []int{n, b.S})
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
