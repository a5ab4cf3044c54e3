package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEstimateAndFlags(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run([]string{"--preset", "cpu", "--estimate", "--tokens-per-second", "1000"}, &out))
	require.Contains(t, out.String(), "estimate: ")
	require.Contains(t, out.String(), "at 1000 (SFT) and 1000 (preference) training tokens/s")
	require.NotContains(t, out.String(), "measured")
	out.Reset()
	require.NoError(t, run([]string{"--preset", "tiny", "--estimate"}, &out))
	require.Contains(t, out.String(), "measured ")
	require.NotContains(t, out.String(), "at 1000 (SFT) and 1000 (preference) training tokens/s")
	require.ErrorContains(t, run([]string{"--preset", "tiny", "--estimate", "--tokens-per-second", "-1"}, &out), "--tokens-per-second")

	out.Reset()
	cfg := filepath.Join(t.TempDir(), "exp.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"preference": {"steps": 5, "batch_size": 2, "grad_accum": 1, "optimizer": {"lr": 0.001}}}`), 0o644))
	require.NoError(t, run([]string{"--preset", "tiny", "--config", cfg, "--seeds", "3,4", "--estimate", "--tokens-per-second", "500"}, &out))

	require.ErrorContains(t, run([]string{"--preset", "huge"}, &out), "unknown preset")
	require.ErrorContains(t, run([]string{"--preset", "tiny", "--seeds", "x"}, &out), "--seeds")
	require.Error(t, run([]string{"--preset", "tiny", "--config", filepath.Join(t.TempDir(), "none.yaml")}, &out))
}
