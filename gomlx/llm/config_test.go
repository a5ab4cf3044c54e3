package llm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReadConfigGolden(t *testing.T) {
	q, err := ReadConfig(filepath.Join(testdata("qwen2-tiny"), ConfigFile))
	require.NoError(t, err)
	require.Equal(t, Qwen2, q.ModelType)
	require.Equal(t, 1e6, q.RopeTheta) // from rope_parameters (transformers 5)
	require.Equal(t, 16, q.HeadDim)    // hidden_size / heads: no head_dim field
	require.True(t, q.TieWordEmbeddings)
	require.True(t, q.QKVBias)
	require.False(t, q.OutputBias)
	require.Equal(t, 2, q.NumKVHeads)

	l, err := ReadConfig(filepath.Join(testdata("llama-tiny"), ConfigFile))
	require.NoError(t, err)
	require.Equal(t, Llama, l.ModelType)
	require.Equal(t, 5e5, l.RopeTheta)
	require.False(t, l.TieWordEmbeddings)
	require.False(t, l.QKVBias)
	require.Equal(t, 1e-6, l.RMSNormEps)
}

// editConfig returns the golden Llama config.json with edits applied (nil deletes a key).
func editConfig(t *testing.T, edits map[string]any) []byte {
	data, err := os.ReadFile(filepath.Join(testdata("llama-tiny"), ConfigFile))
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(data, &raw))
	for k, v := range edits {
		if v == nil {
			delete(raw, k)
		} else {
			raw[k] = v
		}
	}
	out, err := json.Marshal(raw)
	require.NoError(t, err)
	return out
}

func TestParseConfigVariants(t *testing.T) {
	// Older transformers: top-level rope_theta, no rope_parameters; attention_bias on.
	cfg, err := ParseConfig(editConfig(t, map[string]any{"rope_parameters": nil, "rope_theta": 10000.0, "attention_bias": true}), "old.json")
	require.NoError(t, err)
	require.Equal(t, 1e4, cfg.RopeTheta)
	require.True(t, cfg.QKVBias)
	require.True(t, cfg.OutputBias)
	require.Contains(t, paramNames(cfg), "model.layers.1.self_attn.o_proj.bias")

	// No head_dim: hidden_size / num_attention_heads.
	cfg, err = ParseConfig(editConfig(t, map[string]any{"head_dim": nil}), "x.json")
	require.NoError(t, err)
	require.Equal(t, 16, cfg.HeadDim)

	for _, c := range []struct {
		name  string
		edits map[string]any
		want  string
	}{
		{"unknown type", map[string]any{"model_type": "gpt2"}, `field "model_type": unsupported model type "gpt2"`},
		{"missing type", map[string]any{"model_type": nil}, `field "model_type": missing`},
		{"missing hidden", map[string]any{"hidden_size": nil}, `field "hidden_size": missing`},
		{"missing kv heads", map[string]any{"num_key_value_heads": nil}, `field "num_key_value_heads": missing`},
		{"missing tie", map[string]any{"tie_word_embeddings": nil}, `field "tie_word_embeddings": missing`},
		{"missing theta", map[string]any{"rope_parameters": nil}, `"rope_parameters.rope_theta"`},
		{"bad type", map[string]any{"vocab_size": "many"}, `field "vocab_size": want a number`},
		{"rope scaling", map[string]any{"rope_parameters": map[string]any{"rope_theta": 5e5, "rope_type": "llama3"}}, `"llama3" is not supported`},
		{"bad heads", map[string]any{"num_key_value_heads": 3}, "multiple of num_key_value_heads"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig(editConfig(t, c.edits), "/some/dir/config.json")
			require.Error(t, err)
			require.Contains(t, err.Error(), "/some/dir/config.json")
			require.Contains(t, err.Error(), c.want)
		})
	}
	_, err = ReadConfig("/nonexistent/config.json")
	require.ErrorContains(t, err, "/nonexistent/config.json")
}

func paramNames(cfg *Config) []string {
	var out []string
	for _, p := range cfg.ParamSpecs() {
		out = append(out, p.Name)
	}
	return out
}

func TestNumParams(t *testing.T) {
	require.Equal(t, int64(494_032_768), Qwen25_05B().NumParams())
	require.NoError(t, Qwen25_05B().Validate())
	require.NoError(t, Tiny().Validate())
	// The tiny golden Qwen2 has Tiny's shape.
	q, err := ReadConfig(filepath.Join(testdata("qwen2-tiny"), ConfigFile))
	require.NoError(t, err)
	require.Equal(t, Tiny().NumParams(), q.NumParams())
}
