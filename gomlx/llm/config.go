// Package llm holds decoder-only language models (the Qwen2 and Llama architectures) in GoMLX:
// configuration from a Hugging Face config.json, the forward graph, checkpoint loading and
// saving in the Hugging Face layout, random initialisation and KV-cached generation.
//
// Parameters live in a context.Context under names that map 1:1 to the Hugging Face tensor
// names, relative to the context's scope: "model.layers.0.self_attn.q_proj.weight" is the
// variable "weight" in scope "<ctx scope>/model/layers/0/self_attn/q_proj". Linear weights keep
// the Hugging Face [out, in] layout, so loading and saving are a renaming and nothing else.
package llm

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// Supported model types (config.json "model_type").
const (
	Qwen2 = "qwen2"
	Llama = "llama"
)

// Config is the architecture of a decoder-only model.
type Config struct {
	ModelType             string // Qwen2 or Llama
	VocabSize             int
	HiddenSize            int
	IntermediateSize      int
	NumLayers             int
	NumHeads              int
	NumKVHeads            int
	HeadDim               int
	RMSNormEps            float64
	RopeTheta             float64
	TieWordEmbeddings     bool
	QKVBias               bool // biases of q_proj, k_proj and v_proj (always for Qwen2)
	OutputBias            bool // bias of o_proj (Llama with attention_bias)
	MaxPositionEmbeddings int  // informational: nothing in the graph depends on it

	// ComputeDType, when set, is the dtype the forward pass computes in whatever the stored
	// parameters' dtype: float32 parameters with BFloat16 compute is mixed precision (the
	// optimizer updates float32 master weights; bf16 weights would round away updates below
	// 1/256 of their size). Not read from nor written to config.json.
	ComputeDType dtypes.DType

	// RopeFreqsBF16 rounds RoPE's inverse frequencies to bfloat16. transformers keeps them in
	// a non-persistent buffer that model.to(torch.bfloat16) casts with the weights (and a later
	// .float() does not restore), so a PyTorch model that went through bf16 computes its
	// rotations with these rounded frequencies: set this to reproduce its outputs exactly (the
	// golden Llama reference differs by ~1e-2 in the logits otherwise). It is not read from nor
	// written to config.json.
	RopeFreqsBF16 bool

	// raw is the config.json this came from (nil for presets): Save writes it back with the
	// fields above updated, so that fields the model ignores (token ids, ...) survive.
	raw map[string]any
}

// Qwen25_05B returns the shape of Qwen2.5-0.5B (494,032,768 parameters), for random-init
// tests and benchmarks.
func Qwen25_05B() *Config {
	return &Config{
		ModelType: Qwen2, VocabSize: 151936, HiddenSize: 896, IntermediateSize: 4864,
		NumLayers: 24, NumHeads: 14, NumKVHeads: 2, HeadDim: 64,
		RMSNormEps: 1e-6, RopeTheta: 1e6, TieWordEmbeddings: true, QKVBias: true,
		MaxPositionEmbeddings: 32768,
	}
}

// Tiny returns a small Qwen2-like configuration (the shape of the golden test models: about
// 130k parameters), the default for tests and benchmarks.
func Tiny() *Config {
	return &Config{
		ModelType: Qwen2, VocabSize: 1000, HiddenSize: 64, IntermediateSize: 160,
		NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 16,
		RMSNormEps: 1e-6, RopeTheta: 1e6, TieWordEmbeddings: true, QKVBias: true,
		MaxPositionEmbeddings: 256,
	}
}

// ReadConfig reads a Hugging Face config.json.
func ReadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("llm: reading model config: %w", err)
	}
	return ParseConfig(data, path)
}

