package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// ByteVocab describes a tokenizer whose tokens are the 256 byte values (ids 0-255, no
// merges) followed by special tokens, such as the engine's built-in byte tokenizer. Write
// saves it as Hugging Face tokenizer files, so that a model trained with it loads in
// transformers with its tokenizer and chat template (AutoTokenizer.from_pretrained).
type ByteVocab struct {
	Specials       []string // contents of the special tokens, ids 256, 257, ...
	BOS, EOS, Pad  string   // which special plays each role ("" none)
	ChatTemplate   string   // Jinja, as transformers renders it
	ModelMaxLength int      // 0: not written
}

// Write saves tokenizer.json (a byte-level BPE with no merges: every byte is one token,
// whatever the GPT-2 split) and tokenizer_config.json into dir. Special tokens are added
// tokens, so, as in every Hugging Face tokenizer, their text in an input is that token.
func (v ByteVocab) Write(dir string) error {
	ids := map[string]int{}
	for i, s := range v.Specials {
		if s == "" {
			return fmt.Errorf("tokenizer: special token %d is empty", i)
		}
		if _, dup := ids[s]; dup {
			return fmt.Errorf("tokenizer: special token %q given twice", s)
		}
		ids[s] = 256 + i
	}
	for role, s := range map[string]string{"bos": v.BOS, "eos": v.EOS, "pad": v.Pad} {
		if _, ok := ids[s]; s != "" && !ok {
			return fmt.Errorf("tokenizer: %s token %q is not one of the special tokens %q", role, s, v.Specials)
		}
	}
	vocab := make(map[string]int, 256)
	for b := 0; b < 256; b++ {
		vocab[string(byteToRune[b])] = b
	}
	type added struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	}
	var addedTokens []added
	addedDecoder := map[string]added{}
	for i, s := range v.Specials {
		a := added{ID: 256 + i, Content: s, Special: true}
		addedTokens = append(addedTokens, a)
		addedDecoder[strconv.Itoa(a.ID)] = a
	}
	byteLevel := func(useRegex bool) map[string]any {
		return map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": useRegex}
	}
	tokJSON := map[string]any{
		"version":        "1.0",
		"truncation":     nil,
		"padding":        nil,
		"added_tokens":   addedTokens,
		"normalizer":     nil,
		"pre_tokenizer":  byteLevel(true),
		"post_processor": nil,
		"decoder":        byteLevel(false),
		"model": map[string]any{
			"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil,
			"end_of_word_suffix": nil, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
			"vocab": vocab, "merges": []any{},
		},
	}
	cfg := map[string]any{
		"tokenizer_class":              "PreTrainedTokenizerFast",
		"added_tokens_decoder":         addedDecoder,
		"clean_up_tokenization_spaces": false,
	}
	for key, s := range map[string]string{"bos_token": v.BOS, "eos_token": v.EOS, "pad_token": v.Pad} {
		if s != "" {
			cfg[key] = s
		}
	}
	if v.ChatTemplate != "" {
		cfg["chat_template"] = v.ChatTemplate
	}
	if v.ModelMaxLength > 0 {
		cfg["model_max_length"] = v.ModelMaxLength
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	for name, content := range map[string]any{"tokenizer.json": tokJSON, "tokenizer_config.json": cfg} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // keep "<|eos|>" and the template readable
		enc.SetIndent("", "  ")
		if err := enc.Encode(content); err != nil {
			return fmt.Errorf("tokenizer: encoding %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("tokenizer: %w", err)
		}
	}
	return nil
}
