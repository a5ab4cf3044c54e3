// Package safetensors reads and writes the Hugging Face safetensors format into and from
// GoMLX tensors, in pure Go.
//
// The format is: an 8-byte little-endian header length N, N bytes of JSON mapping each
// tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
// end of the header) plus an optional "__metadata__" string map, then the raw little-endian
// tensor data. See https://github.com/huggingface/safetensors.
//
// F16 tensors are converted to F32 when read, since GoMLX's pure-Go backend has no float16.
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/x448/float16"
)

// MaxHeaderSize bounds the JSON header, as the reference implementation does (100 MB), so that
// a corrupt length does not make us allocate gigabytes.
const MaxHeaderSize = 100 << 20

// metadataKey is the reserved header entry holding the string-to-string metadata.
const metadataKey = "__metadata__"

// dtypeByName maps the safetensors dtype names to GoMLX dtypes. F16 is listed so that sizes
// validate, but it is converted to Float32 when read.
var dtypeByName = map[string]dtypes.DType{
	"F64":  dtypes.Float64,
	"F32":  dtypes.Float32,
	"BF16": dtypes.BFloat16,
	"F16":  dtypes.Float16,
	"I64":  dtypes.Int64,
	"I32":  dtypes.Int32,
	"I16":  dtypes.Int16,
	"I8":   dtypes.Int8,
	"U64":  dtypes.Uint64,
	"U32":  dtypes.Uint32,
	"U16":  dtypes.Uint16,
	"U8":   dtypes.Uint8,
	"BOOL": dtypes.Bool,
}

// DTypeName returns the safetensors name of a GoMLX dtype, or an error if it has none.
func DTypeName(dtype dtypes.DType) (string, error) {
	for name, dt := range dtypeByName {
		if dt == dtype {
			return name, nil
		}
	}
	return "", fmt.Errorf("dtype %s has no safetensors equivalent", dtype)
}

// TensorInfo describes one tensor of a file, as given in its header.
type TensorInfo struct {
	Name  string
	DType string // safetensors name: "F32", "BF16", ...
	Shape []int
	// Begin and End are byte offsets relative to the start of the data section.
	Begin, End int64
}

// File is an open safetensors file whose header was read and validated. Tensor data is read
// on demand with Tensor.
type File struct {
	Path     string
	Metadata map[string]string
	infos    map[string]*TensorInfo
	names    []string // in data-offset order
	f        *os.File
	dataAt   int64 // absolute file offset of the data section
}

