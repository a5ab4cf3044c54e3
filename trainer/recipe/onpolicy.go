package recipe

import (
	"fmt"
	"math/rand/v2"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/data/task"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/amopo-engine/amopo/trainer"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

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
	tok trainer.Tokenizer, items []task.Item, op trainer.OnPolicyConfig, seed uint64) (pairs []data.Pair, skipped int, err error) {
	answers, err := trainer.Answers(backend, modelCtx, cfg, enc, tok, Prompts(items), trainer.Sampling{Repeat: op.Samples,
		Temperature: op.Temperature, TopK: op.TopK, Seed: seed, MaxNewTokens: op.MaxNewTokens})
	if err != nil {
		return nil, 0, fmt.Errorf("on-policy samples: %w", err)
	}
	return OnPolicyPairs(items, answers, op.Samples)
}

// Prompts lists the items' prompts.
func Prompts(items []task.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Prompt
	}
	return out
}
