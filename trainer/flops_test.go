package trainer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// TestReadCPUInfoCountsPhysicalCores: two hyperthreads of one core are one core (they
// share its FMA units), cores of two sockets with the same core id are two.
func TestReadCPUInfoCountsPhysicalCores(t *testing.T) {
	text := ""
	for _, p := range []struct{ phys, core string }{{"0", "0"}, {"0", "0"}, {"0", "1"}, {"0", "1"}, {"1", "0"}} {
		text += "processor\t: x\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel name\t: Test Xeon\ncpu MHz\t\t: 2600.5\nphysical id\t: " +
			p.phys + "\ncore id\t\t: " + p.core + "\n\n"
	}
	path := filepath.Join(t.TempDir(), "cpuinfo")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := readCPUInfo(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.physicalCores != 3 || info.mhz != 2600.5 || info.model != "Test Xeon" || info.vendor != "GenuineIntel" || info.family != 6 {
		t.Fatalf("got %+v, want 3 physical cores at 2600.5 MHz of a Test Xeon (GenuineIntel, family 6)", info)
	}
	if _, err := readCPUInfo(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("no error for a missing file")
	}
}

// TestCPUPeakIsCoresTimesClockTimesWidth recomputes this machine's CPU peak from its parts.
func TestCPUPeakIsCoresTimesClockTimesWidth(t *testing.T) {
	info, err := readCPUInfo("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo:", err)
	}
	p, err := CPUPeak()
	if err != nil {
		t.Fatal(err)
	}
	perCycle, _ := flopsPerCycle(info)
	if perCycle < 8 {
		t.Fatalf("flop/cycle %d", perCycle)
	}
	ratio := p.FLOPS / (float64(perCycle) * 1e9) // cores x GHz
	if ratio < 0.5 || ratio > 1024*6 {
		t.Fatalf("peak %.3g FLOP/s is %g core-GHz", p.FLOPS, ratio)
	}
	if !strings.Contains(p.Against, "cores x") || !strings.Contains(p.Against, "flop/cycle") {
		t.Fatalf("peak does not say what it is: %q", p.Against)
	}
	t.Log(p.MFU(p.FLOPS / 4))
}

// TestMachinePeak: the override wins; the pure-Go backend gets the CPU peak; cards are
// told apart (H100 PCIe from SXM, L40S from L4, A10G from A10) and dtypes pick the column.
func TestMachinePeak(t *testing.T) {
	p, err := MachinePeak("go", dtypes.Float32, 12.5)
	if err != nil || p.FLOPS != 12.5e12 || !strings.Contains(p.Against, "--peak_tflops") {
		t.Fatalf("override: %+v, %v", p, err)
	}
	cpuPeak, errCPU := CPUPeak()
	if p, err := MachinePeak("go:ops_sequential", dtypes.BFloat16, 0); (errCPU == nil) != (err == nil) || p != cpuPeak {
		t.Fatalf("go backend: %+v (%v), want the CPU peak %+v (%v)", p, err, cpuPeak, errCPU)
	}
	if _, err := MachinePeak("webgpu", dtypes.Float32, 0); err == nil || !strings.Contains(err.Error(), "--peak_tflops") {
		t.Fatalf("webgpu: %v, want an error asking for --peak_tflops", err)
	}
	for _, c := range []struct {
		name  string
		dtype dtypes.DType
		tf32  bool
		want  float64
	}{
		{"NVIDIA H100 80GB HBM3", dtypes.BFloat16, false, 989},
		{"NVIDIA H100 PCIe", dtypes.BFloat16, false, 756},
		{"NVIDIA H200", dtypes.Float32, true, 494.7},
		{"NVIDIA H200", dtypes.Float32, false, 66.9},
		{"NVIDIA A100-SXM4-80GB", dtypes.BFloat16, false, 312},
		{"NVIDIA L40S", dtypes.BFloat16, false, 362},
		{"NVIDIA L4", dtypes.BFloat16, false, 121},
		{"NVIDIA A10G", dtypes.BFloat16, false, 70},
		{"NVIDIA A10", dtypes.BFloat16, false, 125},
		{"NVIDIA GeForce RTX 4090", dtypes.Float32, false, 82.6},
	} {
		p, err := GPUPeak(c.name, c.dtype, c.tf32)
		if err != nil || p.FLOPS != c.want*1e12 || !strings.Contains(p.Against, c.name) {
			t.Errorf("%s %s tf32=%v: %+v, %v; want %g TFLOP/s", c.name, c.dtype, c.tf32, p, err, c.want)
		}
	}
	if _, err := GPUPeak("Radeon 7900", dtypes.BFloat16, false); err == nil {
		t.Error("an unknown card got a peak")
	}
}
