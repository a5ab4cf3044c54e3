package cpu_test

import (
	"testing"
	"time"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/engine/cpu"
	"github.com/amopo-engine/amopo/gomlx/fastgrad"
	"github.com/amopo-engine/amopo/trainer"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// TestParallelExecutorTrainsWithoutHang runs AMoPO training steps of the tiny model on
// simplego's parallel executor (ops_parallel; the default "go" picks it when one graph
// runs at a time), which deadlocked with GoMLX's own DotGeneral (trap 3): the steps must
// finish, and the matmuls must have gone through the fast path. The deadline is a hang
// detector (a step takes well under a second; minutes on a loaded machine), not a speed
// target.
func TestParallelExecutorTrainsWithoutHang(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	if !cpu.Installed() {
		t.Fatalf("hook not installed: %v", cpu.Install())
	}
	fastgrad.RegisterFastDotGrad()
	for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
		backend, err := backends.NewWithConfig("go:ops_parallel")
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := trainer.PresetConfig("tiny", 259)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		before := cpu.FastCalls()
		go func() {
			_, err := trainer.BenchmarkStep(backend, cfg, dtype, spec.Defaults(spec.AMoPO), 2, 32, 6)
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", dtype, err)
			}
		case <-time.After(5 * time.Minute):
			t.Fatalf("%s: 7 training steps on the parallel executor did not finish in 5 minutes: hung", dtype)
		}
		if cpu.FastCalls() == before {
			t.Fatalf("%s: the training steps ran no DotGeneral through the fast path", dtype)
		}
		backend.Finalize()
	}
}
