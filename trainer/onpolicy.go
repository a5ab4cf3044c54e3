package trainer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"unicode/utf8"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/data/task"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// OnPolicyConfig makes preference pairs from the SFT model's own answers, as SimPO's
// recipe does: Samples answers per prompt at Temperature, scored by the task's judges;
// chosen is the answer with the highest judge-score sum, rejected the lowest; prompts
// where they tie are skipped. The pairs teach the model about the mistakes it makes,
// which the generator's hand-made rejected answers only approximate.
type OnPolicyConfig struct {
	Prompts      int     `json:"prompts" yaml:"prompts" help:"builtin task: fresh training prompts sampled after SFT for on-policy pairs (0: none)"`
	Samples      int     `json:"samples" yaml:"samples" help:"answers sampled per on-policy prompt"`
	Temperature  float64 `json:"temperature" yaml:"temperature" help:"sampling temperature of the on-policy answers"`
	TopK         int     `json:"top_k" yaml:"top_k" help:"top-k of the on-policy sampling (0: all tokens)"`
	MaxNewTokens int     `json:"max_new_tokens" yaml:"max_new_tokens" help:"longest on-policy answer, in tokens"`
}

// Validate checks the numbers when on-policy pairs are asked for.
func (c OnPolicyConfig) Validate() error {
	if c.Prompts < 0 {
		return fmt.Errorf("on_policy.prompts = %d: must be >= 0 (0: no on-policy pairs)", c.Prompts)
	}
	if c.Prompts == 0 {
		return nil
	}
	switch {
	case c.Samples < 2:
		return fmt.Errorf("on_policy.samples = %d: must be >= 2 (a pair needs two answers)", c.Samples)
	case math.IsNaN(c.Temperature) || math.IsInf(c.Temperature, 0) || c.Temperature <= 0:
		return fmt.Errorf("on_policy.temperature = %v: must be a finite number > 0", c.Temperature)
	case c.TopK < 0:
		return fmt.Errorf("on_policy.top_k = %d: must be >= 0 (0: all tokens)", c.TopK)
	case c.MaxNewTokens < 1:
		return fmt.Errorf("on_policy.max_new_tokens = %d: must be >= 1", c.MaxNewTokens)
	}
	return nil
}

// Sampling is how Answers decodes: greedy when Temperature is 0.
type Sampling struct {
	Repeat       int // answers per item (1 when 0)
	Temperature  float64
	TopK         int
	Seed         uint64
	MaxNewTokens int
}

// Answers generates answers to the items' prompts under enc's first (general) template
// with the model in modelCtx, Repeat answers per item, item-major.
func Answers(backend backends.Backend, modelCtx *context.Context, cfg *llm.Config, enc *data.Encoder,
	tok data.ByteTokenizer, items []task.Item, s Sampling) ([]string, error) {
	repeat := max(s.Repeat, 1)
	prompts := make([][]int32, 0, len(items)*repeat)
	for i, it := range items {
		p, err := enc.EncodePrompt(it.Prompt, nil, 0)
		if err != nil {
			return nil, fmt.Errorf("prompt %d: %w", i, err)
		}
		for r := 0; r < repeat; r++ {
			prompts = append(prompts, p)
		}
	}
	outs, err := llm.Generate(backend, modelCtx, cfg, prompts).MaxNewTokens(s.MaxNewTokens).
		Temperature(s.Temperature).TopK(s.TopK).Seed(s.Seed).
		EOS(int32(tok.EOS())).PadID(int32(tok.Pad())).Done()
	if err != nil {
		return nil, err
	}
	answers := make([]string, len(outs))
	for i, ids := range outs {
		answers[i] = decodeUntilEOS(tok, ids)
	}
	return answers, nil
}