// ParseConfig parses the contents of a Hugging Face config.json; source names it in errors.
func ParseConfig(data []byte, source string) (*Config, error) {
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("llm: model config %s: invalid JSON: %w", source, err)
	}
	p := &fieldParser{raw: raw, source: source}
	cfg := &Config{raw: raw}
	cfg.ModelType = p.str("model_type")
	if p.err != nil {
		return nil, p.err
	}
	if cfg.ModelType != Qwen2 && cfg.ModelType != Llama {
		return nil, fmt.Errorf("llm: model config %s: field \"model_type\": unsupported model type %q (want %q or %q)",
			source, cfg.ModelType, Qwen2, Llama)
	}
	cfg.VocabSize = p.int("vocab_size")
	cfg.HiddenSize = p.int("hidden_size")
	cfg.IntermediateSize = p.int("intermediate_size")
	cfg.NumLayers = p.int("num_hidden_layers")
	cfg.NumHeads = p.int("num_attention_heads")
	cfg.NumKVHeads = p.int("num_key_value_heads")
	cfg.RMSNormEps = p.float("rms_norm_eps")
	cfg.TieWordEmbeddings = p.bool("tie_word_embeddings")
	if p.has("head_dim") {
		cfg.HeadDim = p.int("head_dim")
	} else if cfg.NumHeads > 0 {
		cfg.HeadDim = cfg.HiddenSize / cfg.NumHeads
	}
	if p.has("max_position_embeddings") {
		cfg.MaxPositionEmbeddings = p.int("max_position_embeddings")
	}

	// transformers 5 writes rope_parameters.rope_theta; older versions a top-level rope_theta.
	var ropeType string
	if rp, ok := raw["rope_parameters"].(map[string]any); ok && rp["rope_theta"] != nil {
		rpp := &fieldParser{raw: rp, source: source, prefix: "rope_parameters."}
		cfg.RopeTheta = rpp.float("rope_theta")
		if rpp.has("rope_type") {
			ropeType = rpp.str("rope_type")
		}
		if rpp.err != nil {
			return nil, rpp.err
		}
	} else if p.has("rope_theta") {
		cfg.RopeTheta = p.float("rope_theta")
	} else {
		return nil, fmt.Errorf("llm: model config %s: missing field \"rope_parameters.rope_theta\" (or \"rope_theta\")", source)
	}
	if rs, ok := raw["rope_scaling"].(map[string]any); ok && ropeType == "" {
		ropeType, _ = rs["rope_type"].(string)
		if ropeType == "" {
			ropeType, _ = rs["type"].(string)
		}
	}
	if ropeType != "" && ropeType != "default" {
		return nil, fmt.Errorf("llm: model config %s: field \"rope_type\": RoPE scaling %q is not supported (only \"default\")", source, ropeType)
	}

	switch cfg.ModelType {
	case Qwen2:
		cfg.QKVBias = true // Qwen2 always has q/k/v biases and no o_proj bias.
		if p.has("use_sliding_window") && p.bool("use_sliding_window") {
			p.fail("use_sliding_window", "sliding-window attention is not supported")
		}
	case Llama:
		if p.has("attention_bias") { // older Llama configs lack it: no bias.
			cfg.QKVBias = p.bool("attention_bias")
			cfg.OutputBias = cfg.QKVBias
		}
		if p.has("mlp_bias") && p.bool("mlp_bias") {
			p.fail("mlp_bias", "MLP biases are not supported")
		}
	}
	if p.has("hidden_act") {
		if act := p.str("hidden_act"); act != "silu" && p.err == nil {
			p.fail("hidden_act", fmt.Sprintf("activation %q is not supported (only \"silu\")", act))
		}
	}
	if p.err != nil {
		return nil, p.err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("llm: model config %s: %w", source, err)
	}
	return cfg, nil
}

// Validate checks that the sizes are consistent.
func (cfg *Config) Validate() error {
	if cfg.ModelType != Qwen2 && cfg.ModelType != Llama {
		return fmt.Errorf("unsupported model type %q", cfg.ModelType)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"vocab_size", cfg.VocabSize}, {"hidden_size", cfg.HiddenSize}, {"intermediate_size", cfg.IntermediateSize},
		{"num_hidden_layers", cfg.NumLayers}, {"num_attention_heads", cfg.NumHeads},
		{"num_key_value_heads", cfg.NumKVHeads}, {"head_dim", cfg.HeadDim}} {
		if f.v <= 0 {
			return fmt.Errorf("field %q must be positive, got %d", f.name, f.v)
		}
	}
	if cfg.NumHeads%cfg.NumKVHeads != 0 {
		return fmt.Errorf("num_attention_heads (%d) must be a multiple of num_key_value_heads (%d)", cfg.NumHeads, cfg.NumKVHeads)
	}
	if cfg.HeadDim%2 != 0 {
		return fmt.Errorf("head_dim (%d) must be even for RoPE", cfg.HeadDim)
	}
	if cfg.RopeTheta <= 0 || cfg.RMSNormEps <= 0 {
		return fmt.Errorf("rope theta (%g) and rms_norm_eps (%g) must be positive", cfg.RopeTheta, cfg.RMSNormEps)
	}
	return nil
}

