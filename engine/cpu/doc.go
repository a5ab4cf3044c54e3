// Package cpu is the engine's fast CPU path: a packed, multi-core f32 GEMM with
// Go-assembly FMA micro-kernels, hooked into GoMLX v0.26's pure-Go backend ("go",
// backends/simplego) as its DotGeneral executor. Pure Go and Go assembly, no cgo.
//
// # Use
//
// Importing the package installs the hook (as GoMLX backends register themselves on
// import): a main program adds
//
//	import _ "github.com/amopo-engine/amopo/engine/cpu"
//
// Install does the same explicitly and is idempotent. Installed reports whether the hook is
// in place, Kernel names the micro-kernel in use ("avx512", "avx2" or "generic") and
// FastCalls counts the DotGenerals the fast path ran, so a test can fail when a graph's
// matmuls silently take GoMLX's own executor.
//
// # The GEMM
//
// BLIS's layout: C = A·B is cut into kc-deep slices of the contraction; for each, a block
// of B (kc x nc) and blocks of A (mc x kc) are copied ("packed") into contiguous
// micro-panels in the order the micro-kernel reads them, zero-padded to whole tiles. The
// micro-kernel keeps an MR x NR tile of C in vector registers for the whole slice: 12 x 32
// with AVX-512 (24 zmm accumulators), 6 x 16 with AVX2 + FMA (12 ymm), 4 x 4 in plain Go
// elsewhere (arm64, wasm, or the purego build tag). The kernel is chosen at start from
// golang.org/x/sys/cpu. Operands are strided views, so transposed operands are packed
// directly, without a transposed copy.
//
// # Cores
//
// A call is split into independent tasks (batch items, and strips of rows or columns of C
// for large products), which GOMAXPROCS goroutines take from a shared counter: a core
// slowed by another process takes fewer strips. Small products run on the calling
// goroutine, where a goroutine's start would cost more than the product.
//
// # The simplego hook
//
// simplego has no public extension point for kernels. Its executor table (nodeExecutors,
// indexed by backends.OpType) is reached with //go:linkname and its DotGeneral entry
// replaced; the node's axes (dotGeneralNodeData) are read by reflection. Operand
// dtypes other than float32 go to the executor that was there before. This ties the
// package to GoMLX v0.26.0's internals: Install checks the field names it needs and
// refuses (leaving GoMLX's executor in place, Installed false) if they changed.
package cpu
