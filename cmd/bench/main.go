// Command bench measures one AMoPO training step of the engine and writes a table.
//
//	go run ./cmd/bench                      # CPU: the default model on the pure-Go backend vs the f32 matmul peak
//	go run ./cmd/bench --out docs/benchmarks.md
//	./bench --backend xla:/abs/xla_cuda_plugin.so --preset qwen2.5-0.5b --dtype bf16 --k 4 --seq 512   (GPU; see gpu.sh)
//
// A step is the preference step cmd/train runs: 2*K sequences per pair through the model,
// TokenLogProbs, the AMoPO loss with Gaussian weights, gradients, AdamW. Speeds are
// reported next to a baseline measured in the same run (the backend's matmul peak), as
// ratios, because the machines are shared and noisy.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/engine/backend"
	"github.com/amopo-engine/amopo/gomlx/fastgrad"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/amopo-engine/amopo/trainer"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	backendName := fs.String("backend", "go", "backend (see cmd/train --backend)")
	preset := fs.String("preset", "tiny", "model preset: tiny, small, qwen2.5-0.5b")
	vocab := fs.Int("vocab", 259, "vocabulary size for the tiny and small presets")
	dtypeName := fs.String("dtype", "f32", "f32 or bf16")
	pairs := fs.Int("pairs", 2, "preference pairs per step (B)")
	k := fs.Int("k", 4, "dimensions (K): each pair is 2*K sequences")
	seq := fs.Int("seq", 64, "sequence length")
	steps := fs.Int("steps", 5, "timed steps (after one warm-up step that compiles)")
	peakN := fs.Int("peak-n", 1024, "matmul size for the peak measurement (0 skips it)")
	peakTFLOPS := fs.Float64("peak-tflops", 0, "the device's peak TFLOP/s for MFU (0: use the measured matmul peak)")
	out := fs.String("out", "", "also write the table (markdown) to this file")
	slowGrad := fs.Bool("gomlx-dot-grad", false, "keep GoMLX's own DotGeneral gradient (to measure the fast one's gain)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*slowGrad {
		fastgrad.RegisterFastDotGrad()
	}
	dtype := dtypes.Float32
	if *dtypeName == "bf16" {
		dtype = dtypes.BFloat16
	}
	backend, err := backend.New(*backendName)
	if err != nil {
		return err
	}
	defer backend.Finalize()
	mcfg, err := trainer.PresetConfig(*preset, *vocab)
	if err != nil {
		return err
	}
	if *preset == "qwen2.5-0.5b" {
		mcfg = llm.Qwen25_05B()
	}
	p := spec.Defaults(spec.AMoPO)
	if *k != 4 {
		p.Dimensions = make([]string, *k)
		for i := range p.Dimensions {
			p.Dimensions[i] = fmt.Sprintf("dim_%d", i+1)
		}
	}
	fmt.Fprintf(w, "benchmarking: %s, %.1fM parameters, %s, B=%d pairs x 2K=%d sequences x %d tokens, backend %s\n",
		*preset, float64(mcfg.NumParams())/1e6, dtype, *pairs, 2**k, *seq, backend.Name())

	peak := *peakTFLOPS * 1e12
	measured := 0.0
	if *peakN > 0 {
		if measured, err = trainer.MeasureMatmulPeak(backend, dtype, *peakN, 5); err != nil {
			return err
		}
		fmt.Fprintf(w, "matmul %d^3 %s: %.2f GFLOP/s\n", *peakN, dtype, measured/1e9)
	}
	if peak == 0 {
		peak = measured
	}
	res, err := trainer.BenchmarkStep(backend, mcfg, dtype, p, *pairs, *seq, *steps)
	if err != nil {
		return err
	}
	table := formatTable(res, mcfg, dtype, *pairs, *k, *seq, backend.Name(), measured, peak, *slowGrad)
	fmt.Fprint(w, table)
	if *out != "" {
		return appendSection(*out, table)
	}
	return nil
}

func formatTable(r *trainer.StepBenchmark, mcfg *llm.Config, dtype dtypes.DType, pairs, k, seq int,
	backend string, measuredPeak, peak float64, slowGrad bool) string {
	var b strings.Builder
	host, _ := os.Hostname()
	grad := "fast DotGeneral gradient"
	if slowGrad {
		grad = "GoMLX's DotGeneral gradient"
	}
	fmt.Fprintf(&b, "\n### AMoPO step: %.1fM-parameter %s, %s, B=%d x 2K=%d x %d tokens, %s\n\n",
		float64(mcfg.NumParams())/1e6, mcfg.ModelType, dtype, pairs, 2*k, seq, backend)
	fmt.Fprintf(&b, "Machine: %s, %d CPUs (GOMAXPROCS %d), %s/%s, %s; %s; %s.\n\n", host, runtime.NumCPU(),
		runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version(), grad, time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintln(&b, "| measure | value |")
	fmt.Fprintln(&b, "| --- | --- |")
	fmt.Fprintf(&b, "| first step (compile + run) | %.2f s |\n", r.FirstStep.Seconds())
	fmt.Fprintf(&b, "| step time (median of %d) | %.3f s |\n", r.Steps, r.StepTime.Seconds())
	fmt.Fprintf(&b, "| tokens/s | %.0f |\n", r.TokensPerSecond)
	fmt.Fprintf(&b, "| effective GFLOP/s (6N per token + attention) | %.2f |\n", r.FLOPS/1e9)
	if measuredPeak > 0 {
		fmt.Fprintf(&b, "| matmul peak measured in the same run | %.2f GFLOP/s |\n", measuredPeak/1e9)
	}
	if peak > 0 {
		fmt.Fprintf(&b, "| share of the peak (MFU) | %.1f%% |\n", 100*r.FLOPS/peak)
	}
	return b.String()
}

func appendSection(path, text string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(text)
	return err
}
