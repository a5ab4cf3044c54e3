package engine

import (
	"fmt"
	"sync"

	"github.com/cogentcore/webgpu/wgpu"
	"github.com/gomlx/gomlx/backends"
	"github.com/pkg/errors"
)

// BackendName is the name to use in GOMLX_BACKEND or backends.NewWithConfig.
const BackendName = "webgpu"

func init() {
	backends.Register(BackendName, New)
}

// Backend implements backends.Backend over one WebGPU device.
type Backend struct {
	instance *wgpu.Instance
	adapter  *wgpu.Adapter
	device   *wgpu.Device
	queue    *wgpu.Queue
	info     wgpu.AdapterInfo

	// mu serialises the use of the queue, the pool and the kernel cache.
	mu        sync.Mutex
	pool      map[uint64][]*gpuBuf
	kernels   map[string]*kernel
	finalized bool
}

var _ backends.Backend = (*Backend)(nil)

// New opens a WebGPU device. config: "" or "vulkan" (Vulkan only, the native default),
// "gl" or "any"; ignored in the browser.
func New(config string) (backends.Backend, error) {
	return NewBackend(config)
}

// NewBackend is New with the concrete type.
func NewBackend(config string) (*Backend, error) {
	instance, adapter, device, err := openDevice(config)
	if err != nil {
		return nil, err
	}
	b := &Backend{
		instance: instance,
		adapter:  adapter,
		device:   device,
		queue:    device.GetQueue(),
		info:     adapter.GetInfo(),
		pool:     make(map[uint64][]*gpuBuf),
		kernels:  make(map[string]*kernel),
	}
	return b, nil
}

// AdapterInfo describes the adapter in use (its BackendType tells Vulkan from OpenGL).
func (b *Backend) AdapterInfo() wgpu.AdapterInfo { return b.info }

// Name implements backends.Backend.
func (b *Backend) Name() string { return "WebGPU (webgpu)" }

// String implements backends.Backend.
func (b *Backend) String() string { return BackendName }

// Description implements backends.Backend.
func (b *Backend) Description() string {
	return fmt.Sprintf("WebGPU backend on %s", b.DeviceDescription(0))
}

// NumDevices implements backends.Backend: one device.
func (b *Backend) NumDevices() int { return 1 }

// DeviceDescription implements backends.Backend.
func (b *Backend) DeviceDescription(backends.DeviceNum) string {
	i := b.info
	return fmt.Sprintf("%s (%s, %s, driver %q)", i.Name, i.BackendType, i.AdapterType, i.DriverDescription)
}

// Capabilities implements backends.Backend.
func (b *Backend) Capabilities() backends.Capabilities { return Capabilities.Clone() }

// Builder implements backends.Backend.
func (b *Backend) Builder(name string) backends.Builder { return newBuilder(b, name) }

// Finalize releases the device and every pooled buffer.
func (b *Backend) Finalize() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finalized {
		return
	}
	b.finalized = true
	for _, list := range b.pool {
		for _, buf := range list {
			buf.buf.Release()
		}
	}
	b.pool = nil
	for _, k := range b.kernels {
		k.release()
	}
	b.kernels = nil
	b.queue.Release()
	b.device.Release()
	b.adapter.Release()
	b.instance.Release()
}

// IsFinalized implements backends.Backend.
func (b *Backend) IsFinalized() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.finalized
}

// bufferUsage is the usage of every storage buffer.
const bufferUsage = wgpu.BufferUsageStorage | wgpu.BufferUsageCopySrc | wgpu.BufferUsageCopyDst

// gpuBuf is a device buffer and its size (the browser binding does not report it).
type gpuBuf struct {
	buf  *wgpu.Buffer
	size uint64
}

// poolSize rounds a byte size up to the pool's granularity (at least 16 bytes).
func poolSize(n uint64) uint64 {
	return max(16, (n+15)&^15)
}

// acquire returns a device buffer of at least n bytes from the pool, or a new one.
// b.mu must be held.
func (b *Backend) acquire(n uint64) (*gpuBuf, error) {
	size := poolSize(n)
	if list := b.pool[size]; len(list) > 0 {
		buf := list[len(list)-1]
		b.pool[size] = list[:len(list)-1]
		return buf, nil
	}
	buf, err := b.device.CreateBuffer(&wgpu.BufferDescriptor{Label: "gomlx", Usage: bufferUsage, Size: size})
	if err != nil {
		return nil, errors.Wrapf(err, "webgpu backend: allocating %d bytes", size)
	}
	return &gpuBuf{buf: buf, size: size}, nil
}

// recycle puts a buffer back in the pool. b.mu must be held. Work already submitted
// that uses it is ordered before any later use by the queue.
func (b *Backend) recycle(buf *gpuBuf) {
	if b.finalized || buf == nil {
		return
	}
	b.pool[buf.size] = append(b.pool[buf.size], buf)
}

// Sync waits until the device has finished the work submitted so far (natively; in the
// browser it returns at once). Executions do not wait: use it to time them.
func (b *Backend) Sync() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.finalized {
		b.device.Poll(true, nil)
	}
}
