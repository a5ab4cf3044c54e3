package trainer

import (
	"fmt"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// MeasureMatmulPeak times an n x n x n matmul on the backend (dtype f32 or bf16) and
// returns the best FLOP/s over reps runs after a warm-up: the practical peak a training
// step can be compared with (MFU on the CPU).
func MeasureMatmulPeak(backend backends.Backend, dtype dtypes.DType, n, reps int) (float64, error) {
	exec, err := NewExec(backend, func(a, b *Node) *Node {
		return ReduceAllSum(ConvertDType(MatMul(a, b), dtypes.Float32))
	})
	if err != nil {
		return 0, err
	}
	defer exec.Finalize()
	mk := func(seed float32) *tensors.Tensor {
		t := tensors.FromShape(shapes.Make(dtypes.Float32, n, n))
		tensors.MustMutableFlatData[float32](t, func(flat []float32) {
			for i := range flat {
				flat[i] = seed * float32(i%7-3)
			}
		})
		if dtype == dtypes.Float32 {
			return t
		}
		conv, err := NewExec(backend, func(x *Node) *Node { return ConvertDType(x, dtype) })
		if err != nil {
			return t
		}
		defer conv.Finalize()
		outs, err := conv.Exec(t)
		if err != nil {
			return t
		}
		return outs[0]
	}
	a, b := mk(0.01), mk(0.02)
	best := 0.0
	for i := 0; i <= reps; i++ {
		start := time.Now()
		outs, err := exec.Exec(a, b)
		if err != nil {
			return 0, fmt.Errorf("matmul peak: %w", err)
		}
		_ = tensors.ToScalar[float32](outs[0]) // wait for the result
		elapsed := time.Since(start).Seconds()
		if i > 0 { // the first run includes compilation
			best = max(best, 2*float64(n)*float64(n)*float64(n)/elapsed)
		}
	}
	return best, nil
}
