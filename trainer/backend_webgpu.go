//go:build cgo && !js

package trainer

// The WebGPU backend (engine/) registers itself as "webgpu": --backend webgpu trains on
// any Vulkan/Metal/D3D adapter (lavapipe on a CPU-only machine).
import _ "github.com/amopo-engine/amopo/engine"
