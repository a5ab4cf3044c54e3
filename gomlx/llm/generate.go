package llm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX graph style.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// GenerateConfig configures Generate; finish with Done.
type GenerateConfig struct {
	backend     backends.Backend
	ctx         *context.Context
	cfg         *Config
	prompts     [][]int32
	maxNew      int
	temperature float64
	topK        int
	seed        uint64
	eos         []int32
	padID       int32
}

// Generate continues each prompt (token ids; prompts may differ in length) with the model in
// ctx. By default it is greedy and generates 16 tokens; see the options.
//
// Prompts are left-padded to a common length and run through a prefill graph that fills a
// fixed-size KV cache (prompt length + MaxNewTokens slots per layer); then one step graph,
// compiled once and reused for every position, feeds one token per row, writes its key and
// value at the slot given as an input tensor and attends over the filled slots.
// Sampling (argmax, or temperature and top-k) is done on the host from float32 logits.
func Generate(backend backends.Backend, ctx *context.Context, cfg *Config, prompts [][]int32) *GenerateConfig {
	return &GenerateConfig{backend: backend, ctx: ctx, cfg: cfg, prompts: prompts, maxNew: 16}
}

// MaxNewTokens sets how many tokens to generate at most per prompt.
func (c *GenerateConfig) MaxNewTokens(n int) *GenerateConfig { c.maxNew = n; return c }

// Temperature enables sampling at the given temperature; 0 (the default) is greedy.
func (c *GenerateConfig) Temperature(t float64) *GenerateConfig { c.temperature = t; return c }

// TopK restricts sampling to the k most likely tokens (0: no restriction).
func (c *GenerateConfig) TopK(k int) *GenerateConfig { c.topK = k; return c }

// Seed seeds the sampler.
func (c *GenerateConfig) Seed(seed uint64) *GenerateConfig { c.seed = seed; return c }

// EOS sets end-of-sequence ids: a row stops after generating one (it is included).
func (c *GenerateConfig) EOS(ids ...int32) *GenerateConfig { c.eos = ids; return c }

// PadID sets the id fed at padded positions (masked out, so any valid id works; default 0).
func (c *GenerateConfig) PadID(id int32) *GenerateConfig { c.padID = id; return c }

