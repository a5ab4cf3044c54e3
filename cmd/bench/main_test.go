package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amopo-engine/amopo/engine/cpu"
	"github.com/stretchr/testify/require"
)

// TestBenchReportsAgainstTheMachinePeak runs one tiny step with and without the fast
// GEMM: the table names the peak MFU is against and the OpenBLAS share, the JSON says
// which matmul ran, and --fast-gemm=false really takes GoMLX's DotGeneral (no fast call).
func TestBenchReportsAgainstTheMachinePeak(t *testing.T) {
	if testing.Short() {
		t.Skip("runs training steps")
	}
	defer func() { require.NoError(t, cpu.Install()) }()
	for _, fast := range []bool{true, false} {
		path := filepath.Join(t.TempDir(), "r.json")
		var out strings.Builder
		before := cpu.FastCalls()
		flag := "--fast-gemm=true"
		if !fast {
			flag = "--fast-gemm=false"
		}
		require.NoError(t, run([]string{"--steps", "1", "--seq", "16", "--peak-n", "64", "--blas-gflops", "100", "--json", path, flag}, &out))
		var r result
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &r))
		require.Equal(t, fast, r.FastGEMM)
		require.Equal(t, fast, cpu.FastCalls() > before, "fast DotGeneral calls during the run")
		require.Greater(t, r.PeakGFLOPS, 0.0)
		require.Greater(t, r.StepGFLOPS, 0.0)
		require.Contains(t, out.String(), "| MFU | ")
		require.Contains(t, out.String(), r.PeakAgainst)
		require.Contains(t, out.String(), "OpenBLAS sgemm (100.0 GFLOP/s")
	}
}
