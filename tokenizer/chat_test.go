package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// chatConversations must match the conversations in testdata/chat/render.py,
// which rendered testdata/chat/expected.json with real Jinja (jinja2).
var chatConversations = map[string]struct {
	msgs []Message
	gen  bool
}{
	"sys_user_gen":  {[]Message{{"system", "You are terse."}, {"user", "Hi there"}}, true},
	"user_only_gen": {[]Message{{"user", "2+2?"}}, true},
	"multi_turn_think": {[]Message{
		{"user", "Hi"}, {"assistant", "<think>\nplan a reply\n</think>\n\nHello!"}, {"user", "Bye"},
	}, true},
	"final_assistant":       {[]Message{{"user", "Hi"}, {"assistant", "Hello!"}}, false},
	"final_assistant_think": {[]Message{{"user", "Hi"}, {"assistant", "<think>\nhmm\n</think>\n\nHello!"}}, false},
	"tools": {[]Message{
		{"user", "weather?"}, {"assistant", "calling"}, {"tool", `{"t": 20}`}, {"tool", `{"t": 21}`}, {"assistant", "It is 20."},
	}, false},
	// Assistant turns after the last user query that are not the last
	// message: Qwen3 keeps their reasoning only when there is some.
	"think_then_tool": {[]Message{
		{"user", "weather?"}, {"assistant", "<think>\nlook it up\n</think>\n\ncalling"}, {"tool", `{"t": 20}`},
		{"assistant", "<think>\nread the result\n</think>\n\nIt is 20."},
	}, false},
	"think_then_tool_gen": {[]Message{
		{"system", "Be brief."}, {"user", "weather?"}, {"assistant", "<think>\nlook it up\n</think>\n\ncalling"}, {"tool", `{"t": 20}`},
	}, true},
	"empty_think_not_last": {[]Message{
		{"user", "weather?"}, {"assistant", "<think>\n\n</think>\n\ncalling"}, {"tool", `{"t": 20}`}, {"assistant", "It is 20."},
	}, false},
	"empty": {nil, true},
}

// TestChatTemplatesMatchJinja renders the Qwen3 template shipped with the
// oracle package, a Qwen2.5-Instruct template (reconstructed; no Qwen2.5
// files are available offline) and the plain ChatML template.
func TestChatTemplatesMatchJinja(t *testing.T) {
	data, err := os.ReadFile("testdata/chat/expected.json")
	require.NoError(t, err)
	var expected map[string]string
	require.NoError(t, json.Unmarshal(data, &expected))

	qwen3 := loadQwen(t)
	templates := map[string]*Tokenizer{"qwen3": qwen3}
	for _, name := range []string{"qwen25", "chatml"} {
		tmpl, err := os.ReadFile(filepath.Join("testdata/chat", name+".jinja"))
		require.NoError(t, err)
		tok := *qwen3
		tok.chat = parseChatTemplate(string(tmpl), name+".jinja")
		templates[name] = &tok
	}
	checked := 0
	for key, want := range expected {
		dir, conv := filepath.Split(key)
		c, ok := chatConversations[conv]
		require.True(t, ok, "conversation %s", conv)
		got, err := templates[filepath.Clean(dir)].ApplyChatTemplate(c.msgs, c.gen)
		require.NoError(t, err, key)
		require.Equal(t, want, got, key)
		checked++
	}
	require.Equal(t, 28, checked)
}

func TestChatTemplateIDs(t *testing.T) {
	tok := loadQwen(t)
	s, err := tok.ApplyChatTemplate([]Message{{"user", "Hi"}}, true)
	require.NoError(t, err)
	ids := tok.Encode(s)
	start, _ := tok.TokenID("<|im_start|>")
	end, _ := tok.TokenID("<|im_end|>")
	require.Equal(t, start, ids[0])
	require.Contains(t, ids, end)
	require.Equal(t, s, tok.Decode(ids))
}

func TestUnsupportedChatTemplateNamesFile(t *testing.T) {
	tok := *loadQwen(t)
	tok.chat = parseChatTemplate("{% for m in messages %}[INST] {{ m.content }} [/INST]{% endfor %}", "/models/x/tokenizer_config.json")
	_, err := tok.ApplyChatTemplate([]Message{{"user", "Hi"}}, true)
	require.ErrorContains(t, err, "/models/x/tokenizer_config.json")
	require.ErrorContains(t, err, "not supported")
}

func TestQwenRejectsUnknownRole(t *testing.T) {
	_, err := loadQwen(t).ApplyChatTemplate([]Message{{"narrator", "Once"}}, false)
	require.ErrorContains(t, err, `role "narrator"`)
}

func TestGPT2ChatIsContentPlusEOS(t *testing.T) {
	tok := loadGPT2(t)
	s, err := tok.ApplyChatTemplate([]Message{{"user", "Hi"}, {"assistant", "Hello"}}, true)
	require.NoError(t, err)
	require.Equal(t, "Hi<|endoftext|>Hello<|endoftext|>", s)
	require.Equal(t, []int{17250, 50256, 15496, 50256}, tok.Encode(s))
}