// OnPolicyPrompts draws n fresh task items from their own stream (seeded by dataSeed),
// none of them among held (the held-out prompts).
func OnPolicyPrompts(dataSeed uint64, n int, held []task.Item) ([]task.Item, error) {
	seen := map[string]bool{}
	for _, it := range held {
		seen[it.Prompt] = true
	}
	rng := rand.New(rand.NewPCG(dataSeed, 0x0b0b))
	var out []task.Item
	err := task.DrawDistinct(rng, n, seen, "on-policy", func(it task.Item) bool {
		out = append(out, it)
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// OnPolicyPairs judges answers (samples per item, item-major, as Answers returns them)
// and pairs each item's best and worst by judge-score sum; items whose answers all tie
// are skipped and counted.
func OnPolicyPairs(items []task.Item, answers []string, samples int) (pairs []data.Pair, skipped int, err error) {
	if len(answers) != len(items)*samples {
		return nil, 0, fmt.Errorf("on-policy pairs: %d answers for %d prompts x %d samples", len(answers), len(items), samples)
	}
	for i, it := range items {
		best, worst := -1, -1
		var bestS, worstS data.Scores
		for j := i * samples; j < (i+1)*samples; j++ {
			s := task.Judge(it.Meta, answers[j])
			if best < 0 || task.Total(s) > task.Total(bestS) {
				best, bestS = j, s
			}
			if worst < 0 || task.Total(s) < task.Total(worstS) {
				worst, worstS = j, s
			}
		}
		if task.Total(bestS) == task.Total(worstS) {
			skipped++
			continue
		}
		pairs = append(pairs, data.Pair{Prompt: it.Prompt,
			Chosen:   data.Response{Text: answers[best], Scores: bestS},
			Rejected: data.Response{Text: answers[worst], Scores: worstS},
			Source:   data.Pos{File: "on-policy", Line: i + 1}})
	}
	return pairs, skipped, nil
}

// SampleOnPolicyPairs is the whole recipe: sample, judge, pair.
func SampleOnPolicyPairs(backend backends.Backend, modelCtx *context.Context, cfg *llm.Config, enc *data.Encoder,
	tok data.ByteTokenizer, items []task.Item, op OnPolicyConfig, seed uint64) (pairs []data.Pair, skipped int, err error) {
	answers, err := Answers(backend, modelCtx, cfg, enc, tok, items, Sampling{Repeat: op.Samples,
		Temperature: op.Temperature, TopK: op.TopK, Seed: seed, MaxNewTokens: op.MaxNewTokens})
	if err != nil {
		return nil, 0, fmt.Errorf("on-policy samples: %w", err)
	}
	return OnPolicyPairs(items, answers, op.Samples)
}

// pairLine is a line of a pairs file: the pair, plus the answers' exact bytes where they
// are not valid UTF-8 (a sampled byte-level model can end mid-character, and JSON would
// replace those bytes, changing the tokens trained on).
type pairLine struct {
	data.Pair
	ChosenBytes   []byte `json:",omitempty"`
	RejectedBytes []byte `json:",omitempty"`
}

// WritePairs saves pairs as JSON lines, atomically: the on-policy pairs of a run, for a
// person to read and for --resume to train on the same pairs, byte for byte. (Not the
// AMoPO record format: that one refuses the empty answers a model can give.)
func WritePairs(path string, pairs []data.Pair) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, p := range pairs {
		line := pairLine{Pair: p}
		if !utf8.ValidString(p.Chosen.Text) {
			line.ChosenBytes = []byte(p.Chosen.Text)
		}
		if !utf8.ValidString(p.Rejected.Text) {
			line.RejectedBytes = []byte(p.Rejected.Text)
		}
		if err := enc.Encode(line); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return writeAtomic(path, b.Bytes())
}

// ReadPairs reads a file WritePairs wrote.
func ReadPairs(path string) ([]data.Pair, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var pairs []data.Pair
	for i, raw := range bytes.Split(text, []byte("\n")) {
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		var line pairLine
		if err := json.Unmarshal(raw, &line); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		if line.ChosenBytes != nil {
			line.Chosen.Text = string(line.ChosenBytes)
		}
		if line.RejectedBytes != nil {
			line.Rejected.Text = string(line.RejectedBytes)
		}
		pairs = append(pairs, line.Pair)
	}
	return pairs, nil
}
