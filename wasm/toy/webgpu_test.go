package toy

import (
	"math"
	"os"
	"testing"

	"github.com/amopo-engine/amopo/engine"
	"github.com/gomlx/gomlx/backends"
	"github.com/stretchr/testify/require"
)

func losses(t *testing.T, step func() (map[string]float64, error), n int) []float64 {
	var out []float64
	for i := 0; i < n; i++ {
		m, err := step()
		require.NoError(t, err)
		require.Equal(t, float64(i), m["step"])
		out = append(out, m["loss"])
	}
	return out
}

// TestWebGPUStepsLikeThePureGoBackend: on webgpu (lavapipe natively) the losses are the
// pure-Go backend's within 1e-4 relative.
func TestWebGPUStepsLikeThePureGoBackend(t *testing.T) {
	const steps = 5
	goB, err := backends.NewWithConfig(Backend)
	require.NoError(t, err)
	ref, err := New(goB, "amopo", "gaussian", 1)
	require.NoError(t, err)
	defer ref.Close()
	want := losses(t, ref.Step, steps)

	if os.Getenv("VK_ICD_FILENAMES") == "" {
		_ = os.Setenv("VK_ICD_FILENAMES", "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json")
	}
	wg, err := engine.NewBackend("")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no WebGPU adapter: %v", err)
		}
		t.Skipf("no WebGPU adapter: %v", err)
	}
	tr, err := New(wg, "amopo", "gaussian", 1)
	require.NoError(t, err)
	defer tr.Close()
	got := losses(t, tr.Step, steps)
	for i := range want {
		require.InDelta(t, want[i], got[i], 1e-4*math.Abs(want[i]), "step %d", i)
	}
	t.Logf("losses: go %v, webgpu %v", want, got)
}
