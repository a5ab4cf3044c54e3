// Package cpu is the engine's fast CPU path: a packed, multi-core f32 GEMM with
// Go-assembly FMA micro-kernels, hooked into GoMLX v0.26's pure-Go backend ("go",
// backends/simplego) as its DotGeneral executor, and multi-core float32 executors for the
// element-wise ops a training step spends the rest of its time in (Add, Sub, Mul, Div with
// broadcasting, Exp, Logistic, ReduceSum, ReduceMax, BroadcastInDim, Transpose, Erf).
// Pure Go and Go assembly, no cgo.
//
// # Use
//
// Importing the package installs the hook (as GoMLX backends register themselves on
// import): a main program adds
//
//	import _ "github.com/amopo-engine/amopo/engine/cpu"
//
// Install does the same explicitly and is idempotent; Uninstall puts GoMLX's executors
// back (to measure or compare against them). Installed reports whether the hooks are in
// place, Kernel names the micro-kernel in use ("avx512", "avx2" or "generic"), FastCalls
// counts the DotGenerals the fast path ran and OpCalls the other ops, so a test can fail
// when a graph's matmuls silently take GoMLX's own executor.
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
// # Element-wise ops
//
// An element-wise op walks its output in rows along the last axis, each operand with
// per-axis strides (0 on broadcast axes); axes that every operand walks as one are
// merged first (coalesceAxes), so equal shapes are one long row cut into chunks and a
// broadcast [rows, 1] operand gives rows of the full inner length. On amd64 the rows of
// Add, Sub, Mul and Div run AVX loops (binary_amd64.s, from gen_binary.go), Exp and
// Logistic a vector exp (exp_amd64.s, AVX2 + FMA): four values at a time in float64,
// a degree-10 Taylor polynomial after range reduction, so the float32 result is
// float32(math.Exp) nearly always and within one ulp always; Logistic picks 1/(1+e) or
// e/(1+e) by a blend on the sign bit, Go's float32 formula bit for bit. Elsewhere (and
// for the tails) the same operations run in Go.
//
// # simplego's parallel executor
//
// simplego v0.26 runs a graph's ops on a pool of 2 x NumCPU goroutine slots, and its
// DotGeneral and Erf split their work into tasks of the same pool and wait for them from
// inside their slot: when every slot is held by such a waiting op, nothing can start and
// the executor deadlocks (the engine's trap 3). The executors here use goroutines of
// their own, so with the package installed no op waits on the pool and "go:ops_parallel"
// trains (TestParallelExecutorTrainsWithoutHang); ops whose dtype they leave to GoMLX
// (a float64 DotGeneral) can still deadlock it.
//
// # The simplego hook
//
// simplego has no public extension point for kernels. Its executor table (nodeExecutors,
// indexed by backends.OpType) is reached with //go:linkname and entries replaced; a node's
// shape, op type and data (dotGeneralNodeData's axes, reduce axes, permutations) are read
// by reflection. Cases an executor does not cover (other dtypes, layouts) go to the
// executor that was there before. Element-wise results equal simplego's bit for bit
// except Exp and Logistic (exp32: within one or two ulp) and row sums (four partial sums). This ties the
// package to GoMLX v0.26.0's internals: Install checks the field names it needs and
// refuses (leaving GoMLX's executor in place, Installed false) if they changed.
package cpu
