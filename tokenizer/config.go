package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// hfConfig is the part of tokenizer_config.json this package reads.
type hfConfig struct {
	EOS          tokenName       `json:"eos_token"`
	Pad          tokenName       `json:"pad_token"`
	BOS          tokenName       `json:"bos_token"`
	ChatTemplate json.RawMessage `json:"chat_template"`
}

// tokenName is a token given either as a string or as an AddedToken object
// {"content": "..."}; null means none.
type tokenName string

func (n *tokenName) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err == nil {
		if s != nil {
			*n = tokenName(*s)
		}
		return nil
	}
	var obj struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("token is neither a string nor {\"content\": ...}: %w", err)
	}
	*n = tokenName(obj.Content)
	return nil
}

// applyConfig reads tokenizer_config.json if it exists, and a separate
// chat_template.jinja next to it (newer repositories store it there).
func (t *Tokenizer) applyConfig(path string) error {
	t.chat = chatTemplate{source: path}
	if !exists(path) {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	var c hfConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("tokenizer: parse %s: %w", path, err)
	}
	for _, f := range []struct {
		name string
		tok  tokenName
		dst  *int
	}{{"eos_token", c.EOS, &t.eos}, {"pad_token", c.Pad, &t.pad}, {"bos_token", c.BOS, &t.bos}} {
		if f.tok == "" {
			continue
		}
		id, err := t.tokenIDOrErr(f.name, string(f.tok))
		if err != nil {
			return fmt.Errorf("tokenizer: %s: %w", path, err)
		}
		*f.dst = id
	}
	tmpl, err := chatTemplateText(c.ChatTemplate)
	if err != nil {
		return fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	if jinja := filepath.Join(filepath.Dir(path), "chat_template.jinja"); exists(jinja) {
		b, err := os.ReadFile(jinja)
		if err != nil {
			return fmt.Errorf("tokenizer: %w", err)
		}
		tmpl, path = string(b), jinja
	}
	t.chat = parseChatTemplate(tmpl, path)
	return nil
}

// chatTemplateText accepts a template string or a list of named templates,
// of which the one named "default" is used.
func chatTemplateText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var named []struct{ Name, Template string }
	if err := json.Unmarshal(raw, &named); err != nil {
		return "", fmt.Errorf("chat_template is neither a string nor a list of named templates: %w", err)
	}
	for _, n := range named {
		if n.Name == "default" {
			return n.Template, nil
		}
	}
	return "", fmt.Errorf("chat_template list has no template named \"default\"")
}
