package trainer

import (
	"fmt"
	"math"
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
