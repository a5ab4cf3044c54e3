package data_test

import (
	"bufio"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/data/task"
	"github.com/stretchr/testify/require"
)

// The JavaScript port of transformers' tokenizers (@lenml/tokenizers, installed with the
// tokenizer oracles by .ci/install.sh) is the independent oracle of the exported files.
const hfDirScript = "../tokenizer/testdata/js/hf_dir.js"

// hfMessage is a chat turn as transformers takes it.
type hfMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type hfRequest struct {
	Encode              *string     `json:"encode,omitempty"`
	Messages            []hfMessage `json:"messages,omitempty"`
	AddGenerationPrompt bool        `json:"add_generation_prompt,omitempty"`
}

type hfAnswer struct {
	IDs     []int  `json:"ids"`
	Decoded string `json:"decoded"`
	Text    string `json:"text"`
	Error   string `json:"error"`
}

func askHFDir(t *testing.T, dir string, reqs []hfRequest) []hfAnswer {
	t.Helper()
	if _, err := os.Stat("../tokenizer/testdata/js/node_modules/@lenml/tokenizers"); err != nil {
		t.Fatalf("the JavaScript tokenizers are missing (%v): run .ci/install.sh", err)
	}
	tmp := t.TempDir()
	in, out := filepath.Join(tmp, "req.jsonl"), filepath.Join(tmp, "out.jsonl")
	f, err := os.Create(in)
	require.NoError(t, err)
	enc := json.NewEncoder(f)
	for _, r := range reqs {
		require.NoError(t, enc.Encode(r))
	}
	require.NoError(t, f.Close())
	msg, err := exec.Command("node", hfDirScript, dir, in, out).CombinedOutput()
	require.NoError(t, err, "node %s: %s", hfDirScript, msg)
	g, err := os.Open(out)
	require.NoError(t, err)
	defer g.Close()
	var answers []hfAnswer
	sc := bufio.NewScanner(g)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var a hfAnswer
		require.NoError(t, json.Unmarshal(sc.Bytes(), &a))
		answers = append(answers, a)
	}
	require.Len(t, answers, len(reqs))
	return answers
}

// TestByteTokenizerHFFilesMatchTheTrainer: the tokenizer files of an exported model,
// read by transformers' tokenizers (JavaScript port), give the ids the trainer trains on:
// Encode for text, and the encoder's prompt (BOS + chat template, with and without a
// dimension template) for apply_chat_template.
func TestByteTokenizerHFFilesMatchTheTrainer(t *testing.T) {
	tok := data.ByteTokenizer{}
	dir := t.TempDir()
	require.NoError(t, tok.SaveHF(dir, 512))

	rng := rand.New(rand.NewPCG(3, 4))
	var prompts []string
	for range 100 {
		prompts = append(prompts, task.NewItem(rng).Prompt)
	}
	prompts = append(prompts, "héllo wörld 👍🏽 — 中文 テスト", "tabs\tand\r\nCRLF  runs   ", "'s 're Ġ ĉ \u00a0", "a</s><s>b", "")

	scores := data.Scores{"helpfulness": 3, "correctness": 4, "instruction_following": 2}
	templates := data.DefaultTemplates()
	identity := data.Templates{{Name: "plain", Template: "{prompt}"}}
	encoder := func(ts data.Templates) *data.Encoder {
		e, err := data.NewEncoder(data.EncodeConfig{Tokenizer: tok, Chat: data.UserTurn(tok.ApplyChatTemplate),
			Templates: ts, MaxLength: 4096, MaxPromptLength: 2048, EOS: tok.EOS(), AddBOS: true, BOS: tok.BOS()})
		require.NoError(t, err)
		return e
	}
	plain, dims := encoder(identity), encoder(templates)

	var reqs []hfRequest
	var want [][]int
	for _, p := range prompts {
		reqs = append(reqs, hfRequest{Encode: &p})
		want = append(want, tok.Encode(p))

		reqs = append(reqs, hfRequest{Messages: []hfMessage{{Role: "user", Content: p}}, AddGenerationPrompt: true})
		ids, err := plain.EncodePrompt(p, nil, 0)
		require.NoError(t, err)
		want = append(want, int32s(ids))

		rendered, err := templates[2].Render(p, scores, data.DefaultScale())
		require.NoError(t, err)
		reqs = append(reqs, hfRequest{Messages: []hfMessage{{Role: "user", Content: rendered}}, AddGenerationPrompt: true})
		ids, err = dims.EncodePrompt(p, scores, 2)
		require.NoError(t, err)
		want = append(want, int32s(ids))
	}
	// A conversation, and a role the template refuses like ApplyChatTemplate does.
	conv := []data.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "add 2 and 2."},
		{Role: "assistant", Content: "4"}, {Role: "user", Content: "and 3?"}}
	var hfConv []hfMessage
	for _, m := range conv {
		hfConv = append(hfConv, hfMessage(m))
	}
	reqs = append(reqs, hfRequest{Messages: hfConv}, hfRequest{Messages: []hfMessage{{Role: "tool", Content: "x"}}})
	text, err := tok.ApplyChatTemplate(conv, false)
	require.NoError(t, err)
	want = append(want, append([]int{data.ByteBOS}, tok.Encode(text)...), nil)
	_, goErr := tok.ApplyChatTemplate([]data.Message{{Role: "tool", Content: "x"}}, false)
	require.Error(t, goErr)

	got := askHFDir(t, dir, reqs)
	for i, a := range got[:len(got)-1] {
		require.Empty(t, a.Error, "request %d", i)
		if len(want[i]) == 0 && len(a.IDs) == 0 {
			continue
		}
		require.Equal(t, want[i], a.IDs, "request %d: %+v (rendered %q)", i, reqs[i], a.Text)
		if reqs[i].Encode != nil {
			require.Equal(t, *reqs[i].Encode, a.Decoded, "request %d decodes back", i)
		}
	}
	require.True(t, strings.Contains(got[len(got)-1].Error, "unknown role tool"), "got %+v", got[len(got)-1])
}

func int32s(ids []int32) []int {
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	return out
}
