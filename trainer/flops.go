package trainer

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"golang.org/x/sys/cpu"
)

// Peak is a machine's peak arithmetic rate, and what it is: the denominator of MFU.
type Peak struct {
	FLOPS   float64
	Against string // e.g. "the CPU's f32 peak (2 cores x 2.60 GHz x 64 flop/cycle, AVX-512 ...)"
}

// MFU formats a rate as a share of the peak, naming the peak.
func (p Peak) MFU(flops float64) string {
	return fmt.Sprintf("MFU %.1f%% of %s", 100*flops/p.FLOPS, p.Against)
}

// MachinePeak is the dense peak of the machine a backend runs on, for MFU: an override in
// TFLOP/s (--peak_tflops) if positive; on the pure-Go backend the CPU's f32 peak (the
// backend computes bf16 in f32); on XLA with CUDA the card's dense peak from a table (bf16,
// or f32: tf32 when the backend config asks for it). Anything else asks for the override.
func MachinePeak(backendName string, dtype dtypes.DType, overrideTFLOPS float64) (Peak, error) {
	if overrideTFLOPS > 0 {
		return Peak{FLOPS: overrideTFLOPS * 1e12, Against: fmt.Sprintf("the given peak (--peak_tflops %g)", overrideTFLOPS)}, nil
	}
	kind, config, _ := strings.Cut(backendName, ":")
	switch kind {
	case "", "go":
		return CPUPeak()
	case "xla":
		name, err := gpuName()
		if strings.Contains(config, "cpu") || (err != nil && !strings.Contains(config, "cuda")) {
			return CPUPeak() // XLA on the CPU (no NVIDIA GPU, no CUDA plugin asked for)
		}
		if err != nil {
			return Peak{}, fmt.Errorf("peak of backend %q: %w; pass --peak_tflops", backendName, err)
		}
		return GPUPeak(name, dtype, strings.Contains(config, "tf32"))
	}
	return Peak{}, fmt.Errorf("peak of backend %q: unknown; pass --peak_tflops", backendName)
}

// CPUPeak is the f32 FMA peak of the CPUs this process may use: physical cores x clock x
// flop/cycle. Flop/cycle per core = FMA units x f32 lanes x 2, assuming two FMA units per
// core (Intel Xeon server parts since Skylake-SP, AMD Zen 2-5): AVX-512 64 (Intel; AMD
// Zen 5), 32 on Zen 4 (512-bit FMAs on two 256-bit units); AVX2 + FMA 32; arm64 NEON 16
// (two 128-bit FMA units); anything else 8. The clock is the cpufreq maximum where the
// kernel exposes it, else /proc/cpuinfo's "cpu MHz" (a VM's nominal clock; turbo can
// exceed it, so MFU can read a little high).
func CPUPeak() (Peak, error) {
	info, err := readCPUInfo("/proc/cpuinfo")
	if err != nil {
		return Peak{}, fmt.Errorf("CPU peak: %w", err)
	}
	cores := min(runtime.NumCPU(), info.physicalCores)
	ghz, clockSource := info.mhz/1000, "/proc/cpuinfo cpu MHz"
	if b, err := os.ReadFile("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"); err == nil {
		if khz, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64); err == nil && khz > 0 {
			ghz, clockSource = khz/1e6, "cpufreq max"
		}
	}
	if ghz <= 0 {
		return Peak{}, fmt.Errorf("CPU peak: no clock in /proc/cpuinfo or cpufreq; pass --peak_tflops")
	}
	perCycle, unit := flopsPerCycle(info)
	return Peak{
		FLOPS: float64(cores) * ghz * 1e9 * float64(perCycle),
		Against: fmt.Sprintf("the CPU's f32 peak (%d cores x %.2f GHz (%s) x %d flop/cycle, %s; %s)",
			cores, ghz, clockSource, perCycle, unit, info.model),
	}, nil
}

// flopsPerCycle is one core's f32 flop/cycle and the unit it comes from (see CPUPeak).
func flopsPerCycle(info cpuInfo) (int, string) {
	switch {
	case runtime.GOARCH == "amd64" && cpu.X86.HasAVX512F:
		if info.vendor == "AuthenticAMD" && info.family < 0x1a {
			return 32, "AVX-512 on Zen 4's two 256-bit FMA units"
		}
		return 64, "AVX-512, assumed 2 FMA units x 16 lanes x 2"
	case runtime.GOARCH == "amd64" && cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return 32, "AVX2, assumed 2 FMA units x 8 lanes x 2"
	case runtime.GOARCH == "arm64":
		return 16, "NEON, assumed 2 FMA units x 4 lanes x 2"
	}
	return 8, "no FMA vector unit known: 4 lanes x mul+add"
}

type cpuInfo struct {
	model, vendor string
	family        int
	mhz           float64
	physicalCores int
}

