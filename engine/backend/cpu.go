//go:build !js

package backend

// The engine's fast CPU kernels (packed AVX-512/AVX2 GEMM, element-wise executors) take
// over simplego's executors when imported. Left out of the browser build: its portable
// Go kernel is not measured there yet.
import _ "github.com/amopo-engine/amopo/engine/cpu"
