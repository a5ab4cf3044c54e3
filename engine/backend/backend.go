// Package backend picks the GoMLX backend of a --backend value: GoMLX's pure-Go one
// (safe configuration), XLA through a PJRT plugin (never downloaded; JAX's memory
// variables), or any other registered backend.
//
// # Registration
//
// As in GoMLX, backends register themselves when their package is imported, and the main
// program chooses which are built in: the pure-Go and XLA backends come with this
// package; the engine's WebGPU backend (package engine) registers as "webgpu" when a
// command imports it (cmd/train, cmd/experiment and cmd/bench do, where cgo is on).
package backend

import (
	"fmt"
	"os"
	"strings"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
)

// SafeGoConfig is the pure-Go backend configuration the engine uses ("go" means it): the
// parallel executor, which runs independent ops of a graph at once (20-25% faster training
// steps than ops_sequential on 2 cores), when engine/cpu's executors are installed, else
// ops_sequential. GoMLX v0.26's own DotGeneral and Erf executors deadlock the parallel
// executor (platform facts, trap 3): they wait for tasks of the same worker pool that runs
// the graph's ops. engine/cpu's, which this package imports outside the browser build, run
// on goroutines of their own for float32 and bfloat16; a float64 matmul would still take
// GoMLX's executor (the engine trains in float32/bfloat16; pass go:ops_sequential for
// float64 models). TestSafeExecutorDoesNotHang (trainer/recipe) and
// TestParallelExecutorTrainsWithoutHang (engine/cpu) train long enough to catch a hang.
func SafeGoConfig() string {
	if fastExecutors() {
		return "go:ops_parallel"
	}
	return "go:ops_sequential"
}

// New returns the backend of a --backend value:
//
//	go, go:...        GoMLX's pure-Go backend ("go" means SafeGoConfig())
//	xla, xla:cuda     XLA through a PJRT plugin found via PJRT_PLUGIN_LIBRARY_PATH
//	xla:/abs/path.so  XLA with that plugin file
//	webgpu            the WebGPU backend (where the program imports package engine)
//
// An empty name takes $GOMLX_BACKEND, else "go". It never downloads anything: a missing
// XLA plugin is an error that says what to install. The XLA client's memory settings come
// from JAX's variables (XLA_PYTHON_CLIENT_PREALLOCATE, ..., see xla_options.go).
func New(name string) (backend backends.Backend, err error) {
	if name == "" {
		name = os.Getenv("GOMLX_BACKEND")
	}
	if name == "" || name == "go" {
		name = SafeGoConfig()
	}
	kind, _, _ := strings.Cut(name, ":")
	if kind == "xla" {
		if err := prepareXLA(name); err != nil {
			return nil, err
		}
	}
	known := backends.List()
	found := false
	for _, k := range known {
		found = found || k == kind
	}
	if !found {
		hint := ""
		if kind == "xla" {
			hint = " (this binary was built without XLA: build with cgo on linux/amd64)"
		}
		return nil, fmt.Errorf("backend %q is not available%s; known backends: %v", kind, hint, known)
	}
	// GoMLX panics on some bad configurations: turn that into an error.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("backend %q: %v", name, r)
		}
	}()
	if kind == "xla" {
		_, config, _ := strings.Cut(name, ":")
		var withOptions bool
		if backend, withOptions, err = newXLAWithClientOptions(config); withOptions {
			if err != nil {
				return nil, fmt.Errorf("backend %q: %w%s", name, err, xlaHint(kind))
			}
			return backend, nil
		}
	}
	backend, err = backends.NewWithConfig(name)
	if err != nil {
		return nil, fmt.Errorf("backend %q: %w%s", name, err, xlaHint(kind))
	}
	return backend, nil
}

// prepareXLA turns off GoMLX's plugin auto-download before the XLA backend is created.
func prepareXLA(name string) error {
	if err := os.Setenv("GOMLX_NO_AUTO_INSTALL", "1"); err != nil {
		return err
	}
	disableXLAAutoInstall()
	_, plugin, _ := strings.Cut(name, ":")
	if strings.HasPrefix(plugin, "/") {
		if _, err := os.Stat(strings.Split(plugin, ",")[0]); err != nil {
			return fmt.Errorf("backend %q: plugin file: %w%s", name, err, xlaHint("xla"))
		}
	}
	return nil
}

func xlaHint(kind string) string {
	if kind != "xla" {
		return ""
	}
	return "; to run on a CUDA GPU, install a PJRT CUDA plugin (e.g. the JAX CUDA plugin: pip install jax[cuda13]) " +
		"and pass its path, --backend xla:/abs/path/xla_cuda_plugin.so, or set PJRT_PLUGIN_LIBRARY_PATH to its folder; " +
		"put its nvidia/*/lib folders on LD_LIBRARY_PATH and set XLA_FLAGS=--xla_gpu_cuda_data_dir=<CUDA dir with nvvm/libdevice>"
}

// IsPureGo reports whether a --backend value (empty: $GOMLX_BACKEND) is the pure-Go one.
func IsPureGo(backend string) bool {
	if backend == "" {
		backend = os.Getenv("GOMLX_BACKEND")
	}
	return backend == "" || backend == "go" || strings.HasPrefix(backend, "go:")
}
