package amopo_test

import (
	"fmt"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

// Example puts the AMoPO loss on top of a user's own GoMLX model (here a toy bigram LM)
// and trains it for a few steps: the model scores the 2*K sequences of each pair, and
// TokenLogProbs + amopo.New(...).Done() turn its logits into the loss.
func Example() {
	const (
		vocab, seqLen = 12, 6
		batch, k      = 2, 2 // 2 pairs, seen under 2 dimension templates
	)
	// Each of the 2*K sequences of a pair: a dimension-marker token (the "template"), a
	// prompt token, then the response: 4 5 6 7 when chosen, 8 9 10 11 when rejected.
	var tokens []int32
	var response []float32
	for b := 0; b < batch; b++ {
		for d := 0; d < k; d++ {
			for side := 0; side < 2; side++ {
				first := int32(4 + 4*side)
				tokens = append(tokens, int32(d), int32(2+b), first, first+1, first+2, first+3)
				response = append(response, 0, 0, 1, 1, 1, 1)
			}
		}
	}
	tokT := tensors.FromFlatDataAndDimensions(tokens, batch, k, 2, seqLen)
	respT := tensors.FromFlatDataAndDimensions(response, batch, k, 2, seqLen)
	backend, _ := backends.NewWithConfig("go:ops_sequential")
	ctx := context.New()
	_ = ctx.SetRNGStateFromSeed(1)
	optimizer := optimizers.Adam().LearningRate(0.05).Done()

	step := context.MustNewExec(backend, ctx, func(ctx *context.Context, tok, resp, noise *Node) []*Node {
		flatTok := Reshape(tok, batch*k*2, seqLen)
		// The user's model: any GoMLX model that returns [N, S, V] logits.
		logits := layers.Dense(ctx.In("lm"), layers.Embedding(ctx.In("embed"), flatTok, dtypes.Float32, vocab, 16),
			true, vocab)
		logps, mask := amopo.TokenLogProbs(logits, flatTok, Reshape(resp, batch*k*2, seqLen))
		out := amopo.New(amopo.Inputs{
			Logps: Reshape(logps, batch, k, 2, seqLen),
			Mask:  Reshape(mask, batch, k, 2, seqLen),
			Noise: noise,
		}).Dimensions("helpfulness", "correctness").Done()
		optimizer.UpdateGraph(ctx, out.Loss.Graph(), out.Loss)
		accuracy := ReduceAllMean(ConvertDType(GreaterThan(out.ChosenRewards, out.RejectedRewards), dtypes.Float32))
		return []*Node{out.Loss, accuracy}
	})
	var first, last, accuracy float32
	for i := 0; i < 40; i++ {
		noise := amopo.NoiseTensor(1, uint64(i), batch, k)
		outs := step.MustExec(tokT, respT, noise)
		last, accuracy = tensors.ToScalar[float32](outs[0]), tensors.ToScalar[float32](outs[1])
		if i == 0 {
			first = last
		}
	}
	fmt.Printf("loss went down: %v\n", last < first/2)
	fmt.Printf("chosen preferred in every pair and dimension: %v\n", accuracy == 1)
	// Output:
	// loss went down: true
	// chosen preferred in every pair and dimension: true
}
