package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// wasmPackage is the page's Go side, relative to the module root.
const wasmPackage = "./wasm/page"

// goEnv returns one `go env` variable.
func goEnv(name string) (string, error) {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s (is the Go toolchain on PATH?): %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// ensureWasm builds wasm/page into dir/amopo.wasm when it is missing or stale, and returns
// its path. logf reports what it does (a build takes a while the first time).
func ensureWasm(dir string, logf func(string, ...any)) (string, error) {
	gomod, err := goEnv("GOMOD")
	if err != nil {
		return "", err
	}
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run from inside the amopo module (go env GOMOD is empty), or pass --wasm")
	}
	root := filepath.Dir(gomod)
	out := filepath.Join(dir, "amopo.wasm")
	stale, why, err := wasmStale(root, out)
	if err != nil {
		return "", err
	}
	if !stale {
		return out, nil
	}
	logf("building %s (%s) into %s", wasmPackage, why, out)
	start := time.Now()
	if err := BuildWasm(root, out); err != nil {
		return "", err
	}
	logf("built %s in %.1fs", out, time.Since(start).Seconds())
	return out, nil
}

// BuildWasm builds the page's wasm at out (atomically: a half-written file is never served).
func BuildWasm(root, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("building the wasm: %w", err)
	}
	tmp := out + ".tmp"
	cmd := exec.Command("go", "build", "-o", tmp, wasmPackage)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("GOOS=js GOARCH=wasm go build %s: %w\n%s", wasmPackage, err, msg)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("building the wasm: %w", err)
	}
	return nil
}

// wasmStale reports whether out is missing or older than go.mod, go.sum or a Go file of a
// package of this module that wasm/page depends on (modules outside it are fixed by go.sum).
func wasmStale(root, out string) (bool, string, error) {
	info, err := os.Stat(out)
	if err != nil {
		return true, "no wasm yet", nil
	}
	built := info.ModTime()
	cmd := exec.Command("go", "list", "-deps", "-json=Dir,GoFiles,EmbedFiles,Module", wasmPackage)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	listing, err := cmd.Output()
	if err != nil {
		return false, "", fmt.Errorf("go list %s: %w: %s", wasmPackage, err, stderr.String())
	}
	files := []string{filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum")}
	dec := json.NewDecoder(bytes.NewReader(listing))
	for {
		var pkg struct {
			Dir                 string
			GoFiles, EmbedFiles []string
			Module              *struct{ Main bool }
		}
		if err := dec.Decode(&pkg); err == io.EOF {
			break
		} else if err != nil {
			return false, "", fmt.Errorf("reading go list's output: %w", err)
		}
		if pkg.Module == nil || !pkg.Module.Main {
			continue
		}
		for _, f := range append(pkg.GoFiles, pkg.EmbedFiles...) {
			files = append(files, filepath.Join(pkg.Dir, f))
		}
	}
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.ModTime().After(built) {
			return true, "older than " + f, nil
		}
	}
	return false, "", nil
}
