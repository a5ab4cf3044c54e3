package data

import (
	"fmt"
)

// EncodeConfig says how pairs become token sequences.
type EncodeConfig struct {
	Tokenizer Tokenizer
	// Chat wraps each templated prompt in the model's chat template; nil keeps it as is.
	Chat      ChatFormatter
	Templates Templates
	// Scale fills {min_score} and {max_score}; the zero value means DefaultScale.
	Scale Scale
	// MaxLength bounds every sequence (prompt + response + EOS).
	MaxLength int
	// MaxPromptLength is the length the prompt may be cut down to when a sequence is too
	// long; it must be below MaxLength so that a response always keeps at least one token
	// (the known trap: max_prompt_length >= max_length leaves empty responses and NaN
	// losses). 0 means MaxLength/2.
	MaxPromptLength int
	// EOS is appended to every response exactly once (a trailing EOS the tokenizer added
	// already is not doubled).
	EOS int
	// AddBOS makes every prompt start with exactly one BOS: added when missing, and
	// repeated BOS tokens (a chat template's text BOS plus the tokenizer's) collapsed.
	// A BOS at the start of a response (a tokenizer adding one to every Encode) is dropped.
	AddBOS bool
	BOS    int
}

// Sequence is one prompt + response token sequence; the response (its tokens and the
// EOS) is Tokens[PromptLen:].
type Sequence struct {
	Tokens    []int32
	PromptLen int
}

// Example is one pair as 2*K sequences: Seqs[k][0] is the chosen response under template
// k, Seqs[k][1] the rejected one. Both sides of a k share the same prompt tokens.
type Example struct {
	Seqs              [][2]Sequence
	PromptTruncated   bool
	ResponseTruncated bool
	Source            Pos
}

// Len is the length of the longest of the example's sequences.
func (e *Example) Len() int {
	n := 0
	for _, s := range e.Seqs {
		n = max(n, len(s[0].Tokens), len(s[1].Tokens))
	}
	return n
}

// Encoder builds Examples.
type Encoder struct {
	cfg EncodeConfig
}

// NewEncoder checks the configuration.
func NewEncoder(cfg EncodeConfig) (*Encoder, error) {
	if cfg.Tokenizer == nil {
		return nil, fmt.Errorf("encode config: no tokenizer")
	}
	if err := cfg.Templates.Validate(); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	if cfg.Scale == (Scale{}) {
		cfg.Scale = DefaultScale()
	}
	if err := cfg.Scale.validate(); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	if cfg.MaxLength < 2 {
		return nil, fmt.Errorf("encode config: max_length must be >= 2 (one prompt and one response token), got %d", cfg.MaxLength)
	}
	if cfg.MaxPromptLength == 0 {
		cfg.MaxPromptLength = cfg.MaxLength / 2
	}
	if cfg.MaxPromptLength < 1 || cfg.MaxPromptLength >= cfg.MaxLength {
		return nil, fmt.Errorf("encode config: max_prompt_length must be in [1, max_length-1] = [1, %d], got %d: "+
			"a prompt as long as max_length leaves the response empty, and an empty response gives a NaN loss",
			cfg.MaxLength-1, cfg.MaxPromptLength)
	}
	if cfg.EOS < 0 {
		return nil, fmt.Errorf("encode config: eos id must be >= 0, got %d", cfg.EOS)
	}
	if cfg.AddBOS && cfg.BOS < 0 {
		return nil, fmt.Errorf("encode config: bos id must be >= 0 when adding a BOS, got %d", cfg.BOS)
	}
	return &Encoder{cfg: cfg}, nil
}

// Config returns the configuration in use (defaults filled in).
func (e *Encoder) Config() EncodeConfig { return e.cfg }

// Encode builds the 2*K sequences of a pair. When a sequence would exceed MaxLength, the
// prompt is cut from the left first (down to MaxPromptLength at most), then the
// responses from the right; a response always keeps at least one token. A cut response
// loses its EOS: the model must not learn to stop where the text was cut.
func (e *Encoder) Encode(p *Pair) (Example, error) {
	cfg := &e.cfg
	ex := Example{Seqs: make([][2]Sequence, len(cfg.Templates)), Source: p.Source}
	chosen := e.response(p.Chosen.Text)
	rejected := e.response(p.Rejected.Text)
	longest := max(len(chosen), len(rejected))
	for k, t := range cfg.Templates {
		prompt, err := e.promptIDs(t, p.Prompt, p.Chosen.Scores)
		if err != nil {
			return Example{}, fmt.Errorf("pair from %s: %w", p.Source, err)
		}
		if len(prompt)+longest > cfg.MaxLength {
			// Cut the prompt only as far as needed, and never below MaxPromptLength.
			target := max(cfg.MaxLength-longest, cfg.MaxPromptLength)
			if target < len(prompt) {
				if prompt, err = e.shrinkPrompt(t, p.Prompt, p.Chosen.Scores, target); err != nil {
					return Example{}, fmt.Errorf("pair from %s: %w", p.Source, err)
				}
				ex.PromptTruncated = true
			}
		}
		budget := cfg.MaxLength - len(prompt) // >= 1: len(prompt) <= MaxPromptLength < MaxLength
		for side, r := range [2][]int{chosen, rejected} {
			if len(r) > budget {
				r = r[:budget]
				ex.ResponseTruncated = true
			}
			ex.Seqs[k][side] = makeSequence(prompt, r)
		}
	}
	return ex, nil
}

