// Package engine is a GoMLX backend over WebGPU, registered as "webgpu": with it
// imported, GOMLX_BACKEND=webgpu or backends.NewWithConfig("webgpu") runs any GoMLX
// graph whose ops it implements (see OPS.md) on a WebGPU device, with the WGSL kernels of
// package shaders.
//
// Natively it uses wgpu-native (github.com/cogentcore/webgpu) and asks for the Vulkan
// backend; on a machine without a GPU, Mesa's lavapipe software Vulkan driver runs it:
//
//	apt-get install -y --no-install-recommends mesa-vulkan-drivers libvulkan1
//	export VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json
//
// Tests need that adapter: without one they fail with this hint when CI=true, and skip
// otherwise. For GOOS=js GOARCH=wasm the same code runs over the browser's navigator.gpu.
//
// In the browser (GOOS=js GOARCH=wasm, cogentcore/webgpu's syscall/js binding) uploads go
// through a JS copy of the bytes (write_js.go: the page need not set globalThis.wasm), read-backs
// await mapAsync, and shader errors only reach the console: Chromium's Tint is stricter than
// naga (e.g. it rejects a constant bitcast to inf), so check values read back. The web page's
// live training (wasm/toy) runs the toy step this way; cmd/web's Chromium test checks it.
//
// A graph is compiled to a list of kernel launches; an execution encodes them in one
// compute pass and submits it once. Buffers stay on the device: data moves only in
// BufferFromFlatData and BufferToFlatData. Intermediate buffers come from a pool and
// are reused within and across executions; donated inputs and finalized buffers go
// back to the pool, which is freed by Finalize.
//
// OPS.md lists the ops and dtypes implemented; BENCHMARKS.md the measured speed.
//
// Config (the part after "webgpu:"): "" or "vulkan" (native default: Vulkan only),
// "gl", "any" (whatever wgpu-native finds).
//
// engine/ is the home of the engine's backends: this package is the WebGPU one,
// engine/backend picks the backend of a --backend value (pure Go, XLA and its plugin and
// memory options, or any registered one). As in GoMLX, backends register themselves on
// import and the main program chooses: cmd/train, cmd/experiment and cmd/bench import
// this package (backends.go there) to offer --backend webgpu.
package engine