// Done generates, returning the new tokens of each prompt (without the prompt).
func (c *GenerateConfig) Done() ([][]int32, error) {
	cfg := c.cfg
	n := len(c.prompts)
	if n == 0 || c.maxNew <= 0 {
		return make([][]int32, n), nil
	}
	if c.temperature < 0 || c.topK < 0 {
		return nil, fmt.Errorf("llm.Generate: temperature (%g) and top-k (%d) must not be negative", c.temperature, c.topK)
	}
	promptLen := 0
	for i, p := range c.prompts {
		if len(p) == 0 {
			return nil, fmt.Errorf("llm.Generate: prompt %d is empty", i)
		}
		for _, id := range p {
			if id < 0 || int(id) >= cfg.VocabSize {
				return nil, fmt.Errorf("llm.Generate: prompt %d: token id %d out of the vocabulary [0, %d)", i, id, cfg.VocabSize)
			}
		}
		promptLen = max(promptLen, len(p))
	}
	cacheLen := promptLen + c.maxNew
	numCaches := 2 * cfg.NumLayers

	// Left-pad the prompts, so that every row's next token goes to the same cache slot.
	tokens := make([]int32, n*promptLen)
	maskRows := make([][]int32, n)
	valid := make([]bool, n*cacheLen) // filled cache slots, the step graph's attention mask
	for i, p := range c.prompts {
		maskRows[i] = make([]int32, promptLen)
		off := promptLen - len(p)
		for j := range promptLen {
			tokens[i*promptLen+j] = c.padID
			if j >= off {
				tokens[i*promptLen+j] = p[j-off]
				maskRows[i][j] = 1
				valid[i*cacheLen+j] = true
			}
		}
	}
	posRows := HostPositionIDs(maskRows)
	flatMask, flatPos := slices.Concat(maskRows...), slices.Concat(posRows...)
	nextPos := make([]int32, n)
	for i := range n {
		nextPos[i] = posRows[i][promptLen-1] + 1
	}

	prefill, err := context.NewExec(c.backend, c.ctx, func(ctx *context.Context, in []*Node) []*Node {
		caches := make([]*kvCache, cfg.NumLayers)
		for i := range caches {
			caches[i] = &kvCache{length: cacheLen}
		}
		logits := forward(ctx, cfg, in[0], in[2], attentionMask(in[1]), caches, true)
		out := []*Node{ConvertDType(Reshape(logits, n, cfg.VocabSize), dtypes.Float32)}
		for _, kv := range caches {
			out = append(out, kv.newK, kv.newV)
		}
		return out
	})
	if err != nil {
		return nil, fmt.Errorf("llm.Generate: %w", err)
	}
	defer prefill.Finalize()
	step, err := context.NewExec(c.backend, c.ctx, func(ctx *context.Context, in []*Node) []*Node {
		token, pos, validMask, slot := in[0], in[1], in[2], in[3]
		caches := make([]*kvCache, cfg.NumLayers)
		for i := range caches {
			caches[i] = &kvCache{length: cacheLen, slot: slot, k: in[4+2*i], v: in[5+2*i]}
		}
		logits := forward(ctx, cfg, token, pos, Reshape(validMask, n, 1, cacheLen), caches, false)
		out := []*Node{ConvertDType(Reshape(logits, n, cfg.VocabSize), dtypes.Float32)}
		for _, kv := range caches {
			out = append(out, kv.newK, kv.newV)
		}
		return out
	})
	if err != nil {
		return nil, fmt.Errorf("llm.Generate: %w", err)
	}
	defer step.Finalize()
	// Every step has the same input shapes, so the step graph compiles once: a second
	// compilation would be a bug (and is an error with this limit).
	prefill.SetMaxCache(1)
	step.SetMaxCache(1)

	outs, err := prefill.Exec(
		tensors.FromFlatDataAndDimensions(tokens, n, promptLen),
		tensors.FromFlatDataAndDimensions(flatMask, n, promptLen),
		tensors.FromFlatDataAndDimensions(flatPos, n, promptLen))
	if err != nil {
		return nil, fmt.Errorf("llm.Generate: prefill: %w", err)
	}
	rng := rand.New(rand.NewPCG(c.seed, 0x9e3779b97f4a7c15))
	generated := make([][]int32, n)
	done := make([]bool, n)
	var caches []*tensors.Tensor
	defer func() { finalizeAll(caches) }()
	for t := 0; ; t++ {
		logits := tensors.MustCopyFlatData[float32](outs[0])
		finalizeAll(outs[:1])
		finalizeAll(caches)
		caches = outs[1:]
		next := make([]int32, n)
		allDone := true
		for i := range n {
			next[i] = c.padID
			if done[i] {
				continue
			}
			next[i] = c.sample(logits[i*cfg.VocabSize:(i+1)*cfg.VocabSize], rng)
			generated[i] = append(generated[i], next[i])
			done[i] = slices.Contains(c.eos, next[i])
			allDone = allDone && done[i]
		}
		if allDone || t+1 == c.maxNew {
			return generated, nil
		}
		// Feed the sampled tokens at slot promptLen+t.
		slot := promptLen + t
		pos := make([]int32, n)
		for i := range n {
			valid[i*cacheLen+slot] = true
			pos[i] = nextPos[i] + int32(t)
		}
		args := []any{
			tensors.FromFlatDataAndDimensions(next, n, 1),
			tensors.FromFlatDataAndDimensions(pos, n, 1),
			tensors.FromFlatDataAndDimensions(valid, n, cacheLen),
			tensors.FromScalar(int32(slot)),
		}
		for _, ct := range caches {
			args = append(args, ct)
		}
		if len(args) != 4+numCaches {
			panic("llm.Generate: cache count mismatch")
		}
		if outs, err = step.Exec(args...); err != nil {
			return nil, fmt.Errorf("llm.Generate: step %d: %w", t+1, err)
		}
	}
}

func finalizeAll(ts []*tensors.Tensor) {
	for _, t := range ts {
		_ = t.FinalizeAll()
	}
}

// sample picks the next token from one row of logits: the first maximum when greedy, else a
// draw from softmax(logits / temperature) over the top-k.
func (c *GenerateConfig) sample(logits []float32, rng *rand.Rand) int32 {
	if c.temperature == 0 {
		best := 0
		for j, v := range logits {
			if v > logits[best] {
				best = j
			}
		}
		return int32(best)
	}
	ids := make([]int, len(logits))
	for j := range ids {
		ids[j] = j
	}
	if c.topK > 0 && c.topK < len(ids) {
		slices.SortStableFunc(ids, func(a, b int) int {
			switch {
			case logits[a] > logits[b]:
				return -1
			case logits[a] < logits[b]:
				return 1
			}
			return 0
		})
		ids = ids[:c.topK]
	}
	mx := math.Inf(-1)
	for _, j := range ids {
		mx = max(mx, float64(logits[j]))
	}
	weights := make([]float64, len(ids))
	var sum float64
	for k, j := range ids {
		weights[k] = math.Exp((float64(logits[j]) - mx) / c.temperature)
		sum += weights[k]
	}
	u := rng.Float64() * sum
	for k, w := range weights {
		u -= w
		if u < 0 {
			return int32(ids[k])
		}
	}
	return int32(ids[len(ids)-1])
}
