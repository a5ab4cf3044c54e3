package llm

import (
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX graph style.
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/pkg/errors"
)

// Forward builds the logits [N, S, V] of the model for token ids [N, S], attention mask [N, S]
// (non-zero/true for real tokens) and position ids [N, S] (see PositionIDs). Logits have the
// parameters' dtype, as in transformers.
//
// The parameters must already be in ctx (Load or InitRandom): Forward creates no variables
// and panics, as graph functions do, if one is missing or misshaped.
//
// No Slice is applied to anything that depends on a trainable parameter (GoMLX v0.26's Slice
// gradient is a Pad, which the pure-Go backend lacks), so gradients build on every backend.
func Forward(ctx *context.Context, cfg *Config, tokens, mask, positions *Node) *Node {
	return forward(ctx, cfg, tokens, positions, attentionMask(mask), nil, false)
}

// ForwardHidden is Forward stopped before the LM head: it returns the final (normed) hidden
// states [N, S, H] and the head weight [V, H] (the embedding when cfg.TieWordEmbeddings, else
// lm_head), with logits = hidden · headᵀ. It lets a caller that only needs a few numbers per
// position (a log-prob, a loss) avoid materialising the [N, S, V] logits at once; see
// amopo.TokenLogProbsFromHidden.
func ForwardHidden(ctx *context.Context, cfg *Config, tokens, mask, positions *Node) (hidden, head *Node) {
	return forwardHidden(ctx, cfg, tokens, positions, attentionMask(mask), nil, false)
}

// HeadLogits applies the LM head: logits [..., V] = hidden [..., H] · head[V, H]ᵀ.
func HeadLogits(hidden, head *Node) *Node {
	return DotGeneral(hidden, []int{-1}, nil, head, []int{1}, nil)
}

// PositionIDs computes transformers' position ids from an attention mask [N, S]:
// cumsum(mask) - 1 clamped at 0, so that the first real token is at position 0 whether the
// batch is left- or right-padded. Returns Int32.
func PositionIDs(mask *Node) *Node {
	m := maskToInt32(mask)
	return MaxScalar(AddScalar(CumSum(m, -1), -1), 0)
}

// HostPositionIDs is PositionIDs on the host, for rows of a mask.
func HostPositionIDs(mask [][]int32) [][]int32 {
	out := make([][]int32, len(mask))
	for i, row := range mask {
		out[i] = make([]int32, len(row))
		var sum int32
		for j, m := range row {
			if m != 0 {
				sum++
			}
			out[i][j] = max(sum-1, 0)
		}
	}
	return out
}

func maskToInt32(mask *Node) *Node {
	if mask.DType() == dtypes.Bool {
		return ConvertDType(mask, dtypes.Int32)
	}
	return ConvertDType(NotEqual(mask, ScalarZero(mask.Graph(), mask.DType())), dtypes.Int32)
}

func maskToBool(mask *Node) *Node {
	if mask.DType() == dtypes.Bool {
		return mask
	}
	return NotEqual(mask, ScalarZero(mask.Graph(), mask.DType()))
}

// attentionMask returns the causal + key-padding mask [N, S, S]: query s sees key t iff
// t <= s and key t is a real token.
func attentionMask(mask *Node) *Node {
	g := mask.Graph()
	n, s := mask.Shape().Dimensions[0], mask.Shape().Dimensions[1]
	shape := shapes.Make(dtypes.Int32, s, s)
	causal := GreaterOrEqual(Iota(g, shape, 0), Iota(g, shape, 1))
	causal = BroadcastToDims(InsertAxes(causal, 0), n, s, s)
	keys := BroadcastToDims(InsertAxes(maskToBool(mask), 1), n, s, s)
	return LogicalAnd(causal, keys)
}

// kvCache describes how a layer's keys and values meet a fixed-size cache of length L
// ([N, L, KVH, D] buffers), in one of two modes:
//
//   - prefill (k == nil): attention runs over the new tokens only; their keys and values are
//     written to slots [0, S) of a fresh cache (the rest zeros).
//   - step (k != nil): the single new token's key and value are written at slot (a scalar
//     Int32 input, so that one compiled graph serves every position) and attention runs over
//     the whole cache under the caller's mask, which marks the filled slots.
//
// The updated caches are returned in newK, newV.
type kvCache struct {
	length     int
	k, v       *Node
	slot       *Node
	newK, newV *Node
}

// forward is Forward with the mask already expanded to [N, S, T] and optional caches (one per
// layer, nil for none). With lastOnly, only the last position's logits are computed ([N, 1, V]):
// that slices activations, so it is for inference only.
func forward(ctx *context.Context, cfg *Config, tokens, positions, mask *Node, caches []*kvCache, lastOnly bool) *Node {
	return HeadLogits(forwardHidden(ctx, cfg, tokens, positions, mask, caches, lastOnly))
}

