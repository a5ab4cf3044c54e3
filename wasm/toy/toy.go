// Package toy is the toy AMoPO training run of cmd/amopo-demo as a library the web page's
// wasm steps one training step at a time: the same synthetic data, model, optimizer, seed
// and metrics, so a browser run prints the numbers `go run ./cmd/amopo-demo --metrics`
// writes. The step graph runs on any GoMLX backend (the pure-Go one, or "webgpu" over the
// browser's navigator.gpu) while the variables are always initialised on the pure-Go
// backend, since the webgpu backend has no RNGBitGenerator: the initial weights, and the
// losses up to float32 rounding, are the same whichever backend steps. cmd/amopo-demo and
// the engine's tests build the same data and model from here (MakeData, Model).
package toy

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego" // the pure-Go backend initialises the variables
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

// Backend is the pure-Go backend configuration that initialises the variables and that the
// page trains on without WebGPU: sequential (GoMLX v0.26's parallel executor can deadlock on
// training graphs, and wasm is single-threaded anyway).
const Backend = "go:ops_sequential"

// Data is a synthetic batch (cmd/amopo-demo's toy): per pair and dimension, a marker
// token for the dimension template, a prompt token, then a response; chosen responses use
// tokens the rejected ones do not, with a per-dimension share of "hard" pairs whose
// rejected response looks like a chosen one, so the dimensions learn at different speeds.
type Data struct {
	Batch, K, SeqLen, Vocab int
	Tokens                  []int32   // [B, K, 2, S]
	Response                []float32 // [B, K, 2, S]
}

// MakeData builds the toy's batch of `batch` pairs and k dimensions.
func MakeData(rng *rand.Rand, batch, k int) Data {
	t := Data{Batch: batch, K: k, SeqLen: 10, Vocab: 32}
	for b := 0; b < batch; b++ {
		prompt := int32(k + rng.IntN(4))
		for d := 0; d < k; d++ {
			hard := rng.Float64() < float64(d)/float64(2*k)
			for side := 0; side < 2; side++ {
				n := 2 + rng.IntN(t.SeqLen-4) // response length 2..seqLen-3
				seq := []int32{int32(d), prompt}
				mask := []float32{0, 0}
				for i := 0; i < n; i++ {
					base := int32(12)
					if side == 1 && !hard {
						base = 22
					}
					seq = append(seq, base+int32(rng.IntN(10)))
					mask = append(mask, 1)
				}
				for len(seq) < t.SeqLen {
					seq, mask = append(seq, 0), append(mask, 0)
				}
				t.Tokens, t.Response = append(t.Tokens, seq...), append(t.Response, mask...)
			}
		}
	}
	return t
}

// TokensTensor is the batch's [B, K, 2, S] token ids.
func (d Data) TokensTensor() *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(d.Tokens, d.Batch, d.K, 2, d.SeqLen)
}

// ResponseTensor is the batch's [B, K, 2, S] response mask.
func (d Data) ResponseTensor() *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(d.Response, d.Batch, d.K, 2, d.SeqLen)
}

// Model is the toy LM, a bigram model: logits [N, S, Vocab] for flat [N, S] token ids.
func Model(ctx *context.Context, d Data, flat *Node) *Node {
	return layers.Dense(ctx.In("lm"), layers.Embedding(ctx.In("embed"), flat, dtypes.Float32, d.Vocab, 16), true, d.Vocab)
}

// Trainer runs the toy model's training steps.
type Trainer struct {
	Params      spec.Params
	backend     backends.Backend
	exec        *context.Exec
	tok, resp   *tensors.Tensor
	metricNames []string
	step        int
}

