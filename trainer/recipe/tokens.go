package recipe

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/tokenizer"
	"github.com/amopo-engine/amopo/trainer"
)

// Tokens is the run's tokenizer with what the recipe needs around it: the special ids,
// the chat formatting of a prompt, and how the export writes it. It implements
// trainer.Tokenizer.
type Tokens struct {
	trainer.Tokenizer
	// BOS starts every prompt when AddBOS (the byte-level tokenizer; a Hugging Face one
	// whose BOS is not its EOS, as Llama 3's).
	BOS    int
	AddBOS bool
	Chat   data.ChatFormatter
	// Source is where the tokenizer was read from ("bytes": built in).
	Source string
	// save writes the tokenizer files next to an exported model.
	save func(dir string, maxLength int) error
}

// hfTokens adapts a Hugging Face tokenizer (tokenizer.json or GPT-2 files, with
// tokenizer_config.json's special tokens and chat template).
type hfTokens struct {
	*tokenizer.Tokenizer
	eos, pad int
}

func (t hfTokens) EOS() int { return t.eos }
func (t hfTokens) Pad() int { return t.pad }

// byteTokens is the byte-level tokenizer of the built-in task.
func byteTokens() *Tokens {
	tok := tokenizer.Bytes{}
	return &Tokens{Tokenizer: tok, BOS: tok.BOS(), AddBOS: true, Chat: data.UserTurn(tok.ApplyChatTemplate),
		Source: "bytes", save: tok.SaveHF}
}

// loadTokenizer reads data.tokenizer: "bytes", a folder, or (empty) model.dir's
// tokenizer, else bytes.
func loadTokenizer(cfg trainer.Config) (*Tokens, string, error) {
	if cfg.Model.Dir != "" {
		if _, err := os.Stat(cfg.Model.Dir); err != nil {
			return nil, "", fmt.Errorf("model.dir: %w", err)
		}
	}
	dir := cfg.Data.Tokenizer
	if dir == "" {
		dir = cfg.Model.Dir
	}
	if dir == "" || dir == "bytes" {
		return byteTokens(), "bytes", nil
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, "", fmt.Errorf("data.tokenizer: %w", err)
	}
	if isByteTokenizer(dir) {
		t := byteTokens()
		t.Source = dir
		return t, dir, nil
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return nil, "", err
	}
	eos, ok := tok.EOS()
	if !ok {
		return nil, "", fmt.Errorf("tokenizer: %s: no eos_token in tokenizer_config.json: every response ends with it", dir)
	}
	pad, ok := tok.Pad()
	if !ok {
		pad = eos // padding is masked out: any id does, EOS is one the model knows
	}
	bos, hasBOS := tok.BOS()
	chat := func(prompt string) (string, error) {
		return tok.ApplyChatTemplate([]tokenizer.Message{{Role: "user", Content: prompt}}, true)
	}
	if _, err := chat("x"); err != nil {
		return nil, "", err
	}
	t := &Tokens{Tokenizer: hfTokens{Tokenizer: tok, eos: eos, pad: pad}, BOS: bos, AddBOS: hasBOS && bos != eos,
		Chat: chat, Source: dir}
	t.save = func(out string, _ int) error { return copyTokenizerFiles(dir, out) }
	return t, dir, nil
}

// isByteTokenizer reports whether dir holds the byte-level tokenizer's files, as an
// export of a model trained with it has: its chat template is the byte tokenizer's
// (Jinja that package tokenizer does not render; the byte tokenizer renders it in Go).
func isByteTokenizer(dir string) bool {
	text, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json"))
	if err != nil {
		return false
	}
	var c struct {
		ChatTemplate string `json:"chat_template"`
	}
	return json.Unmarshal(text, &c) == nil && c.ChatTemplate == tokenizer.ByteChatTemplate
}

// BOSOrNone is the BOS id the export records, -1 for none.
func (t *Tokens) BOSOrNone() int {
	if t.AddBOS {
		return t.BOS
	}
	return -1
}

// tokenizerFiles are the files of a Hugging Face tokenizer folder that an export
// carries (source name -> exported name), so that AutoTokenizer reads the very tokenizer
// the model was trained with. GPT-2's original encoder.json and vocab.bpe are exported
// under the names transformers reads, vocab.json and merges.txt.
var tokenizerFiles = [][2]string{{"tokenizer.json", ""}, {"tokenizer_config.json", ""}, {"special_tokens_map.json", ""},
	{"chat_template.jinja", ""}, {"added_tokens.json", ""}, {"vocab.json", ""}, {"merges.txt", ""},
	{"encoder.json", "vocab.json"}, {"vocab.bpe", "merges.txt"}}

// copyTokenizerFiles copies the tokenizer files of src into dst, byte for byte.
func copyTokenizerFiles(src, dst string) error {
	n := 0
	for _, f := range tokenizerFiles {
		name, to := f[0], f[1]
		if to == "" {
			to = name
		} else if _, err := os.Stat(filepath.Join(src, to)); err == nil {
			continue // the folder has both names: the one transformers reads was copied
		}
		in, err := os.Open(filepath.Join(src, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		err = writeFileFrom(filepath.Join(dst, to), in)
		in.Close()
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("export: no tokenizer file in %s", src)
	}
	return nil
}

func writeFileFrom(path string, in io.Reader) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
