package engine

import (
	"unsafe"

	"github.com/cogentcore/webgpu/wgpu"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pkg/errors"
)

// Buffer is a tensor stored on the device.
type Buffer struct {
	backend *Backend
	gpu     *gpuBuf // nil once finalized or donated
	shape   shapes.Shape
}

// wordsPerElement is how many 32-bit words an element of dtype takes on the device
// (bool is stored as a u32 0/1; 64-bit types as two words), or 0 if unsupported.
func wordsPerElement(dtype dtypes.DType) int {
	switch dtype {
	case dtypes.Float32, dtypes.Int32, dtypes.Uint32, dtypes.Bool:
		return 1
	case dtypes.Float64, dtypes.Int64, dtypes.Uint64:
		return 2
	}
	return 0
}

// deviceBytes is the size of a tensor of shape on the device.
func deviceBytes(shape shapes.Shape) uint64 {
	return uint64(4 * wordsPerElement(shape.DType) * shape.Size())
}

func (b *Backend) checkBuffer(buffer backends.Buffer, what string) (*Buffer, error) {
	buf, ok := buffer.(*Buffer)
	if !ok || buf == nil {
		return nil, errors.Errorf("webgpu backend: %s: buffer %T is not a webgpu buffer", what, buffer)
	}
	if buf.backend != b {
		return nil, errors.Errorf("webgpu backend: %s: buffer belongs to another webgpu backend", what)
	}
	if buf.gpu == nil {
		return nil, errors.Errorf("webgpu backend: %s: buffer was finalized or donated", what)
	}
	return buf, nil
}

// BufferFinalize implements backends.DataInterface: the device memory goes back to the pool.
func (b *Backend) BufferFinalize(buffer backends.Buffer) error {
	buf, ok := buffer.(*Buffer)
	if !ok || buf == nil {
		return errors.Errorf("webgpu backend: BufferFinalize: buffer %T is not a webgpu buffer", buffer)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if buf.gpu != nil {
		b.recycle(buf.gpu)
		buf.gpu = nil
	}
	return nil
}

// BufferShape implements backends.DataInterface.
func (b *Backend) BufferShape(buffer backends.Buffer) (shapes.Shape, error) {
	buf, err := b.checkBuffer(buffer, "BufferShape")
	if err != nil {
		return shapes.Invalid(), err
	}
	return buf.shape, nil
}

// BufferDeviceNum implements backends.DataInterface: always 0.
func (b *Backend) BufferDeviceNum(buffer backends.Buffer) (backends.DeviceNum, error) {
	_, err := b.checkBuffer(buffer, "BufferDeviceNum")
	return 0, err
}

// flatBytes returns the device bytes of a flat Go slice, its dtype and length.
func flatBytes(flat any) ([]byte, dtypes.DType, int, error) {
	switch f := flat.(type) {
	case []float32:
		return sliceBytes(f), dtypes.Float32, len(f), nil
	case []float64:
		return sliceBytes(f), dtypes.Float64, len(f), nil
	case []int32:
		return sliceBytes(f), dtypes.Int32, len(f), nil
	case []int64:
		return sliceBytes(f), dtypes.Int64, len(f), nil
	case []uint32:
		return sliceBytes(f), dtypes.Uint32, len(f), nil
	case []uint64:
		return sliceBytes(f), dtypes.Uint64, len(f), nil
	case []bool:
		words := make([]uint32, len(f))
		for i, v := range f {
			if v {
				words[i] = 1
			}
		}
		return sliceBytes(words), dtypes.Bool, len(f), nil
	}
	return nil, dtypes.InvalidDType, 0, errors.Errorf("webgpu backend: flat data of type %T not supported "+
		"(float32, float64, int32, int64, uint32, uint64 and bool are)", flat)
}

func sliceBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(zero)))
}

