package engine_test

import (
	"math/rand/v2"
	"testing"

	"github.com/amopo-engine/amopo/engine"
	"github.com/amopo-engine/amopo/engine/internal/toy"
	"github.com/amopo-engine/amopo/gomlx/fastgrad"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// benchBackends are the backends compared: webgpu (on lavapipe here) and pure Go.
func benchBackends(b *testing.B) []struct {
	name string
	be   backends.Backend
} {
	return []struct {
		name string
		be   backends.Backend
	}{{"go", goBackend()}, {"webgpu", newWebGPU(b)}}
}

// waitFor waits for the device, so that a benchmark times the work and not its submission.
func waitFor(be backends.Backend) {
	if wg, ok := be.(*engine.Backend); ok {
		wg.Sync()
	}
}

func BenchmarkOps(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	cases := []struct {
		name string
		fn   func(in []*Node) *Node
		args []*tensors.Tensor
	}{
		{"Add-7", func(in []*Node) *Node { return Add(in[0], in[1]) },
			[]*tensors.Tensor{randTensor(rng, dtypes.Float32, -1, 1, 7), randTensor(rng, dtypes.Float32, -1, 1, 7)}},
		{"Add-1024x1024", func(in []*Node) *Node { return Add(in[0], in[1]) },
			[]*tensors.Tensor{randTensor(rng, dtypes.Float32, -1, 1, 1024, 1024), randTensor(rng, dtypes.Float32, -1, 1, 1024, 1024)}},
		{"Exp-1024x1024", func(in []*Node) *Node { return Exp(in[0]) },
			[]*tensors.Tensor{randTensor(rng, dtypes.Float32, -1, 1, 1024, 1024)}},
		{"ReduceSum-1024x1024-axis1", func(in []*Node) *Node { return ReduceSum(in[0], 1) },
			[]*tensors.Tensor{randTensor(rng, dtypes.Float32, -1, 1, 1024, 1024)}},
		{"Matmul-256", func(in []*Node) *Node { return Dot(in[0], in[1]) },
			[]*tensors.Tensor{randTensor(rng, dtypes.Float32, -1, 1, 256, 256), randTensor(rng, dtypes.Float32, -1, 1, 256, 256)}},
		{"Matmul-512", func(in []*Node) *Node { return Dot(in[0], in[1]) },
			[]*tensors.Tensor{randTensor(rng, dtypes.Float32, -1, 1, 512, 512), randTensor(rng, dtypes.Float32, -1, 1, 512, 512)}},
		{"Gather-4096x64-from-1000", func(in []*Node) *Node { return Gather(in[0], in[1]) },
			[]*tensors.Tensor{randTensor(rng, dtypes.Float32, -1, 1, 1000, 64), randTensor(rng, dtypes.Int32, 0, 1000, 4096, 1)}},
	}
	for _, c := range cases {
		for _, be := range benchBackends(b) {
			b.Run(c.name+"/"+be.name, func(b *testing.B) {
				exec := MustNewExec(be.be, c.fn)
				args := localClones(c.args) // uploaded once, by the first call
				out := exec.MustExec(args...)[0]
				out.MustFinalizeAll()
				waitFor(be.be)
				b.ResetTimer()
				for range b.N {
					out := exec.MustExec(args...)[0]
					waitFor(be.be)
					out.MustFinalizeAll()
				}
			})
		}
	}
}

// BenchmarkToyTrainingStep times one step of cmd/amopo-demo's training (forward, AMoPO
// loss and metrics, backward, Adam) including the read-back of the loss.
func BenchmarkToyTrainingStep(b *testing.B) {
	for _, be := range benchBackends(b) {
		b.Run(be.name, func(b *testing.B) {
			data := toy.Make(rand.New(rand.NewPCG(1, 0)), 8, 4)
			ctx := initToy(b, data)
			st := toy.NewStep(data, toy.Params(1))
			exec, err := context.NewExec(be.be, ctx.Checked(false), st.Fn)
			if err != nil {
				b.Fatal(err)
			}
			tok, resp := data.TokensTensor(), data.ResponseTensor()
			exec.MustExec(tok, resp, st.Noise(0))
			b.ResetTimer()
			for i := range b.N {
				outs := exec.MustExec(tok, resp, st.Noise(i+1))
				_ = tensors.ToScalar[float64](outs[2]) // a read-back: waits for the step
			}
		})
	}
}

// BenchmarkTrainerModelStep times one training step of the trainer's default model
// (trainer.PresetConfig("tiny", 259), 4-layer Qwen2, AMoPO, AdamW) on TestTrainerModelMatchesGo's
// batch (1 pair x K=4 x 2 sequences x 16 tokens), including the read-back of the loss.
func BenchmarkTrainerModelStep(b *testing.B) {
	for _, be := range benchBackends(b) {
		b.Run(be.name, func(b *testing.B) {
			fastgrad.RegisterFastDotGrad()
			defer fastgrad.RestoreDefaultDotGrad()
			r := newTinyRun(b, be.be, b.N+1)
			r.step(b, 0) // compiles
			b.ResetTimer()
			for i := range b.N {
				r.step(b, i+1)
			}
		})
	}
}
