package llm

import (
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
)

// greedyByRecompute generates greedily without a cache: at every step the whole left-padded
// sequence goes through Forward again.
func greedyByRecompute(t *testing.T, be backends.Backend, ctx *context.Context, cfg *Config, prompts [][]int32, steps int) [][]int32 {
	e, err := context.NewExec(be, ctx, func(ctx *context.Context, ids, mask, pos *Node) *Node {
		return ConvertDType(Forward(ctx, cfg, ids, mask, pos), dtypes.Float32)
	})
	require.NoError(t, err)
	defer e.Finalize()
	seqs := make([][]int32, len(prompts))
	for i := range prompts {
		seqs[i] = append([]int32(nil), prompts[i]...)
	}
	out := make([][]int32, len(prompts))
	for range steps {
		s := 0
		for _, q := range seqs {
			s = max(s, len(q))
		}
		n := len(seqs)
		ids, mask := make([]int32, n*s), make([]int32, n*s)
		maskRows := make([][]int32, n)
		for i, q := range seqs {
			off := s - len(q)
			copy(ids[i*s+off:], q)
			for j := off; j < s; j++ {
				mask[i*s+j] = 1
			}
			maskRows[i] = mask[i*s : (i+1)*s]
		}
		var pos []int32
		for _, row := range HostPositionIDs(maskRows) {
			pos = append(pos, row...)
		}
		res, err := e.Exec(tensors.FromFlatDataAndDimensions(ids, n, s), tensors.FromFlatDataAndDimensions(mask, n, s),
			tensors.FromFlatDataAndDimensions(pos, n, s))
		require.NoError(t, err)
		logits := tensors.MustCopyFlatData[float32](res[0])
		for i := range n {
			row := logits[((i+1)*s-1)*cfg.VocabSize : (i+1)*s*cfg.VocabSize]
			best := 0
			for j, v := range row {
				if v > row[best] {
					best = j
				}
			}
			seqs[i] = append(seqs[i], int32(best))
			out[i] = append(out[i], int32(best))
		}
	}
	return out
}

func TestGenerateMatchesRecompute(t *testing.T) {
	be := newBackend(t)
	prompts := [][]int32{{5, 17, 300, 42, 9, 77}, {901, 3}, {12, 12, 12, 500}}
	const steps = 10
	for _, model := range []string{"qwen2-tiny", "llama-tiny"} {
		t.Run(model, func(t *testing.T) {
			ctx := context.New()
			cfg, err := Load(ctx, testdata(model)).DType(dtypes.Float32).Done()
			require.NoError(t, err)
			got, err := Generate(be, ctx, cfg, prompts).MaxNewTokens(steps).Done()
			require.NoError(t, err)
			want := greedyByRecompute(t, be, ctx, cfg, prompts, steps)
			t.Logf("%s greedy: %v", model, got)
			// Lengths first: a broken model must fail here, not panic on an index below.
			requireShape(t, want, len(prompts), steps, "recomputed")
			requireShape(t, got, len(prompts), steps, "generated")
			require.Equal(t, want, got)

			// Sampling with top-k 1 is greedy; sampling is reproducible under a seed.
			top1, err := Generate(be, ctx, cfg, prompts).MaxNewTokens(steps).Temperature(0.7).TopK(1).Done()
			require.NoError(t, err)
			require.Equal(t, want, top1)
			s1, err := Generate(be, ctx, cfg, prompts).MaxNewTokens(steps).Temperature(1.5).TopK(50).Seed(3).Done()
			require.NoError(t, err)
			s2, err := Generate(be, ctx, cfg, prompts).MaxNewTokens(steps).Temperature(1.5).TopK(50).Seed(3).Done()
			require.NoError(t, err)
			require.Equal(t, s1, s2)
			require.NotEqual(t, want, s1)

			// A row stops after its EOS.
			eos := want[1][2]
			stopped, err := Generate(be, ctx, cfg, prompts).MaxNewTokens(steps).EOS(eos).Done()
			require.NoError(t, err)
			require.Len(t, stopped, len(prompts))
			require.Len(t, stopped[1], 3)
			require.Equal(t, want[1][:3], stopped[1])
		})
	}
}

// requireShape checks that rows holds n rows of length each, so that indexing them
// afterwards cannot panic.
func requireShape(t *testing.T, rows [][]int32, n, length int, what string) {
	t.Helper()
	require.Len(t, rows, n, "%s: rows", what)
	for i, row := range rows {
		require.Len(t, row, length, "%s: row %d", what, i)
	}
}

func TestGenerateBF16(t *testing.T) {
	be := newBackend(t)
	ctx := context.New()
	cfg, err := Load(ctx, testdata("llama-tiny")).Done() // bf16 parameters, bf16 compute and cache
	require.NoError(t, err)
	got, err := Generate(be, ctx, cfg, [][]int32{{1, 2, 3}, {4}}).MaxNewTokens(5).Done()
	require.NoError(t, err)
	require.Len(t, got, 2)
	for _, row := range got {
		require.Len(t, row, 5)
	}
	_, err = Generate(be, ctx, cfg, [][]int32{{1}, {}}).Done()
	require.ErrorContains(t, err, "prompt 1 is empty")
	_, err = Generate(be, ctx, cfg, [][]int32{{1000}}).Done()
	require.ErrorContains(t, err, "out of the vocabulary")
}
