package data

import (
	"fmt"
	"strings"
)

// Tokenizer turns text into token ids. It is one method on purpose: the BPE tokenizer of
// package tokenizer (Encode(string) []int) satisfies it as is. Chat templating is a
// separate ChatFormatter rather than an ApplyChatTemplate method here, because Go only
// lets a method satisfy an interface when its parameter types are identical, and
// []tokenizer.Message is not []data.Message; UserTurn bridges the two.
type Tokenizer interface {
	Encode(text string) []int
}

// ChatFormatter turns a (templated) user prompt into the text the model reads before its
// response: the chat template with the generation prompt added. nil means the prompt as is.
type ChatFormatter func(prompt string) (string, error)

// Message is one chat turn.
type Message struct {
	Role, Content string
}

// UserTurn makes a ChatFormatter from any ApplyChatTemplate(messages, addGenerationPrompt)
// whose message type is a plain struct{ Role, Content string } (data.Message,
// tokenizer.Message): the prompt becomes one user turn and the generation prompt is
// added. Use: enc.Chat = data.UserTurn(tok.ApplyChatTemplate).
func UserTurn[M ~struct{ Role, Content string }](apply func([]M, bool) (string, error)) ChatFormatter {
	return func(prompt string) (string, error) {
		return apply([]M{{Role: "user", Content: prompt}}, true)
	}
}

// The byte-level tokenizer's ids: the 256 byte values, then three special tokens.
const (
	BytePad       = 256
	ByteBOS       = 257
	ByteEOS       = 258
	ByteVocabSize = 259
)

// ByteTokenizer is a byte-level tokenizer: one token per UTF-8 byte, plus pad, BOS and
// EOS. It needs no vocabulary file, so the built-in task and the tests use it; a tiny
// model with a 259-token vocabulary can learn the built-in task on a CPU.
type ByteTokenizer struct{}

// Encode returns the bytes of text as ids. It adds no special token.
func (ByteTokenizer) Encode(text string) []int {
	ids := make([]int, len(text))
	for i := 0; i < len(text); i++ {
		ids[i] = int(text[i])
	}
	return ids
}

// Decode turns ids back into text, dropping the special tokens.
func (ByteTokenizer) Decode(ids []int) string {
	b := make([]byte, 0, len(ids))
	for _, id := range ids {
		if id >= 0 && id < 256 {
			b = append(b, byte(id))
		}
	}
	return string(b)
}

// EOS returns the end-of-sequence id.
func (ByteTokenizer) EOS() int { return ByteEOS }

// BOS returns the beginning-of-sequence id.
func (ByteTokenizer) BOS() int { return ByteBOS }

// Pad returns the padding id.
func (ByteTokenizer) Pad() int { return BytePad }

// VocabSize returns the number of ids.
func (ByteTokenizer) VocabSize() int { return ByteVocabSize }

// ApplyChatTemplate is a minimal plain-text chat template, short so that tiny models
// spend their context on the task: "Q: user text\nA: assistant text\n", "S: " for a
// system turn; the generation prompt is "A: ".
func (ByteTokenizer) ApplyChatTemplate(messages []Message, addGenerationPrompt bool) (string, error) {
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
