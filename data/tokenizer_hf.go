package data

import "github.com/amopo-engine/amopo/tokenizer"

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
func (ByteTokenizer) SaveHF(dir string, maxLength int) error {
	return tokenizer.ByteVocab{
		Specials: byteSpecials[:],
		BOS:      byteSpecials[ByteBOS-256], EOS: byteSpecials[ByteEOS-256], Pad: byteSpecials[BytePad-256],
		ChatTemplate: ByteChatTemplate, ModelMaxLength: maxLength,
	}.Write(dir)
}
