package data

import "github.com/amopo-engine/amopo/tokenizer"

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

// Message is one chat turn (tokenizer.Message).
type Message = tokenizer.Message

// UserTurn makes a ChatFormatter from any ApplyChatTemplate(messages, addGenerationPrompt)
// whose message type is a struct{ Role, Content string } (tokenizer.Message, with its
// JSON tags, or any plain one): the prompt becomes one user turn and the generation
// prompt is added. Use: enc.Chat = data.UserTurn(tok.ApplyChatTemplate).
func UserTurn[M ~struct{ Role, Content string } | ~struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}](apply func([]M, bool) (string, error)) ChatFormatter {
	return func(prompt string) (string, error) {
		return apply([]M{M(struct{ Role, Content string }{Role: "user", Content: prompt})}, true)
	}
}

// The byte-level tokenizer lives in package tokenizer with the others; these names keep
// the data package's callers (the built-in task, its tests) as they were.
const (
	BytePad       = tokenizer.BytePad
	ByteBOS       = tokenizer.ByteBOS
	ByteEOS       = tokenizer.ByteEOS
	ByteVocabSize = tokenizer.ByteVocabSize
	// ByteChatTemplate is tokenizer.ByteChatTemplate.
	ByteChatTemplate = tokenizer.ByteChatTemplate
)

// ByteTokenizer is tokenizer.Bytes, the byte-level tokenizer.
type ByteTokenizer = tokenizer.Bytes
