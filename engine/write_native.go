//go:build !js

package engine

import "github.com/cogentcore/webgpu/wgpu"

// writeBuffer copies data to the start of buf.
func writeBuffer(queue *wgpu.Queue, buf *wgpu.Buffer, data []byte) error {
	return queue.WriteBuffer(buf, 0, data)
}
