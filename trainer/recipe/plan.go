package recipe

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/amopo-engine/amopo/trainer"
)

// Plan is a config resolved into what the run does: the model, the tokenizer, the data
// with its templates, the stages, the loss, and the run's logging and checkpoint
// settings. Train reads nothing of the config but its plan, so a key that changes no
// field of the plan changes nothing in the run (TestEveryKeyChangesThePlanOrIsRefused).
type Plan struct {
	Backend string
	Seed    uint64
	OutDir  string
	Resume  bool
	// Overwrite clears a run already in OutDir (its checkpoints and metrics) first.
	Overwrite bool

	// Model is the architecture: a preset's, or config.json's of ModelDir (whose weights
	// the run starts from).
	Model    *llm.Config
	ModelDir string
	// DType is model.dtype: f32, or bf16 mixed precision.
	DType string

	// Tokenizer names the tokenizer: "bytes" or the folder it was read from (whose
	// files the export copies).
	Tokenizer string
	tok       *Tokens

	Data *Dataset
	// MaxLength and MaxPromptLength bound the encoded sequences.
	MaxLength, MaxPromptLength int

	SFT, Pref trainer.StageConfig
	Loss      spec.Params
	// OnPolicy is the built-in task's on-policy sampling; zero for data without judges.
	OnPolicy trainer.OnPolicyConfig

	LogEvery, EvalEvery, CheckpointEvery, KeepCheckpoints int
	PeakTFLOPS                                            float64
}

// Resolve checks a config and resolves it into a Plan: it reads the tokenizer, the data
// files and the model's config.json (not its weights). Keys that cannot apply to the
// chosen data or model are refused with the reason.
func Resolve(cfg trainer.Config) (*Plan, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Plan{Backend: cfg.Backend, Seed: cfg.Seed, OutDir: cfg.OutDir, Resume: cfg.Resume, Overwrite: cfg.Overwrite, DType: cfg.Model.DType,
		MaxLength: cfg.Data.MaxLength, MaxPromptLength: cfg.Data.MaxPromptLength, SFT: cfg.SFT, Pref: cfg.Pref,
		LogEvery: cfg.LogEvery, EvalEvery: cfg.EvalEvery, CheckpointEvery: cfg.CheckpointEvery,
		KeepCheckpoints: cfg.KeepCheckpoints, PeakTFLOPS: cfg.PeakTFLOPS}
	source, ok := sources[cfg.Data.Format]
	if !ok {
		return nil, fmt.Errorf("data.format: unknown %q (known: %s)", cfg.Data.Format, sourceNames())
	}
	if err := source.refuse(cfg); err != nil {
		return nil, err
	}
	var err error
	if p.tok, p.Tokenizer, err = loadTokenizer(cfg); err != nil {
		return nil, err
	}
	if p.Model, p.ModelDir, err = modelConfig(cfg.Model, p.tok); err != nil {
		return nil, err
	}
	if _, err := trainer.SetPrecision(p.Model, cfg.Model.DType); err != nil {
		return nil, err
	}
	if p.Data, err = source.load(cfg); err != nil {
		return nil, err
	}
	if p.Loss, err = cfg.LossParams(p.Data.Templates.Names()); err != nil {
		return nil, err
	}
	if err := refuseExperimentOnly(p.Loss); err != nil {
		return nil, err
	}
	if p.Data.Judged != nil {
		p.OnPolicy = cfg.OnPolicy
	}
	return p, nil
}

// Fingerprint is a hash of everything the plan holds: two configs with the same
// fingerprint run the same.
func (p *Plan) Fingerprint() (string, error) {
	text, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(text)
	return hex.EncodeToString(sum[:]), nil
}

// modelConfig is the architecture of model.dir's config.json, or of model.preset, sized
// for the tokenizer's vocabulary. A model whose vocabulary is smaller than the
// tokenizer's is refused: the tokenizer's largest ids would index past the embedding.
func modelConfig(mc trainer.ModelConfig, tok *Tokens) (*llm.Config, string, error) {
	if mc.Dir == "" {
		cfg, err := trainer.PresetConfig(mc.Preset, tok.VocabSize())
		return cfg, "", err
	}
	if mc.Preset != "" {
		return nil, "", fmt.Errorf("model.preset %q: a preset is a random-init model; model.dir %s loads one, so give one of them", mc.Preset, mc.Dir)
	}
	path := filepath.Join(mc.Dir, llm.ConfigFile)
	cfg, err := llm.ReadConfig(path)
	if err != nil {
		return nil, "", fmt.Errorf("model.dir: %w", err)
	}
	if cfg.VocabSize < tok.VocabSize() {
		return nil, "", fmt.Errorf("model.dir: %s: vocab_size %d is smaller than the tokenizer's %d ids (%s)",
			path, cfg.VocabSize, tok.VocabSize(), tok.Source)
	}
	return cfg, mc.Dir, nil
}