// New builds the trainer of cmd/amopo-demo for a reference-free loss, a policy and a seed,
// its step running on backend (which the Trainer owns from then on, and finalizes in Close).
func New(backend backends.Backend, lossName, policyName string, seed uint64) (t *Trainer, err error) {
	defer func() { // GoMLX reports graph errors by panicking.
		if r := recover(); r != nil {
			err = fmt.Errorf("toy: %v", r)
		}
		if err != nil {
			backend.Finalize()
		}
	}()
	loss, err := spec.ParseLoss(lossName)
	if err != nil {
		return nil, err
	}
	if loss.NeedsReference() {
		return nil, fmt.Errorf("loss %q needs a reference model; the toy trains reference-free losses only", loss)
	}
	p := spec.Defaults(loss)
	p.Dimensions = spec.DefaultDimensions()
	if p.Policy, err = spec.ParsePolicy(policyName); err != nil {
		return nil, err
	}
	if p.Policy == spec.Fixed {
		p.Weights = []float64{1, 1, 1, 1}
	}
	p.Seed = seed
	if err := p.Validate(); err != nil {
		return nil, err
	}
	d := MakeData(rand.New(rand.NewPCG(seed, 0)), 8, p.K())
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(int64(seed)); err != nil {
		return nil, fmt.Errorf("toy: seeding: %w", err)
	}
	optimizer := optimizers.Adam().LearningRate(0.02).Done()
	b, k, s := d.Batch, d.K, d.SeqLen
	t = &Trainer{Params: p, backend: backend,
		tok:  d.TokensTensor(),
		resp: d.ResponseTensor()}
	params := p
	model := func(ctx *context.Context, flat *Node) *Node {
		return Model(ctx, d, flat)
	}
	t.exec, err = context.NewExec(backend, ctx.Checked(false), func(ctx *context.Context, tok, resp, noise *Node) []*Node {
		flat := Reshape(tok, b*k*2, s)
		logits := model(ctx, flat)
		logps, mask := amopo.TokenLogProbs(logits, flat, Reshape(resp, b*k*2, s))
		out := amopo.New(amopo.Inputs{
			Logps: Reshape(logps, b, k, 2, s), Mask: Reshape(mask, b, k, 2, s), Noise: noise,
		}).Params(params).Done()
		optimizer.UpdateGraph(ctx, out.Loss.Graph(), out.Loss)
		metrics := out.Metrics()
		t.metricNames = t.metricNames[:0]
		for name := range metrics {
			t.metricNames = append(t.metricNames, name)
		}
		sort.Strings(t.metricNames)
		nodes := make([]*Node, 0, len(metrics))
		for _, name := range t.metricNames {
			nodes = append(nodes, ConvertDType(metrics[name], dtypes.Float64))
		}
		return nodes
	})
	if err != nil {
		return nil, fmt.Errorf("toy: building the training step: %w", err)
	}
	// The model's variables: created and initialised by a forward pass on the pure-Go
	// backend, with the same seed and in the same order as wasm/toy's first Exec does it (the
	// optimizer's state, zeros, is initialised by the first step on backend), then detached.
	initBackend, err := backends.NewWithConfig(Backend)
	if err != nil {
		return nil, fmt.Errorf("toy: backend %q: %w", Backend, err)
	}
	defer initBackend.Finalize()
	fwd, err := context.NewExec(initBackend, ctx, func(ctx *context.Context, tok *Node) *Node {
		return model(ctx, Reshape(tok, b*k*2, s))
	})
	if err != nil {
		return nil, fmt.Errorf("toy: initialising the variables: %w", err)
	}
	outs, err := fwd.Exec(t.tok)
	if err != nil {
		return nil, fmt.Errorf("toy: initialising the variables: %w", err)
	}
	outs[0].FinalizeAll()
	fwd.Finalize()
	if err := t.tok.ToLocal(); err != nil { // it was copied to initBackend
		return nil, fmt.Errorf("toy: %w", err)
	}
	for v := range ctx.IterVariables() {
		value, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("toy: variable %s: %w", v.ScopeAndName(), err)
		}
		if err := value.ToLocal(); err != nil {
			return nil, fmt.Errorf("toy: variable %s: %w", v.ScopeAndName(), err)
		}
	}
	return t, nil
}

// Step runs one training step and returns its metrics under the demo's names ("step",
// "loss", "weights/<d>_alpha", ...), the metrics of the parameters before the update.
func (t *Trainer) Step() (metrics map[string]float64, err error) {
	defer func() { // GoMLX reports graph errors by panicking; the page wants an error.
		if r := recover(); r != nil {
			err = fmt.Errorf("toy: step %d: %v", t.step, r)
		}
	}()
	noise := amopo.NoiseTensor(t.Params.Seed, uint64(t.step), 8, t.Params.K())
	outs, err := t.exec.Exec(t.tok, t.resp, noise)
	if err != nil {
		return nil, fmt.Errorf("toy: step %d: %w", t.step, err)
	}
	metrics = map[string]float64{"step": float64(t.step)}
	for i, name := range t.metricNames {
		metrics[name] = tensors.ToScalar[float64](outs[i])
		outs[i].FinalizeAll()
	}
	t.step++
	return metrics, nil
}

// Close releases the backend.
func (t *Trainer) Close() {
	t.exec.Finalize()
	t.backend.Finalize()
}
