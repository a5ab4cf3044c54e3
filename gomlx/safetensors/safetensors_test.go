package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/dtypes/bfloat16"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/require"
)

func tensorBytes(t *testing.T, x *tensors.Tensor) []byte {
	var out []byte
	require.NoError(t, x.ConstBytes(func(b []byte) { out = bytes.Clone(b) }))
	return out
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.safetensors")
	f32 := tensors.FromFlatDataAndDimensions([]float32{1, -2.5, float32(math.Inf(1)), 3e-40, 0, 7}, 2, 3)
	bf := tensors.FromFlatDataAndDimensions([]bfloat16.BFloat16{bfloat16.FromFloat32(1.5), bfloat16.FromFloat32(-3)}, 2)
	i64 := tensors.FromFlatDataAndDimensions([]int64{1 << 40, -1, 3}, 3, 1)
	scalar := tensors.FromScalar(float32(42))
	in := []Named{{"a.weight", f32}, {"b", bf}, {"ids", i64}, {"s", scalar}}
	require.NoError(t, Write(path, in, map[string]string{"format": "pt"}))

	sf, err := Open(path)
	require.NoError(t, err)
	defer func() { _ = sf.Close() }()
	require.Equal(t, map[string]string{"format": "pt"}, sf.Metadata)
	require.Equal(t, []string{"a.weight", "b", "ids", "s"}, sf.Names())
	require.Equal(t, []int{}, sf.Info("s").Shape)
	for _, nt := range in {
		got, err := sf.Tensor(nt.Name)
		require.NoError(t, err)
		require.True(t, nt.Tensor.Shape().Equal(got.Shape()), "%s: %s vs %s", nt.Name, nt.Tensor.Shape(), got.Shape())
		require.Equal(t, tensorBytes(t, nt.Tensor), tensorBytes(t, got), nt.Name)
	}
	// The data section starts 8-byte aligned.
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Zero(t, binary.LittleEndian.Uint64(raw)%8)
	// Readable by others, like any file a user would share, and no temporary file left.
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), st.Mode().Perm())
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, left, 1)
}

func TestGoldenFile(t *testing.T) {
	ts, meta, err := ReadAll("../testdata/qwen2-tiny/golden.safetensors")
	require.NoError(t, err)
	require.Contains(t, meta["made_by"], "transformers")
	ids := ts["input_ids"]
	require.Equal(t, dtypes.Int64, ids.DType())
	require.Equal(t, []int{3, 12}, ids.Shape().Dimensions)
	require.Equal(t, []int{3, 12, 1000}, ts["logits_right"].Shape().Dimensions)
}

func TestF16ReadsAsF32(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.safetensors")
	// 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800 in IEEE half precision.
	writeRaw(t, path, map[string]any{"h": headerEntry{DType: "F16", Shape: []int{3}, DataOffsets: []int64{0, 6}}},
		[]byte{0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38})
	ts, _, err := ReadAll(path)
	require.NoError(t, err)
	require.Equal(t, []float32{1, -2, 0.5}, tensors.MustCopyFlatData[float32](ts["h"]))
}

