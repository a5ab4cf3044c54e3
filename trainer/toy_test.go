package trainer

import (
	"github.com/amopo-engine/amopo/engine/backend"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/stretchr/testify/require"
)

const toyVocab = 24

// toyModel is a bigram LM: enough to exercise every code path of a step.
func toyModel(ctx *context.Context, tokens, _, _ *Node) *Node {
	return layers.Dense(ctx.In("head"), layers.Embedding(ctx.In("embed"), tokens, dtypes.Float32, toyVocab, 8), true, toyVocab)
}

// toySource makes preference batches [B, K, 2, S] (or SFT batches [B, S]) from a seed:
// chosen responses use tokens 12..17, rejected ones 18..23.
type toySource struct {
	batches, b, k, s int
	sft              bool
	seed             uint64
}

func (t toySource) NumBatches() int { return t.batches }

func (t toySource) Batch(epoch, index int) (*Batch, error) {
	rng := rand.New(rand.NewPCG(t.seed, uint64(epoch*1000+index)))
	rows := t.b * t.k * 2
	if t.sft {
		rows = t.b
	}
	tok := make([]int32, rows*t.s)
	resp := make([]float32, rows*t.s)
	att := make([]int32, rows*t.s)
	pos := make([]int32, rows*t.s)
	n := 0
	for r := 0; r < rows; r++ {
		side := r % 2
		if t.sft {
			side = 0
		}
		length := 3 + rng.IntN(t.s-3)
		for j := 0; j < length; j++ {
			i := r*t.s + j
			switch {
			case j == 0:
				tok[i] = int32(r / 2 % t.k)
			case j == 1:
				tok[i] = int32(4 + rng.IntN(8))
			default:
				tok[i] = int32(12 + 6*side + rng.IntN(6))
				resp[i] = 1
			}
			att[i], pos[i] = 1, int32(j)
			n++
		}
	}
	dims := []int{t.b, t.k, 2, t.s}
	if t.sft {
		dims = []int{t.b, t.s}
	}
	return &Batch{
		Tokens:    tensors.FromFlatDataAndDimensions(tok, dims...),
		Response:  tensors.FromFlatDataAndDimensions(resp, dims...),
		Attention: tensors.FromFlatDataAndDimensions(att, dims...),
		Positions: tensors.FromFlatDataAndDimensions(pos, dims...),
		NumTokens: n,
	}, nil
}

// NewBackend is engine/backend.New, for the tests: the trainer runs on whatever backend
// its caller picked.
func NewBackend(name string) (backends.Backend, error) { return backend.New(name) }

func toyBackend(t testing.TB) backends.Backend {
	be, err := NewBackend("go")
	require.NoError(t, err)
	return be
}

func toyContext(t testing.TB, seed int64) *context.Context {
	ctx := context.New()
	require.NoError(t, ctx.SetRNGStateFromSeed(seed))
	return ctx
}
