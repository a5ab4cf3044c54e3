package experiment

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSFTSeedSharesOneSFTModel: with sft_seed every seed starts from the same SFT model
// (same answers on the test prompts); with sft_seed 0 each seed trains its own (the
// answers differ), so the key is no silent no-op either way.
func TestSFTSeedSharesOneSFTModel(t *testing.T) {
	for _, shared := range []bool{true, false} {
		cfg, err := Preset("tiny")
		require.NoError(t, err)
		cfg.OutDir = t.TempDir()
		cfg.Methods = []Method{{Name: "amopo", Loss: "amopo", Policy: "gaussian", LR: []float64{1e-4}}}
		cfg.Claims = nil
		cfg.SFT.Steps = 6
		cfg.SFTSeed = 0
		if shared {
			cfg.SFTSeed = 7
		}
		res, err := Run(cfg, io.Discard)
		require.NoError(t, err)
		require.Len(t, res.Seeds, 2)
		a, b := res.Seeds[0].SFT, res.Seeds[1].SFT
		if shared {
			require.Equal(t, a.Answers, b.Answers, "sft_seed: one SFT model for every seed")
		} else {
			require.NotEqual(t, a.Answers, b.Answers, "sft_seed 0: each seed its own SFT model")
		}
	}
}
