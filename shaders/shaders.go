// Package shaders holds the WGSL compute kernels of the webgpu GoMLX backend
// (package engine), embedded in the binary.
//
// Kernels are templates: {{NAME}} placeholders (element types, the expression of an
// elementwise op, a reduction's combiner) are filled in by the engine before the module
// is compiled, and common.wgsl is prepended to every kernel. Every kernel reads its
// sizes and strides from a read-only storage buffer `params: array<u32>` bound last.
package shaders

import (
	"embed"
	"fmt"
	"strings"
)

//go:embed *.wgsl
var files embed.FS

// Source returns the kernel file name (without ".wgsl"), with common.wgsl prepended
// and every {{KEY}} replaced by its value. It fails if a placeholder is left.
func Source(name string, subst map[string]string) (string, error) {
	common, err := files.ReadFile("common.wgsl")
	if err != nil {
		return "", err
	}
	body, err := files.ReadFile(name + ".wgsl")
	if err != nil {
		return "", fmt.Errorf("shaders: no kernel %q", name)
	}
	src := string(common) + "\n" + string(body)
	for k, v := range subst {
		src = strings.ReplaceAll(src, "{{"+k+"}}", v)
	}
	if i := strings.Index(src, "{{"); i >= 0 {
		end := min(len(src), i+40)
		return "", fmt.Errorf("shaders: kernel %q has an unfilled placeholder near %q", name, src[i:end])
	}
	return src, nil
}

// Names lists the kernel files (without ".wgsl"), common excluded.
func Names() []string {
	entries, _ := files.ReadDir(".")
	var out []string
	for _, e := range entries {
		n := strings.TrimSuffix(e.Name(), ".wgsl")
		if n != "common" {
			out = append(out, n)
		}
	}
	return out
}
