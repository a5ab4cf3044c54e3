package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/amopo-engine/amopo/shaders"
	"github.com/cogentcore/webgpu/wgpu"
	"github.com/pkg/errors"
)

// kernelSpec names a compute kernel: a WGSL template of package shaders, its entry
// point, the placeholder values, and its bindings (true: read-only storage, false:
// read-write storage; the params buffer is the last, read-only).
type kernelSpec struct {
	file     string
	entry    string
	subst    map[string]string
	readOnly []bool
}

func (s kernelSpec) key() string {
	keys := make([]string, 0, len(s.subst))
	for k := range s.subst {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s/%s/%v", s.file, s.entry, s.readOnly)
	for _, k := range keys {
		fmt.Fprintf(&sb, "|%s=%s", k, s.subst[k])
	}
	return sb.String()
}

// kernel is a compiled compute pipeline and its bind group layout.
type kernel struct {
	name     string
	module   *wgpu.ShaderModule
	layout   *wgpu.BindGroupLayout
	plLayout *wgpu.PipelineLayout
	pipeline *wgpu.ComputePipeline
}

func (k *kernel) release() {
	k.pipeline.Release()
	k.plLayout.Release()
	k.layout.Release()
	k.module.Release()
}

// getKernel returns the compiled kernel of spec, from the cache or compiled now.
// b.mu must be held.
func (b *Backend) getKernel(spec kernelSpec) (*kernel, error) {
	key := spec.key()
	if k, ok := b.kernels[key]; ok {
		return k, nil
	}
	src, err := shaders.Source(spec.file, spec.subst)
	if err != nil {
		return nil, err
	}
	entry := spec.entry
	if entry == "" {
		entry = "main"
	}
	label := spec.file + "." + entry
	module, err := b.device.CreateShaderModule(&wgpu.ShaderModuleDescriptor{
		Label: label, WGSLDescriptor: &wgpu.ShaderModuleWGSLDescriptor{Code: src},
	})
	if err != nil {
		return nil, errors.Wrapf(err, "webgpu backend: compiling kernel %s (%s)", label, key)
	}
	entries := make([]wgpu.BindGroupLayoutEntry, 0, len(spec.readOnly)+1)
	for i, ro := range append(spec.readOnly, true) {
		t := wgpu.BufferBindingTypeStorage
		if ro {
			t = wgpu.BufferBindingTypeReadOnlyStorage
		}
		entries = append(entries, wgpu.BindGroupLayoutEntry{
			Binding: uint32(i), Visibility: wgpu.ShaderStageCompute, Buffer: wgpu.BufferBindingLayout{Type: t},
		})
	}
	k := &kernel{name: label, module: module}
	if k.layout, err = b.device.CreateBindGroupLayout(&wgpu.BindGroupLayoutDescriptor{Label: label, Entries: entries}); err != nil {
		module.Release()
		return nil, errors.Wrapf(err, "webgpu backend: kernel %s bind group layout", label)
	}
	if k.plLayout, err = b.device.CreatePipelineLayout(&wgpu.PipelineLayoutDescriptor{
		Label: label, BindGroupLayouts: []*wgpu.BindGroupLayout{k.layout},
	}); err != nil {
		k.layout.Release()
		module.Release()
		return nil, errors.Wrapf(err, "webgpu backend: kernel %s pipeline layout", label)
	}
	// No label: the browser binding's descriptor has none.
	if k.pipeline, err = b.device.CreateComputePipeline(&wgpu.ComputePipelineDescriptor{
		Layout: k.plLayout, Compute: wgpu.ProgrammableStageDescriptor{Module: module, EntryPoint: entry},
	}); err != nil {
		k.plLayout.Release()
		k.layout.Release()
		module.Release()
		return nil, errors.Wrapf(err, "webgpu backend: kernel %s pipeline", label)
	}
	b.kernels[key] = k
	return k, nil
}
