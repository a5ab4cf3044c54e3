//go:build cgo && !js

package main

// The engine's WebGPU backend registers itself as "webgpu": --backend webgpu trains on
// any Vulkan/Metal/D3D adapter (lavapipe on a CPU-only machine). The pure-Go and XLA
// backends come with engine/backend.
import _ "github.com/amopo-engine/amopo/engine"
