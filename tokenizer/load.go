package tokenizer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Load reads the tokenizer in dir: tokenizer.json (with tokenizer_config.json
// when present, for EOS/pad and the chat template), or else GPT-2's
// vocab.json + merges.txt (or their original names encoder.json + vocab.bpe).
func Load(dir string) (*Tokenizer, error) {
	hf := filepath.Join(dir, "tokenizer.json")
	if exists(hf) {
		t, err := LoadHF(hf)
		if err != nil {
			return nil, err
		}
		if err := t.applyConfig(filepath.Join(dir, "tokenizer_config.json")); err != nil {
			return nil, err
		}
		return t, nil
	}
	for _, names := range [][2]string{{"vocab.json", "merges.txt"}, {"encoder.json", "vocab.bpe"}} {
		v, m := filepath.Join(dir, names[0]), filepath.Join(dir, names[1])
		if exists(v) && exists(m) {
			t, err := LoadGPT2(v, m)
			if err != nil {
				return nil, err
			}
			if err := t.applyConfig(filepath.Join(dir, "tokenizer_config.json")); err != nil {
				return nil, err
			}
			return t, nil
		}
	}
	return nil, fmt.Errorf("tokenizer: %s has neither tokenizer.json nor vocab.json+merges.txt (or encoder.json+vocab.bpe)", dir)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, os.ErrNotExist)
}
