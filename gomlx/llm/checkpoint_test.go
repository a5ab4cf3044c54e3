package llm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/amopo-engine/amopo/gomlx/safetensors"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
	"github.com/x448/float16"
)

func rawBytes(t *testing.T, x *tensors.Tensor) []byte {
	var out []byte
	require.NoError(t, x.ConstBytes(func(b []byte) { out = bytes.Clone(b) }))
	return out
}

// requireSameParams checks that two contexts hold bit-identical parameters.
func requireSameParams(t *testing.T, cfg *Config, a, b *context.Context) {
	for _, spec := range cfg.ParamSpecs() {
		va, vb := Variable(a, spec.Name), Variable(b, spec.Name)
		require.NotNil(t, va, spec.Name)
		require.NotNil(t, vb, spec.Name)
		require.True(t, va.Shape().Equal(vb.Shape()), "%s: %s vs %s", spec.Name, va.Shape(), vb.Shape())
		require.Equal(t, rawBytes(t, va.MustValue()), rawBytes(t, vb.MustValue()), spec.Name)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	for _, c := range []struct {
		model string
		dtype dtypes.DType
	}{{"qwen2-tiny", dtypes.Float32}, {"llama-tiny", dtypes.BFloat16}} {
		t.Run(c.model, func(t *testing.T) {
			ctx := context.New()
			cfg, err := Load(ctx, testdata(c.model)).Done()
			require.NoError(t, err)
			v := Variable(ctx, "model.layers.0.mlp.up_proj.weight")
			require.Equal(t, c.dtype, v.DType(), "the checkpoint's dtype is kept by default")

			dir := filepath.Join(t.TempDir(), "saved")
			require.NoError(t, Save(ctx, cfg, dir).Done())
			ctx2 := context.New()
			cfg2, err := Load(ctx2, dir).Done()
			require.NoError(t, err)
			requireSameParams(t, cfg, ctx, ctx2)
			cfg.raw, cfg2.raw = nil, nil
			require.Equal(t, cfg, cfg2)

			// The saved tensors are byte-identical to the original file's.
			orig, _, err := safetensors.ReadAll(filepath.Join(testdata(c.model), WeightsFile))
			require.NoError(t, err)
			saved, meta, err := safetensors.ReadAll(filepath.Join(dir, WeightsFile))
			require.NoError(t, err)
			require.Equal(t, "pt", meta["format"])
			require.Len(t, saved, len(orig))
			for name, x := range orig {
				require.Equal(t, rawBytes(t, x), rawBytes(t, saved[name]), name)
			}

			// config.json keeps the fields the model ignores and has both rope spellings.
			var js map[string]any
			data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(data, &js))
			require.Equal(t, 0.02, js["initializer_range"])
			require.Equal(t, cfg.RopeTheta, js["rope_theta"])
			require.Equal(t, map[string]any{"rope_theta": cfg.RopeTheta, "rope_type": "default"}, js["rope_parameters"])
		})
	}
}

func TestSaveAsBF16(t *testing.T) {
	ctx := context.New()
	cfg, err := Load(ctx, testdata("qwen2-tiny")).Done()
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, Save(ctx, cfg, dir).DType(dtypes.BFloat16).Done())
	ctx2 := context.New()
	_, err = Load(ctx2, dir).Done()
	require.NoError(t, err)
	v := Variable(ctx2, "model.embed_tokens.weight")
	require.Equal(t, dtypes.BFloat16, v.DType())
	// bf16 keeps 8 significant bits: rounding error <= 2^-8 relative.
	a := tensors.MustCopyFlatData[float32](Variable(ctx, "model.embed_tokens.weight").MustValue())
	b, err := safetensors.ConvertFloat(v.MustValue(), dtypes.Float32)
	require.NoError(t, err)
	for i, x := range tensors.MustCopyFlatData[float32](b) {
		require.InDelta(t, a[i], x, float64(abs32(a[i]))/256+1e-30)
	}
	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	require.NoError(t, err)
	require.Contains(t, string(data), `"torch_dtype": "bfloat16"`)
}

