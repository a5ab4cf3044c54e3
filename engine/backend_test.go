package engine_test

import (
	"testing"

	"github.com/amopo-engine/amopo/engine"
	"github.com/cogentcore/webgpu/wgpu"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/require"
)

func TestAdapterIsVulkan(t *testing.T) {
	b := newWebGPU(t)
	info := b.AdapterInfo()
	t.Logf("adapter: %s; info %+v", b.DeviceDescription(0), info)
	require.Equal(t, wgpu.BackendTypeVulkan, info.BackendType,
		"the adapter must be Vulkan, not an OpenGL fallback (%s)", b.DeviceDescription(0))
	require.NotEmpty(t, info.DriverDescription)
	require.Equal(t, "webgpu", b.String())
}

func TestRegisteredAsWebGPU(t *testing.T) {
	newWebGPU(t) // skips (or fails under CI) without an adapter
	be, err := backends.NewWithConfig("webgpu")
	require.NoError(t, err)
	defer be.Finalize()
	require.Equal(t, "webgpu", be.String())
	t.Setenv(backends.ConfigEnvVar, "webgpu:vulkan")
	be2, err := backends.New()
	require.NoError(t, err)
	defer be2.Finalize()
	require.Equal(t, "webgpu", be2.String())
	out := MustExecOnce(be2, func(x *Node) *Node { return MulScalar(x, 2) }, []float32{1, 2, 3})
	require.Equal(t, []float32{2, 4, 6}, out.Value())
	_, err = engine.New("directx")
	require.ErrorContains(t, err, "unknown config")
}

func TestBuffersRoundTrip(t *testing.T) {
	b := newWebGPU(t)
	for _, flat := range []any{
		[]float32{1.5, -2, 3}, []float64{1e300, -2.5}, []int32{-7, 8, 9, 10}, []int64{1 << 40, -3},
		[]uint32{4000000000}, []bool{true, false, true},
	} {
		shape := tensors.FromAnyValue(flat).Shape()
		buf, err := b.BufferFromFlatData(0, flat, shape)
		require.NoError(t, err)
		got, err := b.BufferShape(buf)
		require.NoError(t, err)
		require.True(t, got.Equal(shape))
		back := tensors.FromShape(shape)
		require.NoError(t, back.MutableFlatData(func(dst any) { require.NoError(t, b.BufferToFlatData(buf, dst)) }))
		require.Equal(t, flat, back.Value(), "%T", flat)
		require.NoError(t, b.BufferFinalize(buf))
		require.Error(t, b.BufferToFlatData(buf, flat), "finalized")
	}
	_, err := b.BufferFromFlatData(0, []float32{1, 2}, shapes.Make(dtypes.Float32, 3))
	require.ErrorContains(t, err, "does not match")
}

func TestExecuteKeepsDataOnDevice(t *testing.T) {
	// Chained executions pass device buffers: outputs are inputs of the next call,
	// donated inputs are recycled, and only the final read-back moves data.
	b := newWebGPU(t)
	exec := MustNewExec(b, func(x *Node) *Node { return AddScalar(MulScalar(x, 2), 1) })
	x := tensors.FromValue([]float32{0, 1, 2})
	for range 5 {
		x = exec.MustExec(x)[0]
		require.False(t, x.IsLocal(), "the output stays on the device")
	}
	require.Equal(t, []float32{31, 63, 95}, x.Value())
}
