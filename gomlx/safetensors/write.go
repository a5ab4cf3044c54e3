package safetensors

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/dtypes/bfloat16"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/x448/float16"
)

// Named pairs a tensor with the name it is written under.
type Named struct {
	Name   string
	Tensor *tensors.Tensor
}

// Write writes the tensors, in the given order, to path in the safetensors format, with the
// optional metadata. It writes a temporary file next to path and renames it, so that a failed
// write never leaves a truncated file under the final name.
func Write(path string, ts []Named, metadata map[string]string) (err error) {
	header := make(map[string]any, len(ts)+1)
	if len(metadata) > 0 {
		header[metadataKey] = metadata
	}
	var offset int64
	seen := make(map[string]bool, len(ts))
	for _, nt := range ts {
		if nt.Name == metadataKey || nt.Name == "" {
			return fmt.Errorf("safetensors %s: invalid tensor name %q", path, nt.Name)
		}
		if seen[nt.Name] {
			return fmt.Errorf("safetensors %s: tensor %q given twice", path, nt.Name)
		}
		seen[nt.Name] = true
		shape := nt.Tensor.Shape()
		name, err := DTypeName(shape.DType)
		if err != nil {
			return fmt.Errorf("safetensors %s: tensor %q: %w", path, nt.Name, err)
		}
		size := int64(shape.Memory())
		dims := shape.Dimensions
		if dims == nil {
			dims = []int{} // a scalar is written with shape [], never null.
		}
		header[nt.Name] = headerEntry{DType: name, Shape: dims, DataOffsets: []int64{offset, offset + size}}
		offset += size
	}
	hdr, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("safetensors %s: encoding header: %w", path, err)
	}
	// Pad with spaces so that the data starts 8-byte aligned, as the reference writer does.
	for len(hdr)%8 != 0 {
		hdr = append(hdr, ' ')
	}

	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("safetensors %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriterSize(tmp, 1<<20)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hdr)))
	if _, err = w.Write(lenBuf[:]); err != nil {
		return fmt.Errorf("safetensors %s: %w", path, err)
	}
	if _, err = w.Write(hdr); err != nil {
		return fmt.Errorf("safetensors %s: %w", path, err)
	}
	for _, nt := range ts {
		if nt.Tensor.Shape().Size() == 0 {
			continue
		}
		var werr error
		err = nt.Tensor.ConstBytes(func(data []byte) {
			if nativeIsLittle {
				_, werr = w.Write(data)
				return
			}
			le := slices.Clone(data)
			fromLittleEndian(le, data, nt.Tensor.DType().Size()) // the swap is its own inverse
			_, werr = w.Write(le)
		})
		if err == nil {
			err = werr
		}
		if err != nil {
			return fmt.Errorf("safetensors %s: tensor %q: %w", path, nt.Name, err)
		}
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("safetensors %s: %w", path, err)
	}
	// Synced before the rename so that a crash leaves the old file or the whole new one;
	// readable by others like any exported model (CreateTemp makes 0600 files).
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("safetensors %s: %w", path, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("safetensors %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("safetensors %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("safetensors %s: %w", path, err)
	}
	return nil
}

// ConvertFloat converts a float tensor on the host to Float32 or BFloat16 (from Float32,
// BFloat16, Float16 or Float64). Conversion to BFloat16 rounds to nearest even, like PyTorch.
// A tensor already of the requested dtype is returned as is.
func ConvertFloat(t *tensors.Tensor, to dtypes.DType) (*tensors.Tensor, error) {
	from := t.DType()
	if from == to {
		return t, nil
	}
	if to != dtypes.Float32 && to != dtypes.BFloat16 {
		return nil, fmt.Errorf("ConvertFloat: target dtype %s not supported (only Float32 and BFloat16)", to)
	}
	f32 := make([]float32, t.Shape().Size())
	var err error
	switch from {
	case dtypes.Float32:
		err = tensors.ConstFlatData(t, func(flat []float32) { copy(f32, flat) })
	case dtypes.BFloat16:
		err = tensors.ConstFlatData(t, func(flat []bfloat16.BFloat16) {
			for i, v := range flat {
				f32[i] = v.Float32()
			}
		})
	case dtypes.Float16:
		err = tensors.ConstFlatData(t, func(flat []float16.Float16) {
			for i, v := range flat {
				f32[i] = v.Float32()
			}
		})
	case dtypes.Float64:
		err = tensors.ConstFlatData(t, func(flat []float64) {
			for i, v := range flat {
				f32[i] = float32(v)
			}
		})
	default:
		return nil, fmt.Errorf("ConvertFloat: source dtype %s not supported", from)
	}
	if err != nil {
		return nil, fmt.Errorf("ConvertFloat: %w", err)
	}
	dims := t.Shape().Dimensions
	if to == dtypes.Float32 {
		out := tensors.FromShape(shapes.Make(dtypes.Float32, dims...))
		tensors.MustMutableFlatData(out, func(flat []float32) { copy(flat, f32) })
		return out, nil
	}
	out := tensors.FromShape(shapes.Make(dtypes.BFloat16, dims...))
	tensors.MustMutableFlatData(out, func(flat []bfloat16.BFloat16) {
		for i, v := range f32 {
			flat[i] = bfloat16.FromBits(float32ToBF16(v))
		}
	})
	return out, nil
}
