//go:build !js

package backend

// The engine's fast CPU kernels (packed AVX-512/AVX2 GEMM, element-wise executors) take
// over simplego's executors when imported. Left out of the browser build: its portable
// Go kernel is not measured there yet.
import "github.com/amopo-engine/amopo/engine/cpu"

// fastExecutors reports whether engine/cpu's executors replace simplego's now (a
// benchmark can uninstall them to measure GoMLX's own).
func fastExecutors() bool { return cpu.Installed() }
