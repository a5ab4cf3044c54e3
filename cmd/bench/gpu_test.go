package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGPUScriptWithStubs runs gpu.sh with stand-ins for nvidia-smi and python3 (there is
// no GPU here): the environment it prepares for XLA must be the one the GPU machine needs
// (the plugin inside the JAX CUDA package, XLA_FLAGS naming the folder that holds
// nvvm/libdevice), and every section must run and report its memory, also when the
// engine fails. Device time is scarce: the script must be right before it gets there.
func TestGPUScriptWithStubs(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	stub := t.TempDir()
	site := filepath.Join(stub, "site")
	libdevice := filepath.Join(site, "nvidia", "cuda_nvcc", "nvvm", "libdevice")
	require.NoError(t, os.MkdirAll(libdevice, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(site, "nvidia", "cublas", "lib"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(libdevice, "libdevice.10.bc"), nil, 0o644))
	write := func(name, body string) {
		require.NoError(t, os.WriteFile(filepath.Join(stub, name), []byte("#!/bin/sh\n"+body), 0o755))
	}
	write("nvidia-smi", `case "$*" in *name,*) echo "Stub GPU, 1000 MiB, 0";; *) echo 150;; esac`+"\n")
	write("python3", `if [ "$1" = -c ]; then echo `+site+`; exit 0; fi
echo "python3 stub: $* LD=$LD_LIBRARY_PATH PREALLOC=$XLA_PYTHON_CLIENT_PREALLOCATE"
`)
	out := t.TempDir()
	cmd := exec.Command("bash", "gpu.sh")
	cmd.Env = append(os.Environ(), "PATH="+stub+":"+os.Getenv("PATH"), "OUT="+out)
	got, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", got)
	text := string(got)
	require.Contains(t, text, "plugin "+filepath.Join(site, "jax_plugins", "xla_cuda13", "xla_cuda_plugin.so"))
	m := regexp.MustCompile(`--xla_gpu_cuda_data_dir=(\S+)`).FindStringSubmatch(text)
	require.NotNil(t, m, text)
	require.FileExists(t, filepath.Join(m[1], "nvvm", "libdevice", "libdevice.10.bc"), "XLA_FLAGS must name the folder holding nvvm/")
	require.Contains(t, text, "== engine (GoMLX on XLA/PJRT)")
	require.Regexp(t, `engine: peak GPU memory used \(nvidia-smi, above the idle 150 MiB\): \d+ MiB`, text)
	require.Contains(t, text, "python3 stub: cmd/bench/torch_step.py --pairs 1 --k 4 --seq 512")
	require.Contains(t, text, "LD="+filepath.Join(site, "nvidia", "cublas", "lib")+":")
	require.Contains(t, text, "PREALLOC=false")
	require.Regexp(t, `pytorch: peak GPU memory used .*: \d+ MiB`, text)
	log, err := os.ReadFile(filepath.Join(out, "gpu.log"))
	require.NoError(t, err)
	require.Contains(t, string(log), "== PyTorch + transformers")
}
