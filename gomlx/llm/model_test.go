package llm

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/amopo-engine/amopo/gomlx/safetensors"
	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
)

// newBackend returns the pure-Go backend, sequential: its parallel executor can deadlock on
// training graphs in GoMLX v0.26.
func newBackend(t testing.TB) backends.Backend {
	be, err := backends.NewWithConfig("go:ops_sequential")
	require.NoError(t, err)
	return be
}

func testdata(name string) string { return filepath.Join("..", "testdata", name) }

// golden reads a golden.safetensors, converting integer tensors to int32.
func golden(t testing.TB, model string) map[string]*tensors.Tensor {
	ts, _, err := safetensors.ReadAll(filepath.Join(testdata(model), "golden.safetensors"))
	require.NoError(t, err)
	for name, x := range ts {
		if x.DType() == dtypes.Int64 {
			v := tensors.MustCopyFlatData[int64](x)
			v32 := make([]int32, len(v))
			for i := range v {
				v32[i] = int32(v[i])
			}
			ts[name] = tensors.FromFlatDataAndDimensions(v32, x.Shape().Dimensions...)
		}
	}
	return ts
}

// runForward returns the logits (as float32) and, computed on the host in float64, the
// log-prob [N, S-1] of each next token.
func runForward(t testing.TB, be backends.Backend, ctx *context.Context, cfg *Config, ids, mask, pos *tensors.Tensor) (logits, logps []float32) {
	e, err := context.NewExec(be, ctx, func(ctx *context.Context, ids, mask, pos *Node) *Node {
		return ConvertDType(Forward(ctx, cfg, ids, mask, pos), dtypes.Float32)
	})
	require.NoError(t, err)
	defer e.Finalize()
	out, err := e.Exec(ids, mask, pos)
	require.NoError(t, err)
	logits = tensors.MustCopyFlatData[float32](out[0])
	idv := tensors.MustCopyFlatData[int32](ids)
	n, s, v := ids.Shape().Dimensions[0], ids.Shape().Dimensions[1], cfg.VocabSize
	for i := range n {
		for j := range s - 1 {
			row := logits[(i*s+j)*v : (i*s+j+1)*v]
			mx := math.Inf(-1)
			for _, x := range row {
				mx = max(mx, float64(x))
			}
			var sum float64
			for _, x := range row {
				sum += math.Exp(float64(x) - mx)
			}
			logps = append(logps, float32(float64(row[idv[i*s+j+1]])-mx-math.Log(sum)))
		}
	}
	return logits, logps
}

func maxAbsDiffMasked(a, b []float32, mask []int32, inner int) float64 {
	var m float64
	for i := range a {
		if mask[i/inner] == 0 {
			continue
		}
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

func TestGoldenParity(t *testing.T) {
	be := newBackend(t)
	for _, c := range []struct {
		name, model string
		bf16Freqs   bool
		tol         float64
	}{
		{"qwen2-f32", "qwen2-tiny", false, 1e-4},
		// The reference was computed after model.to(bfloat16).float(), which rounded RoPE's
		// inverse frequencies to bf16 (see Config.RopeFreqsBF16).
		{"llama-bf16-weights-as-f32", "llama-tiny", true, 1e-4},
		// With exact float32 frequencies the rotations differ slightly from the reference's.
		{"llama-exact-freqs", "llama-tiny", false, 5e-2},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.New()
			cfg, err := Load(ctx, testdata(c.model)).DType(dtypes.Float32).Done()
			require.NoError(t, err)
			cfg.RopeFreqsBF16 = c.bf16Freqs
			g := golden(t, c.model)
			ids := g["input_ids"]
			n, s := ids.Shape().Dimensions[0], ids.Shape().Dimensions[1]
			for _, pad := range []string{"right", "left"} {
				mask := g["attention_mask_"+pad]
				maskFlat := tensors.MustCopyFlatData[int32](mask)
				// Our position helper agrees with the golden positions.
				rows := make([][]int32, n)
				for i := range rows {
					rows[i] = maskFlat[i*s : (i+1)*s]
				}
				hostPos := HostPositionIDs(rows)
				wantPos := tensors.MustCopyFlatData[int32](g["position_ids_"+pad])
				for i := range rows {
					require.Equal(t, wantPos[i*s:(i+1)*s], hostPos[i], "positions row %d", i)
				}
				graphPos := MustExecOnce(be, PositionIDs, mask)
				require.Equal(t, wantPos, tensors.MustCopyFlatData[int32](graphPos))

				logits, logps := runForward(t, be, ctx, cfg, ids, mask, g["position_ids_"+pad])
				want := tensors.MustCopyFlatData[float32](g["logits_"+pad])
				diff := maxAbsDiffMasked(logits, want, maskFlat, cfg.VocabSize)
				// token_logps[i, j] scores token j+1: compare where both j and j+1 are real.
				wantLP := tensors.MustCopyFlatData[float32](g["token_logps_"+pad])
				var lpDiff float64
				for i := range n {
					for j := range s - 1 {
						if maskFlat[i*s+j] != 0 && maskFlat[i*s+j+1] != 0 {
							lpDiff = max(lpDiff, math.Abs(float64(logps[i*(s-1)+j]-wantLP[i*(s-1)+j])))
						}
					}
				}
				t.Logf("%s %s padding: max |logits diff| = %.3g, max |token logp diff| = %.3g", c.model, pad, diff, lpDiff)
				require.Less(t, diff, c.tol)
				require.Less(t, lpDiff, c.tol)
			}
		})
	}
}

// TestBF16Compute runs the bf16 Llama in bfloat16 (activations and matmuls in bf16; norms and
// softmax in float32, as transformers does) against the float32 reference: the error is that
// of bf16 arithmetic (8 significant bits), so the tolerance is relative to the logits' scale.
// It measures ~4.6e-2 of the largest logit: simplego v0.26 converts float32 to bf16 by
// truncation (its matmuls accumulate in float32 but round their outputs toward zero), whose
// errors do not cancel as round-to-nearest ones do; the tolerance is 0.1.
func TestBF16Compute(t *testing.T) {
	be := newBackend(t)
	ctx := context.New()
	cfg, err := Load(ctx, testdata("llama-tiny")).Done()
	require.NoError(t, err)
	require.Equal(t, dtypes.BFloat16, Variable(ctx, "model.embed_tokens.weight").DType())
	cfg.RopeFreqsBF16 = true
	g := golden(t, "llama-tiny")
	mask := g["attention_mask_left"]
	logits, _ := runForward(t, be, ctx, cfg, g["input_ids"], mask, g["position_ids_left"])
	want := tensors.MustCopyFlatData[float32](g["logits_left"])
	var scale float64
	for _, x := range want {
		scale = max(scale, math.Abs(float64(x)))
	}
	diff := maxAbsDiffMasked(logits, want, tensors.MustCopyFlatData[int32](mask), cfg.VocabSize)
	t.Logf("bf16 compute: max |logits diff| = %.3g (max |logit| = %.3g, relative %.3g)", diff, scale, diff/scale)
	require.Less(t, diff/scale, 0.1)
}