// forwardHidden is forward without the LM head: the final hidden states and the head weight.
func forwardHidden(ctx *context.Context, cfg *Config, tokens, positions, mask *Node, caches []*kvCache, lastOnly bool) (hidden, head *Node) {
	g := tokens.Graph()
	embed := param(ctx, cfg, g, "model.embed_tokens.weight", cfg.VocabSize, cfg.HiddenSize)
	dtype := embed.DType()
	if tokens.Rank() != 2 || !tokens.DType().IsInt() {
		panic(errors.Errorf("llm.Forward: tokens must be integer ids [N, S], got %s", tokens.Shape()))
	}
	x := Gather(embed, InsertAxes(tokens, -1)) // [N, S, H]
	cos, sin := ropeTables(cfg, positions, dtype)
	for i := range cfg.NumLayers {
		var cache *kvCache
		if caches != nil {
			cache = caches[i]
		}
		x = decoderLayer(ctx, cfg, LayerName(i), x, cos, sin, mask, cache)
	}
	if lastOnly {
		x = Slice(x, AxisRange(), AxisElem(-1))
	}
	x = rmsNorm(ctx, cfg, "model.norm", x)
	head = embed
	if !cfg.TieWordEmbeddings {
		head = param(ctx, cfg, g, "lm_head.weight", cfg.VocabSize, cfg.HiddenSize)
	}
	return x, head
}

// param returns the value of a parameter, checking its shape, in cfg.ComputeDType when that
// is set (the gradient flows back through the conversion to the stored parameter); it
// panics if the parameter is missing.
func param(ctx *context.Context, cfg *Config, g *Graph, hfName string, dims ...int) *Node {
	v := Variable(ctx, hfName)
	if v == nil {
		panic(errors.Errorf("llm: parameter %s not found in context scope %q: load a checkpoint or call InitRandom", hfName, ctx.Scope()))
	}
	if !shapes.Make(v.DType(), dims...).Equal(v.Shape()) {
		panic(errors.Errorf("llm: parameter %s has shape %s, the config wants %v", hfName, v.Shape(), dims))
	}
	value := v.ValueGraph(g)
	if cfg.ComputeDType != dtypes.InvalidDType && value.DType() != cfg.ComputeDType {
		value = ConvertDType(value, cfg.ComputeDType)
	}
	return value
}

// linear applies a Hugging Face Linear: x @ W^T (+ b), W being [out, in].
func linear(ctx *context.Context, cfg *Config, name string, x *Node, out, in int, bias bool) *Node {
	w := param(ctx, cfg, x.Graph(), name+".weight", out, in)
	y := DotGeneral(x, []int{-1}, nil, w, []int{1}, nil)
	if bias {
		y = Add(y, ExpandLeftToRank(param(ctx, cfg, x.Graph(), name+".bias", out), y.Rank()))
	}
	return y
}

// rmsNorm computes in float32 and multiplies by the weight in the input dtype, like
// transformers' Qwen2RMSNorm / LlamaRMSNorm.
func rmsNorm(ctx *context.Context, cfg *Config, name string, x *Node) *Node {
	w := param(ctx, cfg, x.Graph(), name+".weight", cfg.HiddenSize)
	dtype := x.DType()
	xf := ConvertDType(x, dtypes.Float32)
	variance := ReduceAndKeep(Square(xf), ReduceMean, -1)
	// x / sqrt(.) rather than x * rsqrt(.): GoMLX v0.26 has no gradient for Rsqrt.
	xf = Div(xf, Sqrt(AddScalar(variance, cfg.RMSNormEps)))
	return Mul(ExpandLeftToRank(w, x.Rank()), ConvertDType(xf, dtype))
}

func decoderLayer(ctx *context.Context, cfg *Config, name string, x, cos, sin, mask *Node, cache *kvCache) *Node {
	h := rmsNorm(ctx, cfg, name+".input_layernorm", x)
	x = Add(x, attention(ctx, cfg, name+".self_attn", h, cos, sin, mask, cache))
	h = rmsNorm(ctx, cfg, name+".post_attention_layernorm", x)
	return Add(x, mlp(ctx, cfg, name+".mlp", h))
}

// mlp is the SwiGLU feed-forward: down(silu(gate(x)) * up(x)).
func mlp(ctx *context.Context, cfg *Config, name string, x *Node) *Node {
	h, im := cfg.HiddenSize, cfg.IntermediateSize
	gate := linear(ctx, cfg, name+".gate_proj", x, im, h, false)
	up := linear(ctx, cfg, name+".up_proj", x, im, h, false)
	return linear(ctx, cfg, name+".down_proj", Mul(Mul(gate, Sigmoid(gate)), up), h, im, false)
}

