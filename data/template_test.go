package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func scoredPair() Pair {
	return Pair{
		Prompt:   "What is 2+2?",
		Chosen:   Response{"4", Scores{"helpfulness": 4, "correctness": 3, "instruction_following": 2}},
		Rejected: Response{"5", Scores{"helpfulness": 1, "correctness": 0, "instruction_following": 4}},
	}
}

func TestDefaultTemplates(t *testing.T) {
	ts := DefaultTemplates()
	require.NoError(t, ts.Validate())
	require.Equal(t, []string{"general", "helpfulness", "correctness", "instruction_following"}, ts.Names())
	p := scoredPair()
	got, err := ts.Apply(&p, DefaultScale())
	require.NoError(t, err)
	require.Equal(t, "You are an expert in question answering. Answer the question below, integrating the dimensions "+
		"of helpfulness, correctness and instruction following.\n\nWhat is 2+2?", got[0])
	require.Equal(t, "You are an expert in question answering. Focus on the instruction following dimension of your "+
		"answer; its evaluation values range from 0 to 4. Please provide a response based on the evaluation value "+
		"of 2.\n\nWhat is 2+2?", got[3], "d is the chosen response's score, not the rejected one's")
	require.Contains(t, got[2], "evaluation value of 3.")
}

// TestTemplatesDoNotPileUp holds the fix of the authors' bug: their code rewrote one
// shared prompt in place, so template k saw the prefixes of templates 0..k-1 as well.
func TestTemplatesDoNotPileUp(t *testing.T) {
	ts := Templates{
		{Name: "general", Template: "[general] {prompt}"},
		{Name: "helpfulness", Template: "[{dimension} {score}] {prompt}"},
		{Name: "correctness", Template: "[{dimension} {score}] {prompt}"},
		{Name: "instruction_following", Template: "[{dimension} {score}/{max_score}] {prompt}"},
	}
	p := scoredPair()
	for round := 0; round < 2; round++ { // applying twice must not change anything either
		got, err := ts.Apply(&p, DefaultScale())
		require.NoError(t, err)
		require.Equal(t, []string{
			"[general] What is 2+2?",
			"[helpfulness 4] What is 2+2?",
			"[correctness 3] What is 2+2?",
			"[instruction following 2/4] What is 2+2?",
		}, got)
		for _, s := range got {
			require.Equal(t, 1, strings.Count(s, "["), "one template prefix per prompt: %q", s)
		}
		require.Equal(t, "What is 2+2?", p.Prompt, "the pair's prompt is never modified")
	}
}

func TestTemplateErrors(t *testing.T) {
	for tmpl, want := range map[string]string{
		"{scroe} {prompt}":         "unknown placeholder {scroe}",
		"no prompt here":           "{prompt} must appear exactly once, found 0",
		"{prompt} and {prompt}":    "{prompt} must appear exactly once, found 2",
		"open { brace {prompt}":    "unknown placeholder { brace {prompt}",
		"{prompt} {dimension":      "unclosed {",
		"close } brace {prompt}":   "lone }",
		"{{literal}} {prompt} {{}": "lone } at byte 23",
	} {
		err := Templates{{Name: "x", Template: tmpl}}.Validate()
		require.ErrorContains(t, err, want, tmpl)
	}
	require.ErrorContains(t, Templates{{Name: "a", Template: "{prompt}"}, {Name: "a", Template: "{prompt}"}}.Validate(), `"a" named twice`)
	require.ErrorContains(t, Templates{}.Validate(), "at least one")

	s, err := Template{Name: "x", Template: "{{literal}} {prompt}"}.Render("P", nil, DefaultScale())
	require.NoError(t, err)
	require.Equal(t, "{literal} P", s)

	// A score template for a dimension the data does not carry (HelpSteer2 has no
	// instruction_following) is a clear error, not a silent 0.
	p := Pair{Prompt: "p", Chosen: Response{"a", Scores{"helpfulness": 3}}, Source: Pos{"f.jsonl", 9}}
	_, err = DefaultTemplates().Apply(&p, DefaultScale())
	require.ErrorContains(t, err, `pair from f.jsonl:9: template correctness: the chosen response has no "correctness" score`)
}

func TestLoadTemplates(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "t.json")
	require.NoError(t, os.WriteFile(good, []byte("\ufeff"+`[{"name": "general", "template": "{prompt}"},
		{"name": "helpfulness", "template": "Be helpful ({score}/{max_score}).\n{prompt}"}]`), 0o644))
	ts, err := LoadTemplates(good)
	require.NoError(t, err)
	require.Equal(t, []string{"general", "helpfulness"}, ts.Names())
	require.True(t, ts[1].UsesScore())
	require.False(t, ts[0].UsesScore())

	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`[{"name": "general", "tmpl": "{prompt}"}]`), 0o644))
	_, err = LoadTemplates(bad)
	require.ErrorContains(t, err, `unknown field "tmpl"`)
	require.NoError(t, os.WriteFile(bad, []byte(`[{"name": "h", "template": "{score}"}]`), 0o644))
	_, err = LoadTemplates(bad)
	require.ErrorContains(t, err, "bad.json: templates[0].template (h): {prompt} must appear exactly once")
}
