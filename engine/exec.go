package engine

import (
	"github.com/cogentcore/webgpu/wgpu"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pkg/errors"
)

// Executable is a compiled graph: its launches run in one compute pass per Execute.
type Executable struct {
	backend      *Backend
	name         string
	values       []value
	launches     []launch
	outputs      []int
	inputNames   []string
	inputShapes  []shapes.Shape
	outputShapes []shapes.Shape
	finalized    bool
}

var _ backends.Executable = (*Executable)(nil)

// Finalize implements backends.Executable: constants and launch parameters go back to the pool.
func (e *Executable) Finalize() {
	b := e.backend
	b.mu.Lock()
	defer b.mu.Unlock()
	if e.finalized {
		return
	}
	e.finalized = true
	for _, v := range e.values {
		if v.kind == valueConst {
			b.recycle(v.gpu)
		}
	}
	for _, l := range e.launches {
		b.recycle(l.params)
	}
	e.values, e.launches = nil, nil
}

// Inputs implements backends.Executable.
func (e *Executable) Inputs() ([]string, []shapes.Shape) { return e.inputNames, e.inputShapes }

// Outputs implements backends.Executable.
func (e *Executable) Outputs() []shapes.Shape { return e.outputShapes }

// Execute implements backends.Executable: it encodes every launch in one compute pass
// and submits it; it does not wait for the device (a read-back does).
func (e *Executable) Execute(inputs []backends.Buffer, donate []bool, defaultDevice backends.DeviceNum) ([]backends.Buffer, error) {
	b := e.backend
	if len(inputs) != len(e.inputShapes) {
		return nil, errors.Errorf("webgpu backend: Execute(%q): %d inputs given, %d expected", e.name, len(inputs), len(e.inputShapes))
	}
	in := make([]*Buffer, len(inputs))
	for i, x := range inputs {
		buf, err := b.checkBuffer(x, "Execute")
		if err != nil {
			return nil, errors.WithMessagef(err, "input #%d (%q)", i, e.inputNames[i])
		}
		if !buf.shape.Equal(e.inputShapes[i]) {
			return nil, errors.Errorf("webgpu backend: Execute(%q): input #%d (%q) has shape %s, want %s",
				e.name, i, e.inputNames[i], buf.shape, e.inputShapes[i])
		}
		in[i] = buf
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if e.finalized || b.finalized {
		return nil, errors.Errorf("webgpu backend: Execute(%q): executable or backend finalized", e.name)
	}
	bufs := make([]*gpuBuf, len(e.values))
	for v, val := range e.values {
		switch val.kind {
		case valueParam:
			bufs[v] = in[val.param].gpu
		case valueConst:
			bufs[v] = val.gpu
		}
	}
	var fail error
	recycleTemps := func() {
		for v, val := range e.values {
			if val.kind == valueTemp && bufs[v] != nil {
				b.recycle(bufs[v])
				bufs[v] = nil
			}
		}
	}

	enc, err := b.device.CreateCommandEncoder(&wgpu.CommandEncoderDescriptor{Label: e.name})
	if err != nil {
		return nil, errors.Wrapf(err, "webgpu backend: Execute(%q)", e.name)
	}
	defer enc.Release()
	pass := enc.BeginComputePass(&wgpu.ComputePassDescriptor{})
	groups := make([]*wgpu.BindGroup, 0, len(e.launches))
	for li, l := range e.launches {
		for _, a := range l.args { // the output, or a value that no launch wrote (empty)
			if bufs[a] == nil {
				if bufs[a], fail = b.acquire(e.values[a].bytes); fail != nil {
					break
				}
			}
		}
		if fail != nil {
			break
		}
		entries := make([]wgpu.BindGroupEntry, 0, len(l.args)+1)
		for i, a := range l.args {
			entries = append(entries, wgpu.BindGroupEntry{Binding: uint32(i), Buffer: bufs[a].buf, Size: bufs[a].size})
		}
		entries = append(entries, wgpu.BindGroupEntry{Binding: uint32(len(l.args)), Buffer: l.params.buf, Size: l.params.size})
		group, err := b.device.CreateBindGroup(&wgpu.BindGroupDescriptor{Label: l.k.name, Layout: l.k.layout, Entries: entries})
		if err != nil {
			fail = errors.Wrapf(err, "webgpu backend: Execute(%q): bind group of %s", e.name, l.k.name)
			break
		}
		groups = append(groups, group)
		pass.SetPipeline(l.k.pipeline)
		pass.SetBindGroup(0, group, nil)
		pass.DispatchWorkgroups(l.groups[0], l.groups[1], l.groups[2])
		// Scratch values whose last use this was go back to the pool: later launches
		// may reuse them (WebGPU orders the dispatches' accesses).
		for _, a := range l.args {
			if val := e.values[a]; val.kind == valueTemp && !val.isOutput && val.lastUse == li && bufs[a] != nil {
				b.recycle(bufs[a])
				bufs[a] = nil
			}
		}
	}
	pass.End()
	pass.Release()
	defer func() {
		for _, g := range groups {
			g.Release()
		}
	}()
	if fail != nil {
		recycleTemps()
		return nil, fail
	}
	cmd, err := enc.Finish(nil)
	if err != nil {
		recycleTemps()
		return nil, errors.Wrapf(err, "webgpu backend: Execute(%q)", e.name)
	}
	defer cmd.Release()
	b.queue.Submit(cmd)
	b.device.Poll(false, nil)

	outs := make([]backends.Buffer, len(e.outputs))
	for i, v := range e.outputs {
		gpu := bufs[v]
		if gpu == nil { // an empty output that no launch wrote
			if gpu, err = b.acquire(e.values[v].bytes); err != nil {
				recycleTemps()
				return nil, err
			}
		}
		bufs[v] = nil
		outs[i] = &Buffer{backend: b, gpu: gpu, shape: e.outputShapes[i]}
	}
	recycleTemps()
	for i, d := range donate {
		if d && i < len(in) && in[i].gpu != nil {
			b.recycle(in[i].gpu)
			in[i].gpu = nil
		}
	}
	return outs, nil
}
