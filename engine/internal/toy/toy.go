// Package toy is a copy of cmd/amopo-demo's toy model and data: an Embedding + Dense
// language model scored with amopo.TokenLogProbs and trained with the AMoPO loss and
// Adam. The engine's tests and benchmarks run it on the webgpu and go backends.
package toy

import (
	wtoy "github.com/amopo-engine/amopo/wasm/toy"
	"math/rand/v2"
	"sort"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

// Data is the toy's synthetic batch (wasm/toy, as in cmd/amopo-demo).
type Data = wtoy.Data

// Make builds the demo's batch.
func Make(rng *rand.Rand, batch, k int) Data { return wtoy.MakeData(rng, batch, k) }

// Params are the demo's AMoPO parameters for seed.
func Params(seed uint64) spec.Params {
	p := spec.Defaults(spec.AMoPO)
	p.Dimensions = spec.DefaultDimensions()
	p.Seed = seed
	return p
}

// Step is the demo's training step: it returns the graph function for context.NewExec
// (inputs tokens, response mask, noise) whose outputs are the log-probs, the mask and
// the metrics (as float64, like the demo) named, in order, by *MetricNames.
type Step struct {
	Data        Data
	Params      spec.Params
	MetricNames []string
	Optimizer   optimizers.Interface
}

// NewStep uses the demo's Adam with learning rate 0.02.
func NewStep(data Data, p spec.Params) *Step {
	return &Step{Data: data, Params: p, Optimizer: optimizers.Adam().LearningRate(0.02).Done()}
}

// Fn is the graph function.
func (st *Step) Fn(ctx *context.Context, tok, resp, noise *Node) []*Node {
	b, k, s := st.Data.Batch, st.Data.K, st.Data.SeqLen
	flat := Reshape(tok, b*k*2, s)
	logits := Forward(ctx, st.Data, tok)
	logps, mask := amopo.TokenLogProbs(logits, flat, Reshape(resp, b*k*2, s))
	out := amopo.New(amopo.Inputs{
		Logps: Reshape(logps, b, k, 2, s), Mask: Reshape(mask, b, k, 2, s), Noise: noise,
	}).Params(st.Params).Done()
	st.Optimizer.UpdateGraph(ctx, out.Loss.Graph(), out.Loss)
	nodes := []*Node{Reshape(logps, b, k, 2, s), Reshape(ConvertDType(mask, dtypes.Float32), b, k, 2, s)}
	metrics := out.Metrics()
	st.MetricNames = st.MetricNames[:0]
	for name := range metrics {
		st.MetricNames = append(st.MetricNames, name)
	}
	sort.Strings(st.MetricNames)
	for _, name := range st.MetricNames {
		nodes = append(nodes, ConvertDType(metrics[name], dtypes.Float64))
	}
	return nodes
}

// Noise is the step's [B, K, 2] noise input for step i.
func (st *Step) Noise(i int) *tensors.Tensor {
	return amopo.NoiseTensor(st.Params.Seed, uint64(i), st.Data.Batch, st.Data.K)
}

// Forward is the model's logits [B*K*2, S, V] for the [B, K, 2, S] tokens, with the
// variables of Step.Fn.
func Forward(ctx *context.Context, d Data, tok *Node) *Node {
	return wtoy.Model(ctx, d, Reshape(tok, d.Batch*d.K*2, d.SeqLen))
}
