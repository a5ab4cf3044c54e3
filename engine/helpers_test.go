package engine_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/amopo-engine/amopo/engine"
	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/require"
)

// installHint is what CI needs for a software Vulkan adapter.
const installHint = "apt-get install -y --no-install-recommends mesa-vulkan-drivers libvulkan1 && " +
	"export VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json"

// lavapipeICD is Mesa's software Vulkan driver: the tests pin it, as the platform notes
// advise, unless the environment already chose a driver.
const lavapipeICD = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json"

func init() {
	if os.Getenv("VK_ICD_FILENAMES") == "" {
		if _, err := os.Stat(lavapipeICD); err == nil {
			_ = os.Setenv("VK_ICD_FILENAMES", lavapipeICD)
		}
	}
}

// sharedWebGPU is one device for every test (pipelines are cached on it).
var sharedWebGPU = sync.OnceValues(func() (*engine.Backend, error) { return engine.NewBackend("") })

// newWebGPU returns the webgpu backend; without a Vulkan adapter it fails under CI=true
// and skips otherwise.
func newWebGPU(t testing.TB) *engine.Backend {
	t.Helper()
	b, err := sharedWebGPU()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no WebGPU Vulkan adapter: %v\nInstall one with: %s", err, installHint)
		}
		t.Skipf("no WebGPU Vulkan adapter (%v); install one with: %s", err, installHint)
	}
	return b
}

// goBackend is the reference: GoMLX's pure-Go backend, sequential (platform facts, trap 3).
var goBackend = sync.OnceValue(func() backends.Backend {
	b, err := backends.NewWithConfig("go:ops_sequential")
	if err != nil {
		panic(err)
	}
	return b
})

// floats returns a tensor's values as float64.
func floats(t *tensors.Tensor) []float64 {
	var out []float64
	err := t.ConstFlatData(func(flat any) {
		switch f := flat.(type) {
		case []float32:
			for _, v := range f {
				out = append(out, float64(v))
			}
		case []float64:
			out = append(out, f...)
		case []int32:
			for _, v := range f {
				out = append(out, float64(v))
			}
		case []int64:
			for _, v := range f {
				out = append(out, float64(v))
			}
		case []uint32:
			for _, v := range f {
				out = append(out, float64(v))
			}
		case []bool:
			for _, v := range f {
				out = append(out, map[bool]float64{false: 0, true: 1}[v])
			}
		default:
			panic(fmt.Sprintf("floats: %T not handled", flat))
		}
	})
	if err != nil {
		panic(err)
	}
	return out
}

// requireClose checks |got-want| <= tol*max(1, |want|) elementwise (NaN matches NaN,
// infinities must be equal).
func requireClose(t *testing.T, want, got *tensors.Tensor, tol float64, what string) {
	t.Helper()
	require.True(t, want.Shape().Equal(got.Shape()), "%s: shape %s, want %s", what, got.Shape(), want.Shape())
	w, g := floats(want), floats(got)
	for i := range w {
		switch {
		case math.IsNaN(w[i]):
			require.True(t, math.IsNaN(g[i]), "%s[%d]: got %g, want NaN", what, i, g[i])
		case math.IsInf(w[i], 0):
			require.Equal(t, w[i], g[i], "%s[%d]", what, i)
		default:
			require.InDelta(t, w[i], g[i], tol*math.Max(1, math.Abs(w[i])), "%s[%d] (shape %s)", what, i, want.Shape())
		}
	}
}

// compare runs fn on the go and webgpu backends and checks every output within tol.
func compare(t *testing.T, tol float64, fn func(inputs []*Node) []*Node, args ...*tensors.Tensor) {
	t.Helper()
	wg := newWebGPU(t)
	want, err := MustNewExec(goBackend(), fn).Exec(localClones(args)...)
	require.NoError(t, err)
	got, err := MustNewExec(wg, fn).Exec(localClones(args)...)
	require.NoError(t, err)
	require.Len(t, got, len(want))
	for i := range want {
		requireClose(t, want[i], got[i], tol, fmt.Sprintf("output #%d", i))
	}
}

// localClones gives each backend its own copies: a tensor is bound to one backend.
func localClones(args []*tensors.Tensor) []any {
	out := make([]any, len(args))
	for i, a := range args {
		c, err := a.LocalClone()
		if err != nil {
			panic(err)
		}
		out[i] = c
	}
	return out
}

// randTensor returns a tensor of shape with values uniform in [lo, hi) (ints: [lo, hi)).
func randTensor(rng *rand.Rand, dtype dtypes.DType, lo, hi float64, dims ...int) *tensors.Tensor {
	shape := shapes.Make(dtype, dims...)
	n := shape.Size()
	switch dtype {
	case dtypes.Float32:
		f := make([]float32, n)
		for i := range f {
			f[i] = float32(lo + (hi-lo)*rng.Float64())
		}
		return tensors.FromFlatDataAndDimensions(f, dims...)
	case dtypes.Float64:
		f := make([]float64, n)
		for i := range f {
			f[i] = lo + (hi-lo)*rng.Float64()
		}
		return tensors.FromFlatDataAndDimensions(f, dims...)
	case dtypes.Int32:
		f := make([]int32, n)
		for i := range f {
			f[i] = int32(lo) + int32(rng.IntN(int(hi-lo)))
		}
		return tensors.FromFlatDataAndDimensions(f, dims...)
	case dtypes.Int64:
		f := make([]int64, n)
		for i := range f {
			f[i] = int64(lo) + int64(rng.IntN(int(hi-lo)))
		}
		return tensors.FromFlatDataAndDimensions(f, dims...)
	case dtypes.Bool:
		f := make([]bool, n)
		for i := range f {
			f[i] = rng.IntN(2) == 1
		}
		return tensors.FromFlatDataAndDimensions(f, dims...)
	}
	panic("randTensor: dtype " + dtype.String())
}