// readCPUInfo reads the model, vendor, family, clock and the number of distinct physical
// cores (physical id, core id) of a /proc/cpuinfo file.
func readCPUInfo(path string) (cpuInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return cpuInfo{}, err
	}
	defer f.Close()
	var info cpuInfo
	cores := map[string]bool{}
	physical, processors := "0", 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch key {
		case "processor":
			processors++
		case "model name":
			info.model = value
		case "vendor_id":
			info.vendor = value
		case "cpu family":
			info.family, _ = strconv.Atoi(value)
		case "cpu MHz":
			info.mhz, _ = strconv.ParseFloat(value, 64)
		case "physical id":
			physical = value
		case "core id":
			cores[physical+"/"+value] = true
		}
	}
	if err := sc.Err(); err != nil {
		return cpuInfo{}, fmt.Errorf("%s: %w", path, err)
	}
	info.physicalCores = len(cores)
	if info.physicalCores == 0 { // no topology (arm64, some VMs): one core per processor
		info.physicalCores = max(processors, runtime.NumCPU())
	}
	return info, nil
}

// gpuDensePeaks are NVIDIA's dense (no sparsity) tensor-core peaks in TFLOP/s: bf16,
// tf32, and f32 without tensor cores. Matched in order on the device name.
var gpuDensePeaks = []struct {
	match            []string
	bf16, tf32, fp32 float64
}{
	{[]string{"H200"}, 989, 494.7, 66.9},
	{[]string{"H100", "PCIe"}, 756, 378, 51.2},
	{[]string{"H100", "NVL"}, 835, 417, 60},
	{[]string{"H100"}, 989, 494.7, 66.9}, // SXM
	{[]string{"A100"}, 312, 156, 19.5},
	{[]string{"L40S"}, 362, 183, 91.6},
	{[]string{"L4"}, 121, 60, 30.3},
	{[]string{"A10G"}, 70, 35, 31.2},
	{[]string{"A10"}, 125, 62.5, 31.2},
	{[]string{"RTX 4090"}, 165.2, 82.6, 82.6},
	{[]string{"V100"}, 125, 15.7, 15.7}, // fp16 tensor cores; no bf16/tf32
	{[]string{"T4"}, 65, 8.1, 8.1},
}

// GPUPeak is a card's dense peak for dtype from gpuDensePeaks (tf32: f32 on tensor cores).
func GPUPeak(name string, dtype dtypes.DType, tf32 bool) (Peak, error) {
	for _, g := range gpuDensePeaks {
		hit := true
		for _, m := range g.match {
			hit = hit && strings.Contains(name, m)
		}
		if !hit {
			continue
		}
		tflops, what := g.fp32, "f32"
		switch {
		case dtype == dtypes.BFloat16 || dtype == dtypes.Float16:
			tflops, what = g.bf16, "bf16 tensor-core"
		case tf32:
			tflops, what = g.tf32, "tf32 tensor-core"
		}
		return Peak{FLOPS: tflops * 1e12, Against: fmt.Sprintf("the %s dense %s peak (%g TFLOP/s)", name, what, tflops)}, nil
	}
	return Peak{}, fmt.Errorf("GPU %q is not in the peak table; pass --peak_tflops", name)
}

// gpuName is the first NVIDIA GPU's name, from nvidia-smi or the driver's /proc files.
func gpuName() (string, error) {
	if out, err := exec.Command("nvidia-smi", "--query-gpu=name", "--format=csv,noheader").Output(); err == nil {
		if name := strings.TrimSpace(strings.Split(string(out), "\n")[0]); name != "" {
			return name, nil
		}
	}
	dirs, _ := os.ReadDir("/proc/driver/nvidia/gpus")
	for _, d := range dirs {
		b, err := os.ReadFile("/proc/driver/nvidia/gpus/" + d.Name() + "/information")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "Model" {
				return strings.TrimSpace(v), nil
			}
		}
	}
	return "", fmt.Errorf("no NVIDIA GPU name (nvidia-smi, /proc/driver/nvidia)")
}

// MeasureMatmulPeak times an n x n x n matmul on the backend (dtype f32 or bf16) and
// returns the best FLOP/s over reps runs after a warm-up: what the backend's own matmul
// reaches (cmd/bench shows it next to the machine's peak).
func MeasureMatmulPeak(backend backends.Backend, dtype dtypes.DType, n, reps int) (float64, error) {
	exec, err := NewExec(backend, func(a, b *Node) *Node {
		return ReduceAllSum(ConvertDType(MatMul(a, b), dtypes.Float32))
	})
	if err != nil {
		return 0, err
	}
	defer exec.Finalize()
	mk := func(seed float32) *tensors.Tensor {
		t := tensors.FromShape(shapes.Make(dtypes.Float32, n, n))
		tensors.MustMutableFlatData[float32](t, func(flat []float32) {
			for i := range flat {
				flat[i] = seed * float32(i%7-3)
			}
		})
		if dtype == dtypes.Float32 {
			return t
		}
		conv, err := NewExec(backend, func(x *Node) *Node { return ConvertDType(x, dtype) })
		if err != nil {
			return t
		}
		defer conv.Finalize()
		outs, err := conv.Exec(t)
		if err != nil {
			return t
		}
		return outs[0]
	}
	a, b := mk(0.01), mk(0.02)
	best := 0.0
	for i := 0; i <= reps; i++ {
		start := time.Now()
		outs, err := exec.Exec(a, b)
		if err != nil {
			return 0, fmt.Errorf("matmul peak: %w", err)
		}
		_ = tensors.ToScalar[float32](outs[0]) // wait for the result
		elapsed := time.Since(start).Seconds()
		if i > 0 { // the first run includes compilation
			best = max(best, 2*float64(n)*float64(n)*float64(n)/elapsed)
		}
	}
	return best, nil
}