// writeRaw writes a hand-made file: header (as given) then data.
func writeRaw(t *testing.T, path string, header map[string]any, data []byte) {
	hdr, err := json.Marshal(header)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, binary.Write(&buf, binary.LittleEndian, uint64(len(hdr))))
	buf.Write(hdr)
	buf.Write(data)
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	require.NoError(t, Write(good, []Named{{"w", tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4}, 2, 2)}}, nil))
	raw, err := os.ReadFile(good)
	require.NoError(t, err)

	cases := []struct {
		name    string
		content func(path string)
		errPart []string
	}{
		{"short", func(p string) { require.NoError(t, os.WriteFile(p, raw[:5], 0o644)) }, []string{"too short"}},
		{"truncated data", func(p string) { require.NoError(t, os.WriteFile(p, raw[:len(raw)-4], 0o644)) },
			[]string{`tensor "w"`, "truncated"}},
		{"header beyond file", func(p string) {
			b := bytes.Clone(raw)
			binary.LittleEndian.PutUint64(b, uint64(len(b)))
			require.NoError(t, os.WriteFile(p, b, 0o644))
		}, []string{"beyond the end of the file"}},
		{"unknown dtype", func(p string) {
			writeRaw(t, p, map[string]any{"w": headerEntry{DType: "F8_E4M3", Shape: []int{2}, DataOffsets: []int64{0, 2}}}, []byte{1, 2})
		}, []string{`tensor "w"`, "F8_E4M3"}},
		{"size mismatch", func(p string) {
			writeRaw(t, p, map[string]any{"w": headerEntry{DType: "F32", Shape: []int{3}, DataOffsets: []int64{0, 8}}}, make([]byte, 8))
		}, []string{`tensor "w"`, "needs 12 bytes"}},
		{"bad json", func(p string) {
			b := []byte("\x04\x00\x00\x00\x00\x00\x00\x00{{{{")
			require.NoError(t, os.WriteFile(p, b, 0o644))
		}, []string{"invalid JSON"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, "bad.safetensors")
			c.content(p)
			_, err := Open(p)
			require.Error(t, err)
			require.Contains(t, err.Error(), p)
			for _, part := range c.errPart {
				require.Contains(t, err.Error(), part)
			}
		})
	}

	sf, err := Open(good)
	require.NoError(t, err)
	defer func() { _ = sf.Close() }()
	_, err = sf.Tensor("missing")
	require.ErrorContains(t, err, `tensor "missing" not found`)
	require.ErrorContains(t, err, good)
}

func TestConvertFloat(t *testing.T) {
	// 1 + 2^-8 is a tie between 1 and 1+2^-7 in bfloat16: ties go to even (1); 1 + 3*2^-8 rounds up.
	x := tensors.FromFlatDataAndDimensions([]float32{1 + 1.0/256, 1 + 3.0/256, -2, float32(math.NaN())}, 4)
	bf, err := ConvertFloat(x, dtypes.BFloat16)
	require.NoError(t, err)
	back, err := ConvertFloat(bf, dtypes.Float32)
	require.NoError(t, err)
	got := tensors.MustCopyFlatData[float32](back)
	require.Equal(t, []float32{1, 1 + 4.0/256, -2}, got[:3])
	require.True(t, math.IsNaN(float64(got[3])))
}

// TestBF16KeepsNaNsWhosePayloadIsInTheLowBits: rounding adds 0x7FFF to the bits, which
// carries a NaN with payload only in the low 16 bits into the exponent: 0x7F800001 would
// become +Inf (0x7F80) and 0x7FFFFFFF -0 without the NaN guard. math.NaN() (0x7FF8...) has
// its payload in the high bits and stays NaN either way.
func TestBF16KeepsNaNsWhosePayloadIsInTheLowBits(t *testing.T) {
	isNaN := func(b uint16) bool { return b&0x7F80 == 0x7F80 && b&0x007F != 0 }
	for _, bits := range []uint32{0x7F800001, 0xFF800001, 0x7F80FFFF, 0x7FFFFFFF, 0xFFFFFFFF, 0x7FC00000} {
		f := math.Float32frombits(bits)
		require.True(t, math.IsNaN(float64(f)))
		got := float32ToBF16(f)
		require.True(t, isNaN(got), "bits %#08x -> %#04x", bits, got)
		require.Equal(t, uint16(bits>>31), got>>15, "bits %#08x: the sign is kept", bits)

		// The same through the public conversion and back.
		x := tensors.FromFlatDataAndDimensions([]float32{f}, 1)
		bf, err := ConvertFloat(x, dtypes.BFloat16)
		require.NoError(t, err)
		back, err := ConvertFloat(bf, dtypes.Float32)
		require.NoError(t, err)
		require.True(t, math.IsNaN(float64(tensors.MustCopyFlatData[float32](back)[0])), "bits %#08x", bits)
	}
	// Infinities are not NaNs and stay infinite.
	require.Equal(t, uint16(0x7F80), float32ToBF16(float32(math.Inf(1))))
	require.Equal(t, uint16(0xFF80), float32ToBF16(float32(math.Inf(-1))))
}
