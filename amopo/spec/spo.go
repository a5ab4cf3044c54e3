package spec

import "fmt"

// SFTModel is the model index of the SFT model in an SPO schedule (the stages are 0..n-1).
const SFTModel = -1

// SPOStage is one stage of SPO (Lou et al. 2024, "sequentially finetunes LLMs to align
// with multiple dimensions of human preferences", the AMoPO paper's Sec. 5.1): the policy
// is trained on one dimension's preferences, starting from the previous stage's model and
// with it as the reference (the KL anchor of Lou et al.'s round n is pi_{n-1}).
type SPOStage struct {
	// Index is the stage's position, 0-based.
	Index int
	// Dimension names the score that orders this stage's pairs: chosen is the response
	// with the higher score on Dimension; pairs tied on it are left out.
	Dimension string
	// Params is the stage's loss over K = 1 template: Params.Dimensions is [the template
	// the prompts are written with]: "general" (the plain prompt, as Lou et al.) or, with
	// templated stages, Dimension's own template x*_d = f(x, d).
	Params Params
	// InitFrom is the model the stage starts from and ReferenceFrom the model that scores
	// the reference log-probs (when Params.Loss.NeedsReference()): SFTModel for the first
	// stage, the previous stage's output after.
	InitFrom, ReferenceFrom int
}

// SPOSchedule returns SPO's stages, one per dimension in the given order (the paper's
// HelpSteer2 order: helpfulness, correctness, instruction_following). stage is the loss of
// every stage (Defaults(DPO) is the usual choice; any single-objective loss of the family
// will do); its dimensions are replaced by the stage's template. templated selects the
// dimension's own template instead of the plain "general" prompt.
func SPOSchedule(dimensions []string, stage Params, templated bool) ([]SPOStage, error) {
	if len(dimensions) == 0 {
		return nil, fmt.Errorf("spo: at least one dimension is needed")
	}
	if stage.Loss.ControlReference() || stage.Loss.NeedsMarginRewards() {
		return nil, fmt.Errorf("spo: stage loss %q is itself a multi-objective method; SPO stages train one "+
			"dimension each with a single-objective loss (e.g. %q)", stage.Loss, DPO)
	}
	if stage.Policy == Fixed && len(stage.Weights) != 1 {
		return nil, fmt.Errorf("spo: a stage has K = 1 template, so the fixed policy needs 1 weight, got %v", stage.Weights)
	}
	seen := map[string]bool{}
	stages := make([]SPOStage, len(dimensions))
	for i, d := range dimensions {
		if d == "" {
			return nil, fmt.Errorf("spo: dimensions[%d]: empty name", i)
		}
		if seen[d] {
			return nil, fmt.Errorf("spo: dimensions[%d]: %q named twice (each dimension is one stage)", i, d)
		}
		seen[d] = true
		p := stage
		p.Dimensions = []string{"general"}
		if templated {
			p.Dimensions = []string{d}
		}
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("spo: stage %d (%s): %w", i, d, err)
		}
		stages[i] = SPOStage{Index: i, Dimension: d, Params: p, InitFrom: i - 1, ReferenceFrom: i - 1}
	}
	return stages, nil
}