// HFConfig returns the config.json contents for this configuration: the original file's fields
// (if it was read from one) with the architecture fields set from cfg, and the given torch dtype
// name ("float32" or "bfloat16"). Both rope spellings are written, so that transformers 4 and 5
// read the same theta.
func (cfg *Config) HFConfig(torchDType string) ([]byte, error) { return cfg.hfConfig(torchDType, nil) }

// hfConfig is HFConfig with extra fields set last (the special token ids of an export).
func (cfg *Config) hfConfig(torchDType string, extra map[string]any) ([]byte, error) {
	out := map[string]any{}
	if cfg.raw != nil {
		out = maps.Clone(cfg.raw)
	}
	arch := "Qwen2ForCausalLM"
	if cfg.ModelType == Llama {
		arch = "LlamaForCausalLM"
		out["attention_bias"] = cfg.QKVBias
		out["mlp_bias"] = false
	}
	if lt, ok := out["layer_types"].([]any); ok && len(lt) != cfg.NumLayers {
		delete(out, "layer_types") // stale after a change of depth; transformers rebuilds it
	}
	out["architectures"] = []string{arch}
	out["model_type"] = cfg.ModelType
	out["vocab_size"] = cfg.VocabSize
	out["hidden_size"] = cfg.HiddenSize
	out["intermediate_size"] = cfg.IntermediateSize
	out["num_hidden_layers"] = cfg.NumLayers
	out["num_attention_heads"] = cfg.NumHeads
	out["num_key_value_heads"] = cfg.NumKVHeads
	out["head_dim"] = cfg.HeadDim
	out["rms_norm_eps"] = cfg.RMSNormEps
	out["tie_word_embeddings"] = cfg.TieWordEmbeddings
	out["hidden_act"] = "silu"
	if cfg.MaxPositionEmbeddings > 0 {
		out["max_position_embeddings"] = cfg.MaxPositionEmbeddings
	}
	rp := map[string]any{}
	if old, ok := out["rope_parameters"].(map[string]any); ok {
		rp = maps.Clone(old)
	}
	rp["rope_theta"] = cfg.RopeTheta
	rp["rope_type"] = "default"
	out["rope_parameters"] = rp
	out["rope_theta"] = cfg.RopeTheta
	out["dtype"] = torchDType       // transformers 5
	out["torch_dtype"] = torchDType // transformers 4
	maps.Copy(out, extra)
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("llm: encoding config.json: %w", err)
	}
	return append(data, '\n'), nil
}

// fieldParser reads typed fields of a JSON object, remembering the first error, which names
// the source file and the field.
type fieldParser struct {
	raw    map[string]any
	source string
	prefix string
	err    error
}

func (p *fieldParser) has(key string) bool { return p.raw[key] != nil }

func (p *fieldParser) fail(key, msg string) {
	if p.err == nil {
		p.err = fmt.Errorf("llm: model config %s: field %q: %s", p.source, p.prefix+key, msg)
	}
}

func (p *fieldParser) get(key string) (any, bool) {
	v, ok := p.raw[key]
	if !ok || v == nil {
		p.fail(key, "missing")
		return nil, false
	}
	return v, true
}

func (p *fieldParser) float(key string) float64 {
	v, ok := p.get(key)
	if !ok {
		return 0
	}
	f, isNum := v.(float64)
	if !isNum {
		p.fail(key, fmt.Sprintf("want a number, got %v", v))
	}
	return f
}

func (p *fieldParser) int(key string) int {
	f := p.float(key)
	if f != float64(int(f)) {
		p.fail(key, fmt.Sprintf("want an integer, got %v", f))
	}
	return int(f)
}

func (p *fieldParser) bool(key string) bool {
	v, ok := p.get(key)
	if !ok {
		return false
	}
	b, isBool := v.(bool)
	if !isBool {
		p.fail(key, fmt.Sprintf("want a boolean, got %v", v))
	}
	return b
}

func (p *fieldParser) str(key string) string {
	v, ok := p.get(key)
	if !ok {
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		p.fail(key, fmt.Sprintf("want a string, got %v", v))
	}
	return s
}
