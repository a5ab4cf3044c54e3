package trainer

import (
	"fmt"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Sampling is how Answers decodes: greedy when Temperature is 0.
type Sampling struct {
	Repeat       int // answers per prompt (1 when 0)
	Temperature  float64
	TopK         int
	Seed         uint64
	MaxNewTokens int
}

// Answers generates answers to the prompts under enc's first (general) template with the
// model in modelCtx, Repeat answers per prompt, prompt-major.
func Answers(backend backends.Backend, modelCtx *context.Context, cfg *llm.Config, enc *data.Encoder,
	tok Tokenizer, prompts []string, s Sampling) ([]string, error) {
	repeat := max(s.Repeat, 1)
	ids := make([][]int32, 0, len(prompts)*repeat)
	for i, prompt := range prompts {
		p, err := enc.EncodePrompt(prompt, nil, 0)
		if err != nil {
			return nil, fmt.Errorf("prompt %d: %w", i, err)
		}
		for r := 0; r < repeat; r++ {
			ids = append(ids, p)
		}
	}
	outs, err := llm.Generate(backend, modelCtx, cfg, ids).MaxNewTokens(s.MaxNewTokens).
		Temperature(s.Temperature).TopK(s.TopK).Seed(s.Seed).
		EOS(int32(tok.EOS())).PadID(int32(tok.Pad())).Done()
	if err != nil {
		return nil, err
	}
	answers := make([]string, len(outs))
	for i, out := range outs {
		answers[i] = DecodeUntilEOS(tok, out)
	}
	return answers, nil
}

// DecodeUntilEOS decodes generated ids up to the first EOS, leaving out padding.
func DecodeUntilEOS(tok Tokenizer, ids []int32) string {
	var out []int
	for _, id := range ids {
		if int(id) == tok.EOS() {
			break
		}
		if int(id) != tok.Pad() {
			out = append(out, int(id))
		}
	}
	return tok.Decode(out)
}
