package trainer

import (
	"fmt"

	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// SetPrecision applies model.dtype to a model config and returns the compute dtype: "f32"
// (or "") computes in float32; "bf16" is mixed precision, as PyTorch users run it: float32
// master weights (initialise and checkpoint in float32) and bfloat16 compute
// (cfg.ComputeDType), so that updates smaller than bf16's 1/256 resolution are not lost.
// The export is written in the compute dtype.
func SetPrecision(mcfg *llm.Config, name string) (dtypes.DType, error) {
	switch name {
	case "", "f32":
		mcfg.ComputeDType = dtypes.InvalidDType
		return dtypes.Float32, nil
	case "bf16":
		mcfg.ComputeDType = dtypes.BFloat16
		return dtypes.BFloat16, nil
	}
	return dtypes.InvalidDType, fmt.Errorf("model.dtype: unknown %q (f32 or bf16)", name)
}

// PresetConfig is the model of --model.preset, sized for the tokenizer's vocabulary.
func PresetConfig(name string, vocab int) (*llm.Config, error) {
	switch name {
	case "", "tiny": // empty: the default
		// ~0.8M parameters: trains on the built-in task in minutes on 2 cores.
		return &llm.Config{ModelType: llm.Qwen2, VocabSize: vocab, HiddenSize: 128, IntermediateSize: 352,
			NumLayers: 4, NumHeads: 4, NumKVHeads: 2, HeadDim: 32, RMSNormEps: 1e-6, RopeTheta: 1e4,
			TieWordEmbeddings: true, QKVBias: true, MaxPositionEmbeddings: 512}, nil
	case "small":
		return &llm.Config{ModelType: llm.Qwen2, VocabSize: vocab, HiddenSize: 256, IntermediateSize: 704,
			NumLayers: 6, NumHeads: 8, NumKVHeads: 2, HeadDim: 32, RMSNormEps: 1e-6, RopeTheta: 1e4,
			TieWordEmbeddings: true, QKVBias: true, MaxPositionEmbeddings: 1024}, nil
	case "qwen2.5-0.5b":
		cfg := llm.Qwen25_05B()
		if vocab > cfg.VocabSize {
			return nil, fmt.Errorf("model.preset %s: the tokenizer has %d ids, more than the model's %d", name, vocab, cfg.VocabSize)
		}
		return cfg, nil
	}
	return nil, fmt.Errorf("model.preset: unknown %q (known: tiny, small, qwen2.5-0.5b)", name)
}