func TestSaveRandomPreset(t *testing.T) {
	ctx := context.New()
	cfg := Tiny()
	cfg.ModelType, cfg.QKVBias, cfg.OutputBias, cfg.TieWordEmbeddings = Llama, true, true, false
	require.NoError(t, InitRandom(ctx, cfg, 5, dtypes.BFloat16))
	dir := t.TempDir()
	require.NoError(t, Save(ctx, cfg, dir).Done())
	ctx2 := context.New()
	cfg2, err := Load(ctx2, dir).Done()
	require.NoError(t, err)
	cfg2.raw = nil
	require.Equal(t, cfg, cfg2)
	requireSameParams(t, cfg, ctx, ctx2)
	_, err = os.Stat(filepath.Join(dir, GenerationConfigFile))
	require.True(t, os.IsNotExist(err), "no generation config without special tokens")
}

func TestSaveSpecialTokens(t *testing.T) {
	ctx := context.New()
	cfg := Tiny()
	require.NoError(t, InitRandom(ctx, cfg, 5, dtypes.Float32))
	dir := t.TempDir()
	require.NoError(t, Save(ctx, cfg, dir).SpecialTokens(257, 258, -1).Done())
	var gen, hf map[string]any
	for path, dst := range map[string]*map[string]any{GenerationConfigFile: &gen, ConfigFile: &hf} {
		data, err := os.ReadFile(filepath.Join(dir, path))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, dst))
	}
	require.Equal(t, map[string]any{"bos_token_id": 257.0, "eos_token_id": 258.0}, gen, "-1 means none")
	require.Equal(t, 257.0, hf["bos_token_id"])
	require.Equal(t, 258.0, hf["eos_token_id"])
	require.NotContains(t, hf, "pad_token_id")
	cfg2, err := Load(context.New(), dir).Done()
	require.NoError(t, err, "the ids do not disturb loading")
	require.Equal(t, cfg.VocabSize, cfg2.VocabSize)
}

func TestLoadF16(t *testing.T) {
	// An F16 checkpoint loads as Float32 (the pure-Go backend has no float16).
	src := testdata("qwen2-tiny")
	ts, _, err := safetensors.ReadAll(filepath.Join(src, WeightsFile))
	require.NoError(t, err)
	dir := t.TempDir()
	var named []safetensors.Named
	want := map[string][]float32{}
	for name, x := range ts {
		f32 := tensors.MustCopyFlatData[float32](x)
		h := make([]float16.Float16, len(f32))
		want[name] = make([]float32, len(f32))
		for i, v := range f32 {
			h[i] = float16.Fromfloat32(v)
			want[name][i] = h[i].Float32()
		}
		named = append(named, safetensors.Named{Name: name, Tensor: tensors.FromFlatDataAndDimensions(h, x.Shape().Dimensions...)})
	}
	require.NoError(t, safetensors.Write(filepath.Join(dir, WeightsFile), named, nil))
	cfgData, err := os.ReadFile(filepath.Join(src, ConfigFile))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, ConfigFile), cfgData, 0o644))
	ctx := context.New()
	cfg, err := Load(ctx, dir).Done()
	require.NoError(t, err)
	for _, spec := range cfg.ParamSpecs() {
		v := Variable(ctx, spec.Name)
		require.Equal(t, dtypes.Float32, v.DType())
		require.Equal(t, want[spec.Name], tensors.MustCopyFlatData[float32](v.MustValue()), spec.Name)
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// writeSharded splits a checkpoint's tensors over two files with an index.
func writeSharded(t *testing.T, src, dir string) {
	ts, _, err := safetensors.ReadAll(filepath.Join(src, WeightsFile))
	require.NoError(t, err)
	cfg, err := ReadConfig(filepath.Join(src, ConfigFile))
	require.NoError(t, err)
	var shards [2][]safetensors.Named
	weightMap := map[string]string{}
	for i, spec := range cfg.ParamSpecs() {
		shards[i%2] = append(shards[i%2], safetensors.Named{Name: spec.Name, Tensor: ts[spec.Name]})
		weightMap[spec.Name] = fmt.Sprintf("model-%05d-of-00002.safetensors", i%2+1)
	}
	for i, s := range shards {
		require.NoError(t, safetensors.Write(filepath.Join(dir, fmt.Sprintf("model-%05d-of-00002.safetensors", i+1)), s, nil))
	}
	index, err := json.Marshal(map[string]any{"metadata": map[string]any{}, "weight_map": weightMap})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, WeightsIndexFile), index, 0o644))
	cfgData, err := os.ReadFile(filepath.Join(src, ConfigFile))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, ConfigFile), cfgData, 0o644))
}