// BufferFromFlatData implements backends.DataInterface: it uploads flat to a new device buffer.
func (b *Backend) BufferFromFlatData(deviceNum backends.DeviceNum, flat any, shape shapes.Shape) (backends.Buffer, error) {
	if deviceNum != 0 {
		return nil, errors.Errorf("webgpu backend: BufferFromFlatData: device %d does not exist (only 0)", deviceNum)
	}
	data, dtype, n, err := flatBytes(flat)
	if err != nil {
		return nil, err
	}
	if dtype != shape.DType || n != shape.Size() {
		return nil, errors.Errorf("webgpu backend: BufferFromFlatData: flat data [%d]%s does not match shape %s", n, dtype, shape)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finalized {
		return nil, errors.New("webgpu backend: BufferFromFlatData: backend finalized")
	}
	gpu, err := b.upload(data)
	if err != nil {
		return nil, errors.WithMessage(err, "BufferFromFlatData")
	}
	return &Buffer{backend: b, gpu: gpu, shape: shape.Clone()}, nil
}

// upload copies data to a pooled device buffer. b.mu must be held.
func (b *Backend) upload(data []byte) (*gpuBuf, error) {
	gpu, err := b.acquire(uint64(len(data)))
	if err != nil {
		return nil, err
	}
	if len(data) > 0 {
		if err := writeBuffer(b.queue, gpu.buf, data); err != nil {
			b.recycle(gpu)
			return nil, errors.Wrap(err, "webgpu backend: writing a buffer")
		}
	}
	return gpu, nil
}

// BufferToFlatData implements backends.DataInterface: it reads the buffer back into flat.
func (b *Backend) BufferToFlatData(buffer backends.Buffer, flat any) error {
	buf, err := b.checkBuffer(buffer, "BufferToFlatData")
	if err != nil {
		return err
	}
	var dst []byte
	var words []uint32
	dtype, n := dtypes.InvalidDType, 0
	if f, ok := flat.([]bool); ok {
		words = make([]uint32, len(f))
		dst, dtype, n = sliceBytes(words), dtypes.Bool, len(f)
	} else if dst, dtype, n, err = flatBytes(flat); err != nil {
		return err
	}
	if dtype != buf.shape.DType || n != buf.shape.Size() {
		return errors.Errorf("webgpu backend: BufferToFlatData: flat [%d]%s does not match buffer shape %s", n, dtype, buf.shape)
	}
	if n == 0 {
		return nil
	}
	b.mu.Lock()
	err = b.download(buf.gpu, dst)
	b.mu.Unlock()
	if err != nil {
		return err
	}
	if words != nil {
		f := flat.([]bool)
		for i, w := range words {
			f[i] = w != 0
		}
	}
	return nil
}

// download reads len(dst) bytes of gpu through a staging buffer. b.mu must be held.
func (b *Backend) download(gpu *gpuBuf, dst []byte) error {
	size := uint64(len(dst))
	staging, err := b.device.CreateBuffer(&wgpu.BufferDescriptor{
		Label: "gomlx-readback", Usage: wgpu.BufferUsageMapRead | wgpu.BufferUsageCopyDst, Size: size,
	})
	if err != nil {
		return errors.Wrap(err, "webgpu backend: creating a read-back buffer")
	}
	defer staging.Release()
	enc, err := b.device.CreateCommandEncoder(nil)
	if err != nil {
		return errors.Wrap(err, "webgpu backend: read-back")
	}
	defer enc.Release()
	if err := enc.CopyBufferToBuffer(gpu.buf, 0, staging, 0, size); err != nil {
		return errors.Wrap(err, "webgpu backend: read-back copy")
	}
	cmd, err := enc.Finish(nil)
	if err != nil {
		return errors.Wrap(err, "webgpu backend: read-back")
	}
	defer cmd.Release()
	b.queue.Submit(cmd)
	status := wgpu.BufferMapAsyncStatusUnknown
	if err := staging.MapAsync(wgpu.MapModeRead, 0, size, func(s wgpu.BufferMapAsyncStatus) { status = s }); err != nil {
		return errors.Wrap(err, "webgpu backend: mapping the read-back buffer")
	}
	b.device.Poll(true, nil)
	if status != wgpu.BufferMapAsyncStatusSuccess {
		return errors.Errorf("webgpu backend: mapping the read-back buffer failed: %s", status)
	}
	copy(dst, staging.GetMappedRange(0, uint(size)))
	staging.Unmap()
	return nil
}

// HasSharedBuffers implements backends.DataInterface: device memory is not shared.
func (b *Backend) HasSharedBuffers() bool { return false }

// NewSharedBuffer implements backends.DataInterface: not supported.
func (b *Backend) NewSharedBuffer(backends.DeviceNum, shapes.Shape) (backends.Buffer, any, error) {
	return nil, nil, errors.New("webgpu backend: shared buffers are not supported")
}

// BufferData implements backends.DataInterface: not supported.
func (b *Backend) BufferData(backends.Buffer) (any, error) {
	return nil, errors.New("webgpu backend: BufferData: shared buffers are not supported")
}

// BufferCopyToDevice implements backends.DataInterface: there is only one device.
func (b *Backend) BufferCopyToDevice(backends.Buffer, backends.DeviceNum) (backends.Buffer, error) {
	return nil, errors.New("webgpu backend: BufferCopyToDevice: there is only one device")
}
