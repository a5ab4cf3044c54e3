package llm

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"

	"github.com/amopo-engine/amopo/gomlx/safetensors"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Checkpoint file names of the Hugging Face layout.
const (
	ConfigFile       = "config.json"
	WeightsFile      = "model.safetensors"
	WeightsIndexFile = "model.safetensors.index.json"
	// GenerationConfigFile holds generate()'s defaults: here the special token ids.
	GenerationConfigFile = "generation_config.json"
)

// LoadConfig configures Load; finish with Done.
type LoadConfig struct {
	ctx   *context.Context
	dir   string
	dtype dtypes.DType
}

// Load reads a Hugging Face checkpoint directory (config.json plus model.safetensors or a
// sharded model.safetensors.index.json) into ctx, under ctx's scope. Variables that exist are
// overwritten (their shapes must match). Tensors of the files that the model does not use
// (a tied checkpoint's lm_head.weight, old rotary buffers) are ignored.
//
// By default parameters keep the checkpoint's dtype (F16 becomes Float32, as the pure-Go
// backend has no float16); if the checkpoint mixes dtypes, all take the embeddings' one.
func Load(ctx *context.Context, dir string) *LoadConfig {
	return &LoadConfig{ctx: ctx, dir: dir}
}

// DType converts every parameter to dtype (Float32 or BFloat16) while loading.
func (c *LoadConfig) DType(dtype dtypes.DType) *LoadConfig {
	c.dtype = dtype
	return c
}

// Done loads the checkpoint and returns its configuration.
func (c *LoadConfig) Done() (*Config, error) {
	cfg, err := ReadConfig(filepath.Join(c.dir, ConfigFile))
	if err != nil {
		return nil, err
	}
	files, err := weightFiles(c.dir)
	if err != nil {
		return nil, err
	}
	opened := map[string]*safetensors.File{}
	defer func() {
		for _, f := range opened {
			_ = f.Close()
		}
	}()
	open := func(path string) (*safetensors.File, error) {
		if f := opened[path]; f != nil {
			return f, nil
		}
		f, err := safetensors.Open(path)
		if err != nil {
			return nil, fmt.Errorf("llm: loading %s: %w", c.dir, err)
		}
		opened[path] = f
		return f, nil
	}

	dtype := c.dtype
	for _, spec := range cfg.ParamSpecs() {
		path, ok := files(spec.Name)
		if !ok {
			return nil, fmt.Errorf("llm: loading %s: tensor %q missing from the checkpoint", c.dir, spec.Name)
		}
		f, err := open(path)
		if err != nil {
			return nil, err
		}
		if f.Info(spec.Name) == nil {
			return nil, fmt.Errorf("llm: loading %s: tensor %q missing from %s", c.dir, spec.Name, path)
		}
		t, err := f.Tensor(spec.Name)
		if err != nil {
			return nil, fmt.Errorf("llm: loading %s: %w", c.dir, err)
		}
		if dims := t.Shape().Dimensions; !equalDims(dims, spec.Dims) {
			return nil, fmt.Errorf("llm: loading %s: tensor %q in %s has shape %v, config.json wants %v",
				c.dir, spec.Name, path, dims, spec.Dims)
		}
		if dtype == dtypes.InvalidDType {
			dtype = t.DType() // the first spec is the embeddings
		}
		if t, err = safetensors.ConvertFloat(t, dtype); err != nil {
			return nil, fmt.Errorf("llm: loading %s: tensor %q in %s: %w", c.dir, spec.Name, path, err)
		}
		if err := setParam(c.ctx, spec.Name, t); err != nil {
			return nil, fmt.Errorf("llm: loading %s: %w", c.dir, err)
		}
	}
	return cfg, nil
}

