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
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/engine/backend"
	"github.com/amopo-engine/amopo/engine/cpu"
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
	peakTFLOPS := fs.Float64("peak-tflops", 0, "the device's peak TFLOP/s for MFU (0: the machine's peak, trainer.MachinePeak)")
	blasGFLOPS := fs.Float64("blas-gflops", 0, "OpenBLAS sgemm GFLOP/s measured in the same run (cpu_peer.sh passes it), shown as a second MFU")
	fastGEMM := fs.Bool("fast-gemm", true, "the pure-Go backend with engine/cpu's executors: the packed GEMM and the multi-core element-wise ops (false: GoMLX's own executors)")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	out := fs.String("out", "", "also write the table (markdown) to this file")
	slowGrad := fs.Bool("gomlx-dot-grad", false, "keep GoMLX's own DotGeneral gradient (to measure the fast one's gain)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed steps to this file (go tool pprof)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if !*slowGrad {
		fastgrad.RegisterFastDotGrad()
	}
	if !*fastGEMM {
		cpu.Uninstall()
	} else if err := cpu.Install(); err != nil {
		return err
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

	peak, err := trainer.MachinePeak(*backendName, dtype, *peakTFLOPS)
	if err != nil {
		return err
	}
	measured := 0.0
	if *peakN > 0 {
		if measured, err = trainer.MeasureMatmulPeak(backend, dtype, *peakN, 5); err != nil {
			return err
		}
		fmt.Fprintf(w, "matmul %d^3 %s: %.2f GFLOP/s\n", *peakN, dtype, measured/1e9)
	}
	res, err := trainer.BenchmarkStep(backend, mcfg, dtype, p, *pairs, *seq, *steps)
	if err != nil {
		return err
	}
	r := result{Preset: *preset, Params: mcfg.NumParams(), Tokens: *pairs * 2 * *k * *seq, StepSeconds: res.StepTime.Seconds(),
		FirstStepSeconds: res.FirstStep.Seconds(), TokensPerSecond: res.TokensPerSecond, StepGFLOPS: res.FLOPS / 1e9,
		MatmulN: *peakN, MatmulGFLOPS: measured / 1e9, PeakGFLOPS: peak.FLOPS / 1e9, PeakAgainst: peak.Against,
		BLASGFLOPS: *blasGFLOPS, FastGEMM: cpu.Installed(), Kernel: cpu.Kernel()}
	table := formatTable(res, mcfg, dtype, *pairs, *k, *seq, backend.Name(), r, peak, *slowGrad)
	fmt.Fprint(w, table)
	if *jsonOut != "" {
		if err := writeJSON(*jsonOut, r); err != nil {
			return err
		}
	}
	if *out != "" {
		return appendSection(*out, table)
	}
	return nil
}

// result is what cpu_peer.sh reads back (--json).
type result struct {
	Preset                        string
	Params                        int64
	Tokens                        int
	StepSeconds, FirstStepSeconds float64
	TokensPerSecond, StepGFLOPS   float64
	MatmulN                       int
	MatmulGFLOPS, PeakGFLOPS      float64
	PeakAgainst                   string
	BLASGFLOPS                    float64
	FastGEMM                      bool
	Kernel                        string
}

func writeJSON(path string, r result) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func formatTable(r *trainer.StepBenchmark, mcfg *llm.Config, dtype dtypes.DType, pairs, k, seq int,
	backend string, res result, peak trainer.Peak, slowGrad bool) string {
	var b strings.Builder
	host, _ := os.Hostname()
	grad := "fast DotGeneral gradient"
	if slowGrad {
		grad = "GoMLX's DotGeneral gradient"
	}
	fmt.Fprintf(&b, "\n### AMoPO step: %.1fM-parameter %s, %s, B=%d x 2K=%d x %d tokens, %s\n\n",
		float64(mcfg.NumParams())/1e6, mcfg.ModelType, dtype, pairs, 2*k, seq, backend)
	gemm := "GoMLX's own executors"
	if res.FastGEMM {
		gemm = "engine/cpu executors (" + res.Kernel + " GEMM)"
	}
	fmt.Fprintf(&b, "Machine: %s, %d CPUs (GOMAXPROCS %d), %s/%s, %s; %s; %s; %s.\n\n", host, runtime.NumCPU(),
		runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version(), grad, gemm, time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintln(&b, "| measure | value |")
	fmt.Fprintln(&b, "| --- | --- |")
	fmt.Fprintf(&b, "| first step (compile + run) | %.2f s |\n", r.FirstStep.Seconds())
	fmt.Fprintf(&b, "| step time (median of %d) | %.3f s |\n", r.Steps, r.StepTime.Seconds())
	fmt.Fprintf(&b, "| tokens/s | %.0f |\n", r.TokensPerSecond)
	fmt.Fprintf(&b, "| effective GFLOP/s (6N per token + attention) | %.2f |\n", r.FLOPS/1e9)
	if res.MatmulGFLOPS > 0 {
		fmt.Fprintf(&b, "| the backend's f32 matmul %d^3, same run | %.2f GFLOP/s (%.1f%% of the peak) |\n",
			res.MatmulN, res.MatmulGFLOPS, 100*res.MatmulGFLOPS/res.PeakGFLOPS)
	}
	fmt.Fprintf(&b, "| MFU | %.1f%% of %s |\n", 100*r.FLOPS/peak.FLOPS, peak.Against)
	if res.BLASGFLOPS > 0 {
		fmt.Fprintf(&b, "| step GFLOP/s / OpenBLAS sgemm (%.1f GFLOP/s, same run) | %.1f%% |\n", res.BLASGFLOPS, 100*res.StepGFLOPS/res.BLASGFLOPS)
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
