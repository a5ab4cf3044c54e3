package tokenizer

import (
	"fmt"
	"regexp"
	"strings"
)

// Message is one turn of a conversation.
type Message struct {
	Role    string `json:"role"`    // "system", "user", "assistant" or "tool"
	Content string `json:"content"` // text; for Qwen3 assistants, may hold <think>...</think>
}

type chatKind int

const (
	// chatConcat is what transformers used for GPT-2, which has no template:
	// each message's content followed by EOS, roles ignored.
	chatConcat chatKind = iota
	chatML
	chatUnsupported
)

// chatTemplate is a recognised Jinja template. Instead of interpreting Jinja,
// the ChatML family is recognised by its markers and its Qwen variations by
// telltale strings, and rendered by Go code.
type chatTemplate struct {
	kind   chatKind
	source string // file the template came from, for errors

	defaultSystem string // Qwen2/2.5: system turn added when none is given
	thinking      bool   // Qwen3: <think> blocks in assistant turns
	qwenRoles     bool   // Qwen2.5/3: tool turns wrapped as <tool_response>
}

// defaultSystemRE finds a literal system turn such as
// '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n'.
var defaultSystemRE = regexp.MustCompile(`'<\|im_start\|>system\\n([^'+]+?)<\|im_end\|>\\n'`)

func parseChatTemplate(tmpl, source string) chatTemplate {
	c := chatTemplate{source: source}
	switch {
	case tmpl == "":
		c.kind = chatConcat
	case strings.Contains(tmpl, "<|im_start|>") && strings.Contains(tmpl, "<|im_end|>"):
		c.kind = chatML
		if m := defaultSystemRE.FindStringSubmatch(tmpl); m != nil {
			c.defaultSystem = unescapeJinja(m[1])
		}
		c.thinking = strings.Contains(tmpl, "</think>") && strings.Contains(tmpl, "reasoning_content")
		c.qwenRoles = strings.Contains(tmpl, "<tool_response>")
	default:
		c.kind = chatUnsupported
	}
	return c
}

// unescapeJinja undoes the escapes of a single-quoted Jinja string literal.
func unescapeJinja(s string) string {
	return strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\'`, "'", `\"`, `"`, `\\`, `\`).Replace(s)
}

// ApplyChatTemplate renders messages with the template from
// tokenizer_config.json. ChatML (Qwen2, Qwen2.5, Qwen3 without tools) is
// supported; a tokenizer without a template (GPT-2) joins the contents with
// EOS after each. The result is text for Encode, which turns the markers
// into their special ids. addGenerationPrompt opens an assistant turn.
func (t *Tokenizer) ApplyChatTemplate(messages []Message, addGenerationPrompt bool) (string, error) {
	c := &t.chat
	switch c.kind {
	case chatConcat:
		return t.concatTemplate(messages)
	case chatML:
		return c.renderChatML(messages, addGenerationPrompt)
	}
	return "", fmt.Errorf("tokenizer: the chat template in %s is not supported: only ChatML (<|im_start|>role ... <|im_end|>) templates are rendered, and no Jinja interpreter is included", c.source)
}

func (t *Tokenizer) concatTemplate(messages []Message) (string, error) {
	if t.eos < 0 {
		return "", fmt.Errorf("tokenizer: no chat template and no eos_token to join messages with (%s)", orUnknown(t.chat.source))
	}
	eos := t.idBytes[t.eos]
	var b strings.Builder
	for _, m := range messages {
		b.WriteString(m.Content)
		b.WriteString(eos)
	}
	return b.String(), nil
}

func orUnknown(s string) string {
	if s == "" {
		return "no tokenizer_config.json"
	}
	return s
}

func (c *chatTemplate) renderChatML(messages []Message, addGenerationPrompt bool) (string, error) {
	var b strings.Builder
	turn := func(role, content string) {
		b.WriteString("<|im_start|>" + role + "\n" + content + "<|im_end|>\n")
	}
	if c.defaultSystem != "" && (len(messages) == 0 || messages[0].Role != "system") {
		turn("system", c.defaultSystem)
	}
	lastQuery := lastQueryIndex(messages)
	for i, m := range messages {
		switch {
		case m.Role == "assistant" && c.thinking:
			b.WriteString(qwen3Assistant(m.Content, i > lastQuery, i == len(messages)-1))
		case m.Role == "tool" && c.qwenRoles:
			// Consecutive tool results share one user turn.
			if i == 0 || messages[i-1].Role != "tool" {
				b.WriteString("<|im_start|>user")
			}
			b.WriteString("\n<tool_response>\n" + m.Content + "\n</tool_response>")
			if i == len(messages)-1 || messages[i+1].Role != "tool" {
				b.WriteString("<|im_end|>\n")
			}
		case c.qwenRoles && m.Role != "system" && m.Role != "user" && m.Role != "assistant":
			// Qwen's templates silently drop other roles; say so instead.
			return "", fmt.Errorf("tokenizer: message %d: role %q is not rendered by the chat template in %s", i, m.Role, c.source)
		default:
			turn(m.Role, m.Content)
		}
	}
	if addGenerationPrompt {
		b.WriteString("<|im_start|>assistant\n")
	}
	return b.String(), nil
}

// lastQueryIndex is Qwen3's ns.last_query_index: the last user message that
// is not a wrapped tool response, or the last message when there is none.
func lastQueryIndex(messages []Message) int {
	for i := len(messages) - 1; i >= 0; i-- {
		m := messages[i]
		toolResp := strings.HasPrefix(m.Content, "<tool_response>") && strings.HasSuffix(m.Content, "</tool_response>")
		if m.Role == "user" && !toolResp {
			return i
		}
	}
	return len(messages) - 1
}

// qwen3Assistant renders an assistant turn as Qwen3's template does: the
// reasoning between <think> and </think> is kept only for turns after the
// last user query, and the final turn always gets a (maybe empty) think block.
func qwen3Assistant(content string, afterLastQuery, last bool) string {
	reasoning := ""
	if strings.Contains(content, "</think>") {
		parts := strings.Split(content, "</think>")
		reasoning = strings.TrimRight(parts[0], "\n")
		if k := strings.LastIndex(reasoning, "<think>"); k >= 0 {
			reasoning = reasoning[k+len("<think>"):]
		}
		reasoning = strings.TrimLeft(reasoning, "\n")
		content = strings.TrimLeft(parts[len(parts)-1], "\n")
	}
	head := "<|im_start|>assistant\n"
	if afterLastQuery && (last || reasoning != "") {
		head += "<think>\n" + strings.Trim(reasoning, "\n") + "\n</think>\n\n"
		content = strings.TrimLeft(content, "\n")
	}
	return head + content + "<|im_end|>\n"
}
