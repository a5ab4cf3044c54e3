package trainer

import (
	"testing"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
)

// consumedFullLogits counts the nodes of g of at least rows·vocab elements with a
// vocabulary axis that some other node reads: the whole logits, or copies of their size,
// that a step computes.
func consumedFullLogits(g *Graph, rows, vocab int) int {
	consumed := map[*Node]bool{}
	for _, node := range g.Nodes() {
		for _, in := range node.Inputs() {
			consumed[in] = true
		}
	}
	count := 0
	for node := range consumed {
		if node.NumOutputs() != 1 || node.Shape().Size() < rows*vocab {
			continue
		}
		for _, d := range node.Shape().Dimensions {
			if d == vocab {
				count++
				break
			}
		}
	}
	return count
}

// TestStepTakesLogProbsChunkByChunkFromAHeadModel: a model that returns HeadLogits gets the
// chunked log-probs when its logits exceed the step's budget, and the step is the same
// step (loss, gradient norm over every weight, updated head) as with the whole logits; its
// graph computes no tensor of the whole logits' size, where the plain step's does.
func TestStepTakesLogProbsChunkByChunkFromAHeadModel(t *testing.T) {
	be := toyBackend(t)
	p := spec.Defaults(spec.AMoPO)
	const vocab, seq = 301, 24 // rows > hidden size: the [V, H] head is smaller than the logits
	rows := 2 * p.K() * seq
	batch := RandomPreferenceBatch(vocab, 1, p.K(), seq)
	for _, tied := range []bool{true, false} {
		mcfg, err := PresetConfig("tiny", vocab)
		require.NoError(t, err)
		mcfg.NumLayers, mcfg.TieWordEmbeddings = 1, tied
		headName := "lm_head.weight"
		if tied {
			headName = "model.embed_tokens.weight"
		}
		run := func(lean bool) (loss, gradNorm float64, head []float64, g *Graph) {
			ctx := context.New()
			require.NoError(t, llm.InitRandom(ctx.In("model"), mcfg, 5, dtypes.Float32))
			model := func(ctx *context.Context, tokens, attention, positions *Node) *Node {
				if !lean {
					return llm.Forward(ctx, mcfg, tokens, attention, positions)
				}
				hidden, head := llm.ForwardHidden(ctx, mcfg, tokens, attention, positions)
				return HeadLogits(ctx, hidden, head)
			}
			st, err := NewStepper(be, ctx, model, PreferenceStep, p, DefaultOptimizer(1e-3), 10, 1)
			require.NoError(t, err)
			st.logitsChunkBytes = 4 * vocab * 7 // 7 rows a chunk: 192 rows do not divide
			m, g, err := st.RunWithGraph(batch, amopo.NoiseTensor(1, 0, 1, p.K()), true)
			require.NoError(t, err)
			return m["loss"], m["grad_norm"], hostFloats(t, llm.Variable(ctx.In("model"), headName).MustValue()), g
		}
		loss, norm, head, g := run(true)
		wantLoss, wantNorm, wantHead, plain := run(false)
		require.InEpsilon(t, wantLoss, loss, 1e-5, "tied %v: loss", tied)
		require.InEpsilon(t, wantNorm, norm, 1e-4, "tied %v: gradient norm", tied)
		require.InDeltaSlice(t, wantHead, head, 1e-6, "tied %v: the updated head", tied)
		require.Zero(t, consumedFullLogits(g, rows, vocab), "tied %v: the chunked step computes whole logits", tied)
		require.NotZero(t, consumedFullLogits(plain, rows, vocab), "the control: the plain step computes them")
	}
}

// TestStepKeepsWholeLogitsUnderTheBudget: small logits (under LogitsChunkBytes, as the
// built-in task's) go to TokenLogProbs whole, bit for bit the step it was.
func TestStepKeepsWholeLogitsUnderTheBudget(t *testing.T) {
	be := toyBackend(t)
	p := spec.Defaults(spec.AMoPO)
	mcfg, err := PresetConfig("tiny", 259)
	require.NoError(t, err)
	mcfg.NumLayers = 1
	batch := RandomPreferenceBatch(259, 1, p.K(), 12)
	gradNorms := map[bool]float64{}
	for _, lean := range []bool{true, false} {
		ctx := context.New()
		require.NoError(t, llm.InitRandom(ctx.In("model"), mcfg, 5, dtypes.Float32))
		model := func(ctx *context.Context, tokens, attention, positions *Node) *Node {
			if !lean {
				return llm.Forward(ctx, mcfg, tokens, attention, positions)
			}
			hidden, head := llm.ForwardHidden(ctx, mcfg, tokens, attention, positions)
			return HeadLogits(ctx, hidden, head)
		}
		st, err := NewStepper(be, ctx, model, PreferenceStep, p, DefaultOptimizer(1e-3), 10, 1)
		require.NoError(t, err)
		m, err := st.Run(batch, amopo.NoiseTensor(1, 0, 1, p.K()), true)
		require.NoError(t, err)
		gradNorms[lean] = m["grad_norm"]
	}
	require.Equal(t, gradNorms[false], gradNorms[true], "the same graph: bit-identical gradient norm")
}