// EncodeAll encodes every pair; an error names the pair's index.
func (e *Encoder) EncodeAll(pairs []Pair) ([]Example, error) {
	out := make([]Example, 0, len(pairs))
	for i := range pairs {
		ex, err := e.Encode(&pairs[i])
		if err != nil {
			return nil, fmt.Errorf("pair %d: %w", i, err)
		}
		out = append(out, ex)
	}
	return out, nil
}

// EncodePrompt returns the prompt tokens of template k for generation (no response),
// cut from the left like Encode's when longer than MaxPromptLength.
func (e *Encoder) EncodePrompt(prompt string, scores Scores, k int) ([]int32, error) {
	if k < 0 || k >= len(e.cfg.Templates) {
		return nil, fmt.Errorf("template index %d out of range [0, %d)", k, len(e.cfg.Templates))
	}
	t := e.cfg.Templates[k]
	ids, err := e.promptIDs(t, prompt, scores)
	if err != nil {
		return nil, err
	}
	if len(ids) > e.cfg.MaxPromptLength {
		if ids, err = e.shrinkPrompt(t, prompt, scores, e.cfg.MaxPromptLength); err != nil {
			return nil, err
		}
	}
	return makeSequence(ids, nil).Tokens, nil
}

// PromptFits reports whether the prompt of template k fits MaxPromptLength whole, that is
// whether EncodePrompt gives it uncut.
func (e *Encoder) PromptFits(prompt string, scores Scores, k int) (bool, error) {
	if k < 0 || k >= len(e.cfg.Templates) {
		return false, fmt.Errorf("template index %d out of range [0, %d)", k, len(e.cfg.Templates))
	}
	ids, err := e.promptIDs(e.cfg.Templates[k], prompt, scores)
	return len(ids) <= e.cfg.MaxPromptLength, err
}

// promptIDs renders, chat-formats and encodes the prompt of one template.
func (e *Encoder) promptIDs(t Template, prompt string, scores Scores) ([]int, error) {
	text, err := t.Render(prompt, scores, e.cfg.Scale)
	if err != nil {
		return nil, err
	}
	if e.cfg.Chat != nil {
		if text, err = e.cfg.Chat(text); err != nil {
			return nil, fmt.Errorf("chat template: %w", err)
		}
	}
	ids := e.cfg.Tokenizer.Encode(text)
	if e.cfg.AddBOS {
		i := 0
		for i < len(ids) && ids[i] == e.cfg.BOS {
			i++
		}
		ids = append([]int{e.cfg.BOS}, ids[i:]...)
	}
	return ids, nil
}

// shrinkPrompt fits a prompt into target tokens by cutting the original prompt x from the
// left, not the rendered text: a left cut of the rendered text would drop the template's
// head, which names the dimension and the score d_k, the very conditioning AMoPO trains
// on. It searches the longest suffix of x (whole characters) that fits. Only when the
// template and chat wrapper alone exceed target are the tokens themselves cut from the
// left (after the BOS).
func (e *Encoder) shrinkPrompt(t Template, prompt string, scores Scores, target int) ([]int, error) {
	runes := []rune(prompt)
	fits := func(n int) ([]int, bool, error) {
		ids, err := e.promptIDs(t, string(runes[len(runes)-n:]), scores)
		return ids, err == nil && len(ids) <= target, err
	}
	best, ok, err := fits(0)
	if err != nil {
		return nil, err
	}
	if !ok {
		ids := best
		head := 0
		if e.cfg.AddBOS {
			head = 1
		}
		return append(append([]int{}, ids[:head]...), ids[len(ids)-(target-head):]...), nil
	}
	lo, hi := 0, len(runes) // fits(lo) holds; search the largest n that fits
	for lo < hi {
		mid := (lo + hi + 1) / 2
		ids, ok, err := fits(mid)
		if err != nil {
			return nil, err
		}
		if ok {
			lo, best = mid, ids
		} else {
			hi = mid - 1
		}
	}
	return best, nil
}

// response encodes a response and ends it with exactly one EOS.
func (e *Encoder) response(text string) []int {
	ids := e.cfg.Tokenizer.Encode(text)
	if e.cfg.AddBOS {
		for len(ids) > 0 && ids[0] == e.cfg.BOS {
			ids = ids[1:]
		}
	}
	for len(ids) > 0 && ids[len(ids)-1] == e.cfg.EOS {
		ids = ids[:len(ids)-1]
	}
	return append(ids, e.cfg.EOS)
}

func makeSequence(prompt, response []int) Sequence {
	toks := make([]int32, 0, len(prompt)+len(response))
	for _, id := range prompt {
		toks = append(toks, int32(id))
	}
	for _, id := range response {
		toks = append(toks, int32(id))
	}
	return Sequence{Tokens: toks, PromptLen: len(prompt)}
}
