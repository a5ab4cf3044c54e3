package trainer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"unicode/utf8"

	"github.com/amopo-engine/amopo/data"
)

// pairLine is a line of a pairs file: the pair, plus the answers' exact bytes where they
// are not valid UTF-8 (a sampled byte-level model can end mid-character, and JSON would
// replace those bytes, changing the tokens trained on).
type pairLine struct {
	data.Pair
	ChosenBytes   []byte `json:",omitempty"`
	RejectedBytes []byte `json:",omitempty"`
}

// WritePairs saves pairs as JSON lines, atomically: the on-policy pairs of a run, for a
// person to read and for --resume to train on the same pairs, byte for byte. (Not the
// AMoPO record format: that one refuses the empty answers a model can give.)
func WritePairs(path string, pairs []data.Pair) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, p := range pairs {
		line := pairLine{Pair: p}
		if !utf8.ValidString(p.Chosen.Text) {
			line.ChosenBytes = []byte(p.Chosen.Text)
		}
		if !utf8.ValidString(p.Rejected.Text) {
			line.RejectedBytes = []byte(p.Rejected.Text)
		}
		if err := enc.Encode(line); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return writeAtomic(path, b.Bytes())
}

// ReadPairs reads a file WritePairs wrote.
func ReadPairs(path string) ([]data.Pair, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var pairs []data.Pair
	for i, raw := range bytes.Split(text, []byte("\n")) {
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		var line pairLine
		if err := json.Unmarshal(raw, &line); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		if line.ChosenBytes != nil {
			line.Chosen.Text = string(line.ChosenBytes)
		}
		if line.RejectedBytes != nil {
			line.Rejected.Text = string(line.RejectedBytes)
		}
		pairs = append(pairs, line.Pair)
	}
	return pairs, nil
}

// WriteFileAtomic writes a file so that a crash leaves either the old or the new one.
func WriteFileAtomic(path string, data []byte) error { return writeAtomic(path, data) }
