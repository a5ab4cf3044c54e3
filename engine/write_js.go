//go:build js

package engine

import (
	"syscall/js"
	"unsafe"

	"github.com/cogentcore/webgpu/wgpu"
)

// writeBuffer copies data to the start of buf. The js binding's Queue.WriteBuffer views
// the wasm memory through globalThis.wasm.instance, which a page has to set up; instead
// the bytes are copied into a JS Uint8Array (js.CopyBytesToJS) and given to the GPUQueue's
// writeBuffer. wgpu.Queue and wgpu.Buffer of cogentcore/webgpu v0.23.0 hold only their
// js.Value (checked by the size assertions below), which are read through unsafe.
func writeBuffer(queue *wgpu.Queue, buf *wgpu.Buffer, data []byte) error {
	q := *(*js.Value)(unsafe.Pointer(queue))
	b := *(*js.Value)(unsafe.Pointer(buf))
	arr := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(arr, data)
	q.Call("writeBuffer", b, 0, arr, 0, len(data))
	return nil
}

// The binding's types must be exactly one js.Value for the casts above.
var (
	_ [unsafe.Sizeof(wgpu.Queue{}) - unsafe.Sizeof(js.Value{})]struct{}
	_ [unsafe.Sizeof(js.Value{}) - unsafe.Sizeof(wgpu.Queue{})]struct{}
	_ [unsafe.Sizeof(wgpu.Buffer{}) - unsafe.Sizeof(js.Value{})]struct{}
	_ [unsafe.Sizeof(js.Value{}) - unsafe.Sizeof(wgpu.Buffer{})]struct{}
)