func TestLoadSharded(t *testing.T) {
	dir := t.TempDir()
	writeSharded(t, testdata("llama-tiny"), dir)
	ctxA, ctxB := context.New(), context.New()
	cfg, err := Load(ctxA, testdata("llama-tiny")).Done()
	require.NoError(t, err)
	_, err = Load(ctxB, dir).Done()
	require.NoError(t, err)
	requireSameParams(t, cfg, ctxA, ctxB)
}

func TestLoadInScope(t *testing.T) {
	root := context.New()
	policy := root.In("policy")
	cfg, err := Load(policy, testdata("qwen2-tiny")).Done()
	require.NoError(t, err)
	require.Nil(t, Variable(root, "model.norm.weight"))
	v := Variable(policy, "model.norm.weight")
	require.NotNil(t, v)
	require.Equal(t, "/policy/model/norm", v.Scope())
	name, ok := HFName(policy, v)
	require.True(t, ok)
	require.Equal(t, "model.norm.weight", name)
	name, ok = HFName(root, v)
	require.True(t, ok)
	require.Equal(t, "policy.model.norm.weight", name)
	require.Equal(t, int64(cfg.NumParams()), int64(root.NumParameters()))
}

func TestLoadErrors(t *testing.T) {
	src := testdata("llama-tiny")
	copyDir := func(t *testing.T) string {
		dir := t.TempDir()
		for _, f := range []string{ConfigFile, WeightsFile} {
			data, err := os.ReadFile(filepath.Join(src, f))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, f), data, 0o644))
		}
		return dir
	}
	rewrite := func(t *testing.T, dir string, edit func(ts map[string]*tensors.Tensor)) {
		ts, _, err := safetensors.ReadAll(filepath.Join(dir, WeightsFile))
		require.NoError(t, err)
		edit(ts)
		var named []safetensors.Named
		for name, x := range ts {
			named = append(named, safetensors.Named{Name: name, Tensor: x})
		}
		require.NoError(t, safetensors.Write(filepath.Join(dir, WeightsFile), named, nil))
	}

	t.Run("missing tensor", func(t *testing.T) {
		dir := copyDir(t)
		rewrite(t, dir, func(ts map[string]*tensors.Tensor) { delete(ts, "model.layers.1.mlp.down_proj.weight") })
		_, err := Load(context.New(), dir).Done()
		require.ErrorContains(t, err, `tensor "model.layers.1.mlp.down_proj.weight" missing`)
		require.ErrorContains(t, err, filepath.Join(dir, WeightsFile))
	})
	t.Run("shape mismatch", func(t *testing.T) {
		dir := copyDir(t)
		rewrite(t, dir, func(ts map[string]*tensors.Tensor) {
			ts["model.norm.weight"] = tensors.FromFlatDataAndDimensions(make([]float32, 63), 63)
		})
		_, err := Load(context.New(), dir).Done()
		require.ErrorContains(t, err, `tensor "model.norm.weight"`)
		require.ErrorContains(t, err, "shape [63], config.json wants [64]")
	})
	t.Run("truncated", func(t *testing.T) {
		dir := copyDir(t)
		path := filepath.Join(dir, WeightsFile)
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, data[:len(data)/2], 0o644))
		_, err = Load(context.New(), dir).Done()
		require.ErrorContains(t, err, path)
		require.ErrorContains(t, err, "truncated")
	})
	t.Run("no weights", func(t *testing.T) {
		dir := copyDir(t)
		require.NoError(t, os.Remove(filepath.Join(dir, WeightsFile)))
		_, err := Load(context.New(), dir).Done()
		require.ErrorContains(t, err, WeightsFile)
	})
	t.Run("index names a missing tensor", func(t *testing.T) {
		dir := t.TempDir()
		writeSharded(t, src, dir)
		index := `{"weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors"}}`
		require.NoError(t, os.WriteFile(filepath.Join(dir, WeightsIndexFile), []byte(index), 0o644))
		_, err := Load(context.New(), dir).Done()
		require.ErrorContains(t, err, "missing from the checkpoint")
	})
}
