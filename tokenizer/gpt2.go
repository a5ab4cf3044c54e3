package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

const gpt2EndOfText = "<|endoftext|>"

// LoadGPT2 reads GPT-2's original files: vocab.json (encoder.json) and
// merges.txt (vocab.bpe). It behaves like Hugging Face's GPT-2 tokenizer:
// the GPT-2 split regex, no normalizer, and <|endoftext|> as a special token
// (recognised in text) that is also EOS and BOS.
func LoadGPT2(vocabPath, mergesPath string) (*Tokenizer, error) {
	data, err := os.ReadFile(vocabPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var vocab map[string]int
	if err := json.Unmarshal(data, &vocab); err != nil {
		return nil, fmt.Errorf("tokenizer: parse %s: %w", vocabPath, err)
	}
	merges, err := readMergesFile(mergesPath)
	if err != nil {
		return nil, err
	}
	s := spec{vocab: vocab, merges: merges, piece: gpt2Piece}
	if id, ok := vocab[gpt2EndOfText]; ok {
		s.added = []AddedToken{{ID: id, Content: gpt2EndOfText, Special: true}}
	}
	t, err := build(s)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s, %s: %w", vocabPath, mergesPath, err)
	}
	if id, ok := vocab[gpt2EndOfText]; ok {
		t.eos, t.bos = id, id
	}
	return t, nil
}

// readMergesFile parses merges.txt: an optional "#version" line, then one
// "a b" pair per line.
func readMergesFile(path string) ([][2]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var merges [][2]string
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" || (n == 0 && strings.HasPrefix(line, "#version")) {
			continue
		}
		a, b, ok := strings.Cut(line, " ")
		if !ok || strings.Contains(b, " ") {
			return nil, fmt.Errorf("tokenizer: %s line %d: %q is not two tokens separated by one space", path, n+1, line)
		}
		merges = append(merges, [2]string{a, b})
	}
	return merges, nil
}