func equalDims(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// weightFiles returns a function mapping each tensor name to the file holding it: the
// sharded index's weight_map if there is an index, else the single model.safetensors.
func weightFiles(dir string) (func(name string) (string, bool), error) {
	indexPath := filepath.Join(dir, WeightsIndexFile)
	data, err := os.ReadFile(indexPath)
	if os.IsNotExist(err) {
		single := filepath.Join(dir, WeightsFile)
		if _, err := os.Stat(single); err != nil {
			return nil, fmt.Errorf("llm: loading %s: no %s nor %s: %w", dir, WeightsFile, WeightsIndexFile, err)
		}
		return func(string) (string, bool) { return single, true }, nil
	}
	if err != nil {
		return nil, fmt.Errorf("llm: loading %s: %w", dir, err)
	}
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("llm: loading %s: invalid JSON: %w", indexPath, err)
	}
	if len(index.WeightMap) == 0 {
		return nil, fmt.Errorf("llm: loading %s: missing or empty \"weight_map\"", indexPath)
	}
	return func(name string) (string, bool) {
		file, ok := index.WeightMap[name]
		if !ok {
			return "", false
		}
		return filepath.Join(dir, filepath.Base(file)), true
	}, nil
}

// SaveConfig configures Save; finish with Done.
type SaveConfig struct {
	ctx           *context.Context
	cfg           *Config
	dir           string
	dtype         dtypes.DType
	specialTokens map[string]any
}

// Save writes the model in ctx (under ctx's scope) to dir as config.json + model.safetensors,
// a layout transformers' from_pretrained reads. The directory is created if needed.
func Save(ctx *context.Context, cfg *Config, dir string) *SaveConfig {
	return &SaveConfig{ctx: ctx, cfg: cfg, dir: dir}
}

// DType sets the dtype written (Float32 or BFloat16); by default the parameters' own.
func (c *SaveConfig) DType(dtype dtypes.DType) *SaveConfig {
	c.dtype = dtype
	return c
}

// SpecialTokens records the tokenizer's BOS, EOS and padding ids (-1: none) in config.json
// and in generation_config.json, where transformers' generate looks for them.
func (c *SaveConfig) SpecialTokens(bos, eos, pad int) *SaveConfig {
	c.specialTokens = map[string]any{}
	for name, id := range map[string]int{"bos_token_id": bos, "eos_token_id": eos, "pad_token_id": pad} {
		if id >= 0 {
			c.specialTokens[name] = id
		}
	}
	return c
}

// Done writes the checkpoint.
func (c *SaveConfig) Done() error {
	dtype := c.dtype
	if dtype == dtypes.InvalidDType {
		var err error
		if dtype, err = paramsDType(c.ctx); err != nil {
			return err
		}
	}
	torchName := map[dtypes.DType]string{dtypes.Float32: "float32", dtypes.BFloat16: "bfloat16"}[dtype]
	if torchName == "" {
		return fmt.Errorf("llm: saving %s: dtype %s not supported (Float32 or BFloat16)", c.dir, dtype)
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return fmt.Errorf("llm: saving: %w", err)
	}
	var named []safetensors.Named
	for _, spec := range c.cfg.ParamSpecs() {
		v := Variable(c.ctx, spec.Name)
		if v == nil {
			return fmt.Errorf("llm: saving %s: parameter %q not in context scope %q", c.dir, spec.Name, c.ctx.Scope())
		}
		value, err := v.Value()
		if err != nil {
			return fmt.Errorf("llm: saving %s: parameter %q: %w", c.dir, spec.Name, err)
		}
		var t *tensors.Tensor
		if t, err = safetensors.ConvertFloat(value, dtype); err != nil {
			return fmt.Errorf("llm: saving %s: parameter %q: %w", c.dir, spec.Name, err)
		}
		named = append(named, safetensors.Named{Name: spec.Name, Tensor: t})
	}
	// A stale shard index would shadow the new single file.
	if err := os.Remove(filepath.Join(c.dir, WeightsIndexFile)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("llm: saving: %w", err)
	}
	// transformers refuses safetensors files whose metadata lacks format "pt".
	if err := safetensors.Write(filepath.Join(c.dir, WeightsFile), named, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("llm: saving: %w", err)
	}
	cfgJSON, err := c.cfg.hfConfig(torchName, c.specialTokens)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.dir, ConfigFile), cfgJSON, 0o644); err != nil {
		return fmt.Errorf("llm: saving: %w", err)
	}
	if c.specialTokens != nil {
		gen := maps.Clone(c.specialTokens)
		data, err := json.MarshalIndent(gen, "", "  ")
		if err != nil {
			return fmt.Errorf("llm: encoding %s: %w", GenerationConfigFile, err)
		}
		if err := os.WriteFile(filepath.Join(c.dir, GenerationConfigFile), append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("llm: saving: %w", err)
		}
	}
	return nil
}
