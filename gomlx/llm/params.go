package llm

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/amopo-engine/amopo/gomlx/safetensors"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// ParamKind says how a parameter is initialised at random.
type ParamKind int

const (
	KindWeight ParamKind = iota // normal(0, InitStdDev)
	KindNorm                    // ones
	KindBias                    // zeros
)

// InitStdDev is the standard deviation of random weights, transformers' initializer_range.
const InitStdDev = 0.02

// ParamSpec is one parameter of the model, under its Hugging Face name.
type ParamSpec struct {
	Name string // e.g. "model.layers.0.self_attn.q_proj.weight"
	Dims []int
	Kind ParamKind
}

// Size is the number of elements.
func (p ParamSpec) Size() int64 {
	n := int64(1)
	for _, d := range p.Dims {
		n *= int64(d)
	}
	return n
}

// LayerName returns the Hugging Face name prefix of layer i ("model.layers.<i>").
func LayerName(i int) string { return fmt.Sprintf("model.layers.%d", i) }

// ParamSpecs lists the model's parameters in the Hugging Face order and layout.
func (cfg *Config) ParamSpecs() []ParamSpec {
	h, q, kv := cfg.HiddenSize, cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim
	specs := []ParamSpec{{"model.embed_tokens.weight", []int{cfg.VocabSize, h}, KindWeight}}
	for i := range cfg.NumLayers {
		l := LayerName(i)
		specs = append(specs, ParamSpec{l + ".input_layernorm.weight", []int{h}, KindNorm})
		for _, p := range []struct {
			name string
			out  int
		}{{"q_proj", q}, {"k_proj", kv}, {"v_proj", kv}} {
			specs = append(specs, ParamSpec{l + ".self_attn." + p.name + ".weight", []int{p.out, h}, KindWeight})
			if cfg.QKVBias {
				specs = append(specs, ParamSpec{l + ".self_attn." + p.name + ".bias", []int{p.out}, KindBias})
			}
		}
		specs = append(specs, ParamSpec{l + ".self_attn.o_proj.weight", []int{h, q}, KindWeight})
		if cfg.OutputBias {
			specs = append(specs, ParamSpec{l + ".self_attn.o_proj.bias", []int{h}, KindBias})
		}
		specs = append(specs,
			ParamSpec{l + ".post_attention_layernorm.weight", []int{h}, KindNorm},
			ParamSpec{l + ".mlp.gate_proj.weight", []int{cfg.IntermediateSize, h}, KindWeight},
			ParamSpec{l + ".mlp.up_proj.weight", []int{cfg.IntermediateSize, h}, KindWeight},
			ParamSpec{l + ".mlp.down_proj.weight", []int{h, cfg.IntermediateSize}, KindWeight})
	}
	specs = append(specs, ParamSpec{"model.norm.weight", []int{h}, KindNorm})
	if !cfg.TieWordEmbeddings {
		specs = append(specs, ParamSpec{"lm_head.weight", []int{cfg.VocabSize, h}, KindWeight})
	}
	return specs
}

// NumParams counts the model's parameters without allocating them.
func (cfg *Config) NumParams() int64 {
	var n int64
	for _, p := range cfg.ParamSpecs() {
		n += p.Size()
	}
	return n
}

// ScopeAndName maps a Hugging Face tensor name to the context scope and variable name that
// hold it, relative to ctx's scope: "model.norm.weight" -> ("<scope>/model/norm", "weight").
func ScopeAndName(ctx *context.Context, hfName string) (scope, name string) {
	parts := strings.Split(hfName, ".")
	c := ctx
	for _, p := range parts[:len(parts)-1] {
		c = c.In(p)
	}
	return c.Scope(), parts[len(parts)-1]
}

// HFName maps a variable back to its Hugging Face name, relative to ctx's scope; ok is false
// for variables outside ctx's scope.
func HFName(ctx *context.Context, v *context.Variable) (hfName string, ok bool) {
	base := ctx.Scope()
	if base != context.RootScope {
		base += context.ScopeSeparator
	}
	rel, found := strings.CutPrefix(v.Scope()+context.ScopeSeparator, base)
	if !found {
		return "", false
	}
	return strings.ReplaceAll(rel, context.ScopeSeparator, ".") + v.Name(), true
}

// Variable returns the variable holding the named parameter, or nil.
func Variable(ctx *context.Context, hfName string) *context.Variable {
	scope, name := ScopeAndName(ctx, hfName)
	return ctx.GetVariableByScopeAndName(scope, name)
}

// setParam creates or overwrites the variable of a parameter.
func setParam(ctx *context.Context, hfName string, value *tensors.Tensor) error {
	scope, name := ScopeAndName(ctx, hfName)
	if v := ctx.GetVariableByScopeAndName(scope, name); v != nil {
		if !v.Shape().Equal(value.Shape()) {
			// A variable's shape is fixed once created: start from a fresh context instead.
			return fmt.Errorf("llm: parameter %s exists with shape %s, cannot set it to %s", hfName, v.Shape(), value.Shape())
		}
		return v.SetValue(value)
	}
	ctx.InAbsPath(scope).Checked(false).VariableWithValue(name, value)
	return nil
}

// InitRandom sets every parameter of cfg in ctx (created or overwritten) to a seeded random
// initialisation like transformers': weights normal(0, 0.02), norms one, biases zero. Values are
// drawn in float32 on the host and then rounded to dtype (Float32 or BFloat16): GoMLX's random
// initializers give zeros for bfloat16.
func InitRandom(ctx *context.Context, cfg *Config, seed uint64, dtype dtypes.DType) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("llm: InitRandom: %w", err)
	}
	if dtype != dtypes.Float32 && dtype != dtypes.BFloat16 {
		return fmt.Errorf("llm: InitRandom: dtype %s not supported (Float32 or BFloat16)", dtype)
	}
	for i, spec := range cfg.ParamSpecs() {
		t := tensors.FromShape(shapes.Make(dtypes.Float32, spec.Dims...))
		tensors.MustMutableFlatData(t, func(flat []float32) {
			switch spec.Kind {
			case KindNorm:
				for j := range flat {
					flat[j] = 1
				}
			case KindWeight:
				// One stream per parameter, so that a parameter's values do not depend on the
				// sizes of the others.
				r := rand.New(rand.NewPCG(seed, uint64(i)))
				for j := range flat {
					flat[j] = float32(r.NormFloat64() * InitStdDev)
				}
			}
		})
		conv, err := safetensors.ConvertFloat(t, dtype)
		if err != nil {
			return fmt.Errorf("llm: InitRandom: %s: %w", spec.Name, err)
		}
		if err := setParam(ctx, spec.Name, conv); err != nil {
			return err
		}
	}
	return nil
}

// paramsDType returns the dtype of the model's parameters in ctx (that of the embeddings).
func paramsDType(ctx *context.Context) (dtypes.DType, error) {
	v := Variable(ctx, "model.embed_tokens.weight")
	if v == nil {
		return dtypes.InvalidDType, fmt.Errorf("llm: no model in context scope %q: load a checkpoint or call InitRandom", ctx.Scope())
	}
	return v.DType(), nil
}
