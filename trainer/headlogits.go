package trainer

import (
	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/gomlx/llm"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// LogitsChunkBytes is the most float32 logits, in bytes, that a training step lets exist
// at once for a model whose logits come from HeadLogits: above it, the step computes the
// log-probs chunk by chunk from the hidden states and the head
// (amopo.TokenLogProbsFromHidden). With Qwen2.5's 151,936-token vocabulary, one AMoPO pair
// (8 sequences of 512 tokens) has 2.5 GB of logits; 256 MiB chunks are 441 rows.
const LogitsChunkBytes = 256 << 20

// headKey is the graph parameter under which HeadLogits records its operands.
const headKey = "trainer.head_logits"

// headFactors are the operands of a model's last matmul, logits = hidden · headᵀ.
type headFactors struct{ logits, hidden, head *Node }

// HeadLogits returns a language model's logits hidden · headᵀ (hidden [N, S, H], head
// [V, H]: the tied embedding or lm_head) and records the two for the training step. A
// Model that returns these logits as they are lets the step, when the logits would exceed
// LogitsChunkBytes, compute its log-probs chunk by chunk from hidden and head instead; the
// logits node is then used by nothing and never computed. Logits that the model changes
// afterwards (a soft cap, a bias) are not recognised, and the step takes them whole.
//
//	model := func(ctx *context.Context, tokens, attention, positions *Node) *Node {
//		hidden, head := llm.ForwardHidden(ctx, cfg, tokens, attention, positions)
//		return trainer.HeadLogits(ctx, hidden, head)
//	}
func HeadLogits(ctx *context.Context, hidden, head *Node) *Node {
	logits := llm.HeadLogits(hidden, head)
	ctx.InAbsPath("/").SetGraphParam(hidden.Graph(), headKey, headFactors{logits, hidden, head})
	return logits
}

// tokenLogProbs runs the model and takes the next-token log-probs of the response tokens
// (amopo.TokenLogProbs), chunk by chunk when the model's logits came from HeadLogits and
// are larger than s.logitsChunkBytes.
func (s *Stepper) tokenLogProbs(ctx *context.Context, tokens, attention, positions, response *Node) (logps, mask *Node) {
	logits := s.model(ctx, tokens, attention, positions)
	if f, ok := ctx.InAbsPath("/").GetGraphParam(logits.Graph(), headKey); ok {
		if f, ok := f.(headFactors); ok && f.logits == logits {
			dims := logits.Shape().Dimensions
			rows, vocab := dims[0]*dims[1], dims[2]
			if chunk := max(1, s.logitsChunkBytes/(4*vocab)); rows > chunk {
				return amopo.TokenLogProbsFromHidden(f.hidden, f.head, tokens, response, chunk)
			}
		}
	}
	return amopo.TokenLogProbs(logits, tokens, response)
}

// LMModel is the Model of a gomlx/llm decoder whose logits come from HeadLogits, so that a
// training step on a large vocabulary takes its log-probs chunk by chunk.
func LMModel(cfg *llm.Config) Model {
	return func(ctx *context.Context, tokens, attention, positions *Node) *Node {
		hidden, head := llm.ForwardHidden(ctx, cfg, tokens, attention, positions)
		return HeadLogits(ctx, hidden, head)
	}
}