// attention is grouped-query self-attention with RoPE. Query heads are viewed as
// [KVH, G] (head = kvHead*G + g, the order of transformers' repeat_kv), so that each key/value
// head serves its G query heads through DotGeneral batch axes, without copying K and V.
func attention(ctx *context.Context, cfg *Config, name string, x, cos, sin, mask *Node, cache *kvCache) *Node {
	n, s := x.Shape().Dimensions[0], x.Shape().Dimensions[1]
	h, d, kvh := cfg.HiddenSize, cfg.HeadDim, cfg.NumKVHeads
	grp := cfg.NumHeads / kvh
	q := linear(ctx, cfg, name+".q_proj", x, cfg.NumHeads*d, h, cfg.QKVBias)
	k := linear(ctx, cfg, name+".k_proj", x, kvh*d, h, cfg.QKVBias)
	v := linear(ctx, cfg, name+".v_proj", x, kvh*d, h, cfg.QKVBias)
	q = applyRope(Reshape(q, n, s, kvh, grp, d), InsertAxes(cos, 2, 2), InsertAxes(sin, 2, 2))
	k = applyRope(Reshape(k, n, s, kvh, d), InsertAxes(cos, 2), InsertAxes(sin, 2))
	v = Reshape(v, n, s, kvh, d)

	if cache != nil {
		if cache.k == nil {
			// Prefill: attend over the new tokens, store them in slots [0, S).
			pad := Zeros(x.Graph(), shapes.Make(k.DType(), n, cache.length-s, kvh, d))
			cache.newK = Concatenate([]*Node{k, pad}, 1)
			cache.newV = Concatenate([]*Node{v, pad}, 1)
		} else {
			// Step: write the new token at the slot, attend over the whole cache.
			g := x.Graph()
			slots := Iota(g, shapes.Make(dtypes.Int32, cache.length), 0)
			at := Reshape(Equal(slots, ConvertDType(cache.slot, dtypes.Int32)), 1, cache.length, 1, 1)
			at = BroadcastToDims(at, n, cache.length, kvh, d)
			cache.newK = Where(at, BroadcastToDims(k, n, cache.length, kvh, d), cache.k)
			cache.newV = Where(at, BroadcastToDims(v, n, cache.length, kvh, d), cache.v)
			k, v = cache.newK, cache.newV
		}
	}

	// scores: [N, KVH, S, G, T], in float32 as transformers' eager softmax.
	t := k.Shape().Dimensions[1]
	scores := DotGeneral(q, []int{4}, []int{0, 2}, k, []int{3}, []int{0, 2})
	scores = MulScalar(ConvertDType(scores, dtypes.Float32), 1/math.Sqrt(float64(d)))
	m := BroadcastToDims(Reshape(mask, n, 1, s, 1, t), n, kvh, s, grp, t)
	scores = Where(m, scores, Scalar(x.Graph(), dtypes.Float32, -math.MaxFloat32))
	probs := ConvertDType(Softmax(scores, -1), v.DType())
	out := DotGeneral(probs, []int{4}, []int{0, 1}, v, []int{1}, []int{0, 2}) // [N, KVH, S, G, D]
	out = Reshape(TransposeAllAxes(out, 0, 2, 1, 3, 4), n, s, cfg.NumHeads*d)
	return linear(ctx, cfg, name+".o_proj", out, h, cfg.NumHeads*d, cfg.OutputBias)
}

// ropeTables returns cos and sin [N, S, D] for the positions, computed in float32 like
// transformers (inv_freq = theta^(-2i/D), angles duplicated over both halves), then cast.
func ropeTables(cfg *Config, positions *Node, dtype dtypes.DType) (cos, sin *Node) {
	g := positions.Graph()
	half := cfg.HeadDim / 2
	invFreq := make([]float32, half)
	for i := range invFreq {
		invFreq[i] = float32(1 / math.Pow(cfg.RopeTheta, float64(2*i)/float64(cfg.HeadDim)))
		if cfg.RopeFreqsBF16 {
			invFreq[i] = roundToBF16(invFreq[i])
		}
	}
	angles := Mul(InsertAxes(ConvertDType(positions, dtypes.Float32), -1), Reshape(Const(g, invFreq), 1, 1, half)) // [N, S, D/2]
	angles = Concatenate([]*Node{angles, angles}, -1)
	return ConvertDType(Cos(angles), dtype), ConvertDType(Sin(angles), dtype)
}

// applyRope computes x*cos + rotate_half(x)*sin over the last axis. rotate_half(x) =
// [-x2, x1] is a product with a constant signed permutation matrix rather than two slices
// and a concatenation, because Slice has no gradient on the pure-Go backend (its gradient
// is a Pad); the product is exact, each output being one ±x term plus zeros.
func applyRope(x, cos, sin *Node) *Node {
	d := x.Shape().Dimensions[x.Rank()-1]
	rotated := DotGeneral(x, []int{-1}, nil, rotateHalfMatrix(x.Graph(), d, x.DType()), []int{0}, nil)
	return Add(Mul(x, cos), Mul(rotated, sin))
}

func rotateHalfMatrix(g *Graph, d int, dtype dtypes.DType) *Node {
	h := d / 2
	r := make([]float32, d*d) // r[i*d+j]: contribution of x[i] to output j
	for j := range h {
		r[(j+h)*d+j] = -1
		r[j*d+j+h] = 1
	}
	return ConvertDType(Const(g, tensors.FromFlatDataAndDimensions(r, d, d)), dtype)
}

// roundToBF16 rounds to the nearest bfloat16 value (ties to even), kept as a float32.
func roundToBF16(f float32) float32 {
	b := math.Float32bits(f)
	b += 0x7FFF + (b>>16)&1
	return math.Float32frombits(b &^ 0xFFFF)
}
