package trainer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"

	"github.com/amopo-engine/amopo/gomlx/safetensors"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// manifestFile lists what a checkpoint holds, with checksums, so that a missing tensor or
// a flipped bit is an error on load instead of a silent resume with wrong weights.
const manifestFile = "manifest.json"

// manifest is a checkpoint's manifest.json.
type manifest struct {
	// Files maps the checkpoint's small files to the SHA-256 of their content.
	Files map[string]string `json:"files"`
	// Tensors maps every variable to its dtype, shape and the CRC-32C of its bytes.
	Tensors map[string]tensorSum `json:"tensors"`
}

// tensorSum identifies a tensor's content: a flipped bit in its data changes CRC32C, one
// in the file's header its dtype or shape.
type tensorSum struct {
	DType  string `json:"dtype"`
	Shape  []int  `json:"shape"`
	CRC32C string `json:"crc32c"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sumTensor checksums a tensor's bytes in host order (what safetensors writes on a
// little-endian machine and reads back into).
func sumTensor(t *tensors.Tensor) (tensorSum, error) {
	var crc uint32
	if t.Shape().Size() > 0 {
		if err := t.ConstBytes(func(data []byte) { crc = crc32.Checksum(data, castagnoli) }); err != nil {
			return tensorSum{}, err
		}
	}
	dims := t.Shape().Dimensions
	if dims == nil {
		dims = []int{}
	}
	return tensorSum{DType: t.DType().String(), Shape: dims, CRC32C: fmt.Sprintf("%08x", crc)}, nil
}

func (s tensorSum) String() string {
	return fmt.Sprintf("%s%v crc32c %s", s.DType, s.Shape, s.CRC32C)
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// VerifyCheckpoint checks a checkpoint folder against its manifest: the state file's
// SHA-256, and every tensor present, with its dtype, shape and CRC-32C, and no tensor the
// manifest does not list. Errors name the checkpoint and the file or tensor.
func VerifyCheckpoint(dir string) error {
	_, _, err := readVerified(dir)
	return err
}

// readVerified reads a checkpoint's state and variables and verifies them (see
// VerifyCheckpoint).
func readVerified(dir string) (State, map[string]*tensors.Tensor, error) {
	var st State
	manJSON, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		return st, nil, fmt.Errorf("checkpoint %s: no readable %s (an incomplete checkpoint, or one written before checksums): %w",
			dir, manifestFile, err)
	}
	var man manifest
	if err := json.Unmarshal(manJSON, &man); err != nil {
		return st, nil, fmt.Errorf("checkpoint %s: %s: %w", dir, manifestFile, err)
	}
	stateJSON, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return st, nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if got, want := sha256Hex(stateJSON), man.Files[stateFile]; got != want {
		return st, nil, fmt.Errorf("checkpoint %s: %s is damaged: SHA-256 %s, the manifest says %q", dir, stateFile, got, want)
	}
	if err := json.Unmarshal(stateJSON, &st); err != nil {
		return st, nil, fmt.Errorf("checkpoint %s: %w", filepath.Join(dir, stateFile), err)
	}
	values, _, err := safetensors.ReadAll(filepath.Join(dir, variablesFile))
	if err != nil {
		return st, nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	names := make([]string, 0, len(man.Tensors))
	for name := range man.Tensors {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		want := man.Tensors[name]
		value, ok := values[name]
		if !ok {
			return st, nil, fmt.Errorf("checkpoint %s: tensor %s is missing from %s", dir, name, variablesFile)
		}
		got, err := sumTensor(value)
		if err != nil {
			return st, nil, fmt.Errorf("checkpoint %s: tensor %s: %w", dir, name, err)
		}
		if got.String() != want.String() {
			return st, nil, fmt.Errorf("checkpoint %s: tensor %s is damaged: %s in %s, the manifest says %s", dir, name, got, variablesFile, want)
		}
	}
	for name := range values {
		if _, ok := man.Tensors[name]; !ok {
			return st, nil, fmt.Errorf("checkpoint %s: tensor %s of %s is not in the manifest", dir, name, variablesFile)
		}
	}
	return st, values, nil
}

// newestIntactBefore returns the newest checkpoint of outDir older than `bad` that
// verifies, or "" when there is none.
func newestIntactBefore(outDir, bad string) (string, error) {
	root := filepath.Join(outDir, checkpointsDir)
	names, err := listCheckpoints(root)
	if err != nil {
		return "", err
	}
	for i := len(names) - 1; i >= 0; i-- {
		if names[i] == bad || !olderCheckpoint(names[i], bad) {
			continue
		}
		if VerifyCheckpoint(filepath.Join(root, names[i])) == nil {
			return names[i], nil
		}
	}
	return "", nil
}

// olderCheckpoint reports whether checkpoint a comes before b (b "" or unparsable: any a).
func olderCheckpoint(a, b string) bool {
	ob, sb, ok := parseCheckpointName(b)
	if !ok {
		return true
	}
	oa, sa, _ := parseCheckpointName(a)
	return oa < ob || (oa == ob && sa < sb)
}
