package engine_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/amopo-engine/amopo/engine/internal/toy"
	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
)

// initToy returns a context with the toy model's weights initialised on the pure-Go
// backend (same seed, same values for every backend) and detached from it.
func initToy(t testing.TB, data toy.Data) *context.Context {
	ctx := context.New()
	require.NoError(t, ctx.SetRNGStateFromSeed(1))
	// Build the forward model only, on go, to create and initialise its variables.
	fwd, err := context.NewExec(goBackend(), ctx, func(ctx *context.Context, tok *Node) *Node {
		return toy.Forward(ctx, data, tok)
	})
	require.NoError(t, err)
	_, err = fwd.Exec(data.TokensTensor())
	require.NoError(t, err)
	for v := range ctx.IterVariables() {
		value, err := v.Value()
		require.NoError(t, err)
		require.NoError(t, value.ToLocal())
	}
	return ctx
}

// trainToy runs steps of the toy AMoPO training on backend and returns the losses and
// the last step's metrics.
func trainToy(t testing.TB, backend backends.Backend, steps int) ([]float64, map[string]float64) {
	data := toy.Make(rand.New(rand.NewPCG(1, 0)), 8, 4)
	ctx := initToy(t, data)
	st := toy.NewStep(data, toy.Params(1))
	exec, err := context.NewExec(backend, ctx.Checked(false), st.Fn)
	require.NoError(t, err)
	tok, resp := data.TokensTensor(), data.ResponseTensor()
	var losses []float64
	metrics := map[string]float64{}
	for i := range steps {
		outs, err := exec.Exec(tok, resp, st.Noise(i))
		require.NoError(t, err, "step %d", i)
		for j, name := range st.MetricNames {
			metrics[name] = tensors.ToScalar[float64](outs[2+j])
		}
		losses = append(losses, metrics["loss"])
	}
	return losses, metrics
}

func TestToyTrainingMatchesGo(t *testing.T) {
	wg := newWebGPU(t)
	const steps = 20
	want, wantMetrics := trainToy(t, goBackend(), steps)
	got, gotMetrics := trainToy(t, wg, steps)
	worst := 0.0
	for i := range want {
		rel := math.Abs(got[i]-want[i]) / math.Max(math.Abs(want[i]), 1e-12)
		worst = math.Max(worst, rel)
		t.Logf("step %2d: loss go %.7f webgpu %.7f (relative difference %.1e)", i, want[i], got[i], rel)
	}
	t.Logf("largest relative difference of the loss over %d steps: %.2e", steps, worst)
	require.LessOrEqual(t, worst, 1e-4)
	require.Less(t, got[steps-1], got[0]/2, "training lowers the loss")
	for name, w := range wantMetrics {
		require.InDelta(t, w, gotMetrics[name], 1e-3*math.Max(1, math.Abs(w)), name)
	}
}
