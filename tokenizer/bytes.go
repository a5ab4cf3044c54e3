package tokenizer

import (
	"fmt"
	"strings"
)

// The byte-level tokenizer's ids: the 256 byte values, then three special tokens.
const (
	BytePad       = 256
	ByteBOS       = 257
	ByteEOS       = 258
	ByteVocabSize = 259
)

// Bytes is a byte-level tokenizer: one token per UTF-8 byte, plus pad, BOS and
// EOS. It needs no vocabulary file, so the built-in task and the tests use it; a tiny
// model with a 259-token vocabulary can learn the built-in task on a CPU.
type Bytes struct{}

// Encode returns the bytes of text as ids. It adds no special token.
func (Bytes) Encode(text string) []int {
	ids := make([]int, len(text))
	for i := 0; i < len(text); i++ {
		ids[i] = int(text[i])
	}
	return ids
}

// Decode turns ids back into text, dropping the special tokens.
func (Bytes) Decode(ids []int) string {
	b := make([]byte, 0, len(ids))
	for _, id := range ids {
		if id >= 0 && id < 256 {
			b = append(b, byte(id))
		}
	}
	return string(b)
}

// EOS returns the end-of-sequence id.
func (Bytes) EOS() int { return ByteEOS }

// BOS returns the beginning-of-sequence id.
func (Bytes) BOS() int { return ByteBOS }

// Pad returns the padding id.
func (Bytes) Pad() int { return BytePad }

// VocabSize returns the number of ids.
func (Bytes) VocabSize() int { return ByteVocabSize }

// ApplyChatTemplate is a minimal plain-text chat template, short so that tiny models
// spend their context on the task: "Q: user text\nA: assistant text\n", "S: " for a
// system turn; the generation prompt is "A: ".
func (Bytes) ApplyChatTemplate(messages []Message, addGenerationPrompt bool) (string, error) {
	var b strings.Builder
	for i, m := range messages {
		tag, ok := map[string]string{"system": "S", "user": "Q", "assistant": "A"}[m.Role]
		if !ok {
			return "", fmt.Errorf("chat template: messages[%d]: unknown role %q (known: system, user, assistant)", i, m.Role)
		}
		fmt.Fprintf(&b, "%s: %s\n", tag, m.Content)
	}
	if addGenerationPrompt {
		b.WriteString("A: ")
	}
	return b.String(), nil
}

// The byte tokenizer's special tokens as text, for the Hugging Face files SaveHF writes.
var byteSpecials = [...]string{BytePad - 256: "<|pad|>", ByteBOS - 256: "<|bos|>", ByteEOS - 256: "<|eos|>"}

// ByteChatTemplate is ApplyChatTemplate in Jinja, as transformers renders chat templates,
// with the BOS that the trainer's encoder puts in front of every prompt: rendered and
// tokenized, it gives exactly the ids the model was trained on (a test renders it with
// the JavaScript port of transformers' tokenizers).
const ByteChatTemplate = `{{- bos_token -}}
{%- for m in messages -%}
{%- if m['role'] == 'system' -%}{{- 'S: ' -}}
{%- elif m['role'] == 'user' -%}{{- 'Q: ' -}}
{%- elif m['role'] == 'assistant' -%}{{- 'A: ' -}}
{%- else -%}{{- raise_exception('unknown role ' + m['role'] + ' (known: system, user, assistant)') -}}
{%- endif -%}
{{- m['content'] + '\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- 'A: ' -}}{%- endif -%}`

// SaveHF writes the tokenizer as Hugging Face files (tokenizer.json, tokenizer_config.json
// with the chat template) into dir, next to an exported model, so that
// AutoTokenizer.from_pretrained(dir) encodes text to the same ids as Encode.
func (Bytes) SaveHF(dir string, maxLength int) error {
	return ByteVocab{
		Specials: byteSpecials[:],
		BOS:      byteSpecials[ByteBOS-256], EOS: byteSpecials[ByteEOS-256], Pad: byteSpecials[BytePad-256],
		ChatTemplate: ByteChatTemplate, ModelMaxLength: maxLength,
	}.Write(dir)
}
