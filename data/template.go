package data

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Template rewrites a prompt for one dimension: x*_k = f(x, d_k) (paper section 4.1).
// Placeholders: {prompt} (the original prompt, exactly once), {dimension} (the name with
// underscores as spaces), {score} (d_k: the chosen response's score on the dimension
// Name), {min_score}, {max_score} (the score scale). "{{" and "}}" are literal braces.
type Template struct {
	Name     string `json:"name"`
	Template string `json:"template"`
}

// Templates are the K templates of a run, in the order of the loss's K axis: their Names
// are spec.Params.Dimensions.
type Templates []Template

const (
	generalText = "You are an expert in question answering. Answer the question below, " +
		"integrating the dimensions of helpfulness, correctness and instruction following.\n\n{prompt}"
	dimensionText = "You are an expert in question answering. Focus on the {dimension} dimension " +
		"of your answer; its evaluation values range from {min_score} to {max_score}. " +
		"Please provide a response based on the evaluation value of {score}.\n\n{prompt}"
)

// DefaultTemplates are the authors' K = 4 templates, paraphrased: a general one that
// integrates the three dimensions (it takes no score), then helpfulness, correctness and
// instruction following, each naming its dimension and the target score.
func DefaultTemplates() Templates {
	return Templates{
		{Name: "general", Template: generalText},
		{Name: "helpfulness", Template: dimensionText},
		{Name: "correctness", Template: dimensionText},
		{Name: "instruction_following", Template: dimensionText},
	}
}

// LoadTemplates reads a JSON list of {"name", "template"} objects and checks it.
func LoadTemplates(path string) (Templates, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading templates: %w", err)
	}
	body = bytes.TrimPrefix(body, utf8BOM)
	var ts Templates
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ts); err != nil {
		return nil, fmt.Errorf("%s: expected a JSON list of {\"name\", \"template\"}: %w", path, err)
	}
	if err := ts.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ts, nil
}

// Names returns the template names: the dimensions of the K axis.
func (ts Templates) Names() []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return out
}

// Validate checks names (non-empty, unique) and placeholders (known, {prompt} once).
func (ts Templates) Validate() error {
	if len(ts) == 0 {
		return fmt.Errorf("templates: at least one is needed")
	}
	seen := map[string]bool{}
	for i, t := range ts {
		if t.Name == "" {
			return fmt.Errorf("templates[%d].name: empty", i)
		}
		if seen[t.Name] {
			return fmt.Errorf("templates[%d].name: %q named twice", i, t.Name)
		}
		seen[t.Name] = true
		segs, err := parseTemplate(t.Template)
		if err != nil {
			return fmt.Errorf("templates[%d].template (%s): %w", i, t.Name, err)
		}
		n := 0
		for _, s := range segs {
			if s.placeholder == "prompt" {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("templates[%d].template (%s): {prompt} must appear exactly once, found %d", i, t.Name, n)
		}
	}
	return nil
}

// Apply returns the K templated prompts of a pair. Each one is rendered from the pair's
// original prompt: the authors' code rewrote one shared prompt in place, so the prefixes
// piled up template after template; here the prompt is never modified.
func (ts Templates) Apply(p *Pair, scale Scale) ([]string, error) {
	out := make([]string, len(ts))
	for i, t := range ts {
		s, err := t.Render(p.Prompt, p.Chosen.Scores, scale)
		if err != nil {
			return nil, fmt.Errorf("pair from %s: %w", p.Source, err)
		}
		out[i] = s
	}
	return out, nil
}

// Render fills the template for a prompt, taking d from scores[Name].
func (t Template) Render(prompt string, scores Scores, scale Scale) (string, error) {
	segs, err := parseTemplate(t.Template)
	if err != nil {
		return "", fmt.Errorf("template %s: %w", t.Name, err)
	}
	var b strings.Builder
	for _, s := range segs {
		switch s.placeholder {
		case "":
			b.WriteString(s.text)
		case "prompt":
			b.WriteString(prompt)
		case "dimension":
			b.WriteString(strings.ReplaceAll(t.Name, "_", " "))
		case "score":
			v, ok := scores[t.Name]
			if !ok {
				return "", fmt.Errorf("template %s: the chosen response has no %q score (its scores: %v)",
					t.Name, t.Name, scores.Names())
			}
			b.WriteString(formatScore(v))
		case "min_score":
			b.WriteString(formatScore(scale.Min))
		case "max_score":
			b.WriteString(formatScore(scale.Max))
		}
	}
	return b.String(), nil
}

// UsesScore reports whether the template needs a score.
func (t Template) UsesScore() bool {
	segs, err := parseTemplate(t.Template)
	if err != nil {
		return false
	}
	for _, s := range segs {
		if s.placeholder == "score" {
			return true
		}
	}
	return false
}

type segment struct {
	text        string // literal text, when placeholder is ""
	placeholder string
}

var placeholders = []string{"prompt", "dimension", "score", "min_score", "max_score"}

func parseTemplate(s string) ([]segment, error) {
	var segs []segment
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unclosed { at byte %d (write {{ for a literal brace)", i)
			}
			name := s[i+1 : i+end]
			if !contains(placeholders, name) {
				return nil, fmt.Errorf("unknown placeholder {%s} (known: {%s})", name, strings.Join(placeholders, "}, {"))
			}
			if lit.Len() > 0 {
				segs = append(segs, segment{text: lit.String()})
				lit.Reset()
			}
			segs = append(segs, segment{placeholder: name})
			i += end
		case c == '}':
			return nil, fmt.Errorf("lone } at byte %d (write }} for a literal brace)", i)
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		segs = append(segs, segment{text: lit.String()})
	}
	return segs, nil
}