// headerEntry is one tensor's entry in the JSON header.
type headerEntry struct {
	DType       string  `json:"dtype"`
	Shape       []int   `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// Open reads and validates the header of the safetensors file at path. Every error names the
// file, and the tensor where one is at fault. Close the returned File when done.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	sf, err := parseHeader(path, f)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return sf, nil
}

func parseHeader(path string, f *os.File) (*File, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", path, err)
	}
	size := st.Size()
	var lenBuf [8]byte
	if _, err := io.ReadFull(f, lenBuf[:]); err != nil {
		return nil, fmt.Errorf("safetensors %s: file too short for the 8-byte header length (%d bytes): %w", path, size, err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors %s: header length %d exceeds the %d-byte limit", path, n, MaxHeaderSize)
	}
	if int64(n) > size-8 {
		return nil, fmt.Errorf("safetensors %s: header length %d goes beyond the end of the file (%d bytes): truncated or not a safetensors file",
			path, n, size)
	}
	header := make([]byte, n)
	if _, err := io.ReadFull(f, header); err != nil {
		return nil, fmt.Errorf("safetensors %s: reading the %d-byte header: %w", path, n, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, fmt.Errorf("safetensors %s: invalid JSON header: %w", path, err)
	}
	sf := &File{Path: path, infos: make(map[string]*TensorInfo, len(raw)), f: f, dataAt: 8 + int64(n)}
	dataSize := size - sf.dataAt
	for name, msg := range raw {
		if name == metadataKey {
			if err := json.Unmarshal(msg, &sf.Metadata); err != nil {
				return nil, fmt.Errorf("safetensors %s: invalid %s (must map strings to strings): %w", path, metadataKey, err)
			}
			continue
		}
		var e headerEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("safetensors %s: tensor %q: invalid header entry: %w", path, name, err)
		}
		dtype, ok := dtypeByName[e.DType]
		if !ok {
			return nil, fmt.Errorf("safetensors %s: tensor %q: unknown or unsupported dtype %q", path, name, e.DType)
		}
		if len(e.DataOffsets) != 2 {
			return nil, fmt.Errorf("safetensors %s: tensor %q: data_offsets must have 2 values, got %v", path, name, e.DataOffsets)
		}
		elems := int64(1)
		for _, d := range e.Shape {
			if d < 0 {
				return nil, fmt.Errorf("safetensors %s: tensor %q: negative dimension in shape %v", path, name, e.Shape)
			}
			elems *= int64(d)
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		if begin < 0 || end < begin {
			return nil, fmt.Errorf("safetensors %s: tensor %q: invalid data_offsets %v", path, name, e.DataOffsets)
		}
		if want := elems * int64(dtype.Size()); end-begin != want {
			return nil, fmt.Errorf("safetensors %s: tensor %q: shape %v of %s needs %d bytes, but data_offsets %v span %d",
				path, name, e.Shape, e.DType, want, e.DataOffsets, end-begin)
		}
		if end > dataSize {
			return nil, fmt.Errorf("safetensors %s: tensor %q: data_offsets %v go beyond the %d bytes of data: file truncated?",
				path, name, e.DataOffsets, dataSize)
		}
		sf.infos[name] = &TensorInfo{Name: name, DType: e.DType, Shape: slices.Clone(e.Shape), Begin: begin, End: end}
		sf.names = append(sf.names, name)
	}
	sort.Slice(sf.names, func(i, j int) bool {
		a, b := sf.infos[sf.names[i]], sf.infos[sf.names[j]]
		if a.Begin != b.Begin {
			return a.Begin < b.Begin
		}
		return a.Name < b.Name
	})
	return sf, nil
}

// Close closes the underlying file.
func (sf *File) Close() error { return sf.f.Close() }

// Names returns the tensor names in the order of their data.
func (sf *File) Names() []string { return slices.Clone(sf.names) }

// Info returns the header information of the named tensor, or nil if absent.
func (sf *File) Info(name string) *TensorInfo { return sf.infos[name] }

// Tensor reads the named tensor into a new GoMLX tensor. F16 data is converted to Float32;
// everything else keeps its dtype and bits.
func (sf *File) Tensor(name string) (*tensors.Tensor, error) {
	info := sf.infos[name]
	if info == nil {
		return nil, fmt.Errorf("safetensors %s: tensor %q not found", sf.Path, name)
	}
	dtype := dtypeByName[info.DType]
	raw := make([]byte, info.End-info.Begin)
	if _, err := sf.f.ReadAt(raw, sf.dataAt+info.Begin); err != nil {
		return nil, fmt.Errorf("safetensors %s: tensor %q: reading %d bytes: %w", sf.Path, name, len(raw), err)
	}
	if dtype == dtypes.Float16 {
		t := tensors.FromShape(shapes.Make(dtypes.Float32, info.Shape...))
		tensors.MustMutableFlatData(t, func(flat []float32) {
			for i := range flat {
				flat[i] = float16.Frombits(binary.LittleEndian.Uint16(raw[2*i:])).Float32()
			}
		})
		return t, nil
	}
	t := tensors.FromShape(shapes.Make(dtype, info.Shape...))
	if len(raw) > 0 {
		if err := t.MutableBytes(func(data []byte) { fromLittleEndian(data, raw, dtype.Size()) }); err != nil {
			return nil, fmt.Errorf("safetensors %s: tensor %q: %w", sf.Path, name, err)
		}
	}
	return t, nil
}

// ReadAll opens path and reads every tensor in it.
func ReadAll(path string) (map[string]*tensors.Tensor, map[string]string, error) {
	sf, err := Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = sf.Close() }()
	out := make(map[string]*tensors.Tensor, len(sf.names))
	for _, name := range sf.names {
		t, err := sf.Tensor(name)
		if err != nil {
			return nil, nil, err
		}
		out[name] = t
	}
	return out, sf.Metadata, nil
}

// nativeIsLittle tells whether the host stores numbers little-endian, as the format does;
// tensor bytes are then copied as they are, otherwise each element's bytes are reversed.
var nativeIsLittle = func() bool {
	var b [2]byte
	binary.NativeEndian.PutUint16(b[:], 1)
	return b[0] == 1
}()

// fromLittleEndian copies little-endian raw data into native-order dst (same length).
func fromLittleEndian(dst, raw []byte, elemSize int) {
	copy(dst, raw)
	if !nativeIsLittle && elemSize > 1 {
		for i := 0; i < len(dst); i += elemSize {
			slices.Reverse(dst[i : i+elemSize])
		}
	}
}

// float32ToBF16 rounds to the nearest bfloat16, ties to even, as PyTorch's .to(torch.bfloat16)
// does (GoMLX's bfloat16.FromFloat32 truncates instead). NaNs stay quiet NaNs.
func float32ToBF16(f float32) uint16 {
	bits := math.Float32bits(f)
	if f != f {
		return uint16(bits>>16) | 0x40
	}
	bits += 0x7FFF + (bits>>16)&1
	return uint16(bits >> 16)
}
