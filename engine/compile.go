package engine

import (
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pkg/errors"
)

// valueKind says where a value's storage comes from.
type valueKind int

const (
	valueTemp  valueKind = iota // allocated per execution from the pool
	valueParam                  // an input buffer
	valueConst                  // uploaded at Compile, owned by the executable
)

// value is a device buffer of the program: a node's output or a scratch buffer.
type value struct {
	kind  valueKind
	bytes uint64
	param int     // valueParam
	gpu   *gpuBuf // valueConst
	// lastUse is the index of the last launch that binds the value; outputs are never
	// recycled.
	lastUse  int
	isOutput bool
}

// launch is one kernel dispatch: args are value ids, the output last.
type launch struct {
	k      *kernel
	args   []int
	params *gpuBuf
	groups [3]uint32
}

// compiler lowers a graph to a program.
type compiler struct {
	b           *Backend
	values      []value
	launches    []launch
	paramValues []int
}

// newValue adds a scratch value of the size of shape.
func (c *compiler) temp(shape shapes.Shape) int {
	return c.tempBytes(deviceBytes(shape))
}

func (c *compiler) tempBytes(n uint64) int {
	c.values = append(c.values, value{kind: valueTemp, bytes: n, lastUse: -1})
	return len(c.values) - 1
}

func (c *compiler) constant(data []byte) (int, error) {
	gpu, err := c.b.upload(data)
	if err != nil {
		return 0, err
	}
	c.values = append(c.values, value{kind: valueConst, bytes: uint64(len(data)), gpu: gpu, lastUse: -1})
	return len(c.values) - 1, nil
}

// launch adds a dispatch of spec over args (inputs then output) with params.
func (c *compiler) launch(spec kernelSpec, args []int, params []uint32, groups [3]uint32) error {
	if groups[0] == 0 || groups[1] == 0 || groups[2] == 0 {
		return nil // nothing to compute (empty tensor)
	}
	k, err := c.b.getKernel(spec)
	if err != nil {
		return err
	}
	if len(params) == 0 {
		params = []uint32{0}
	}
	pbuf, err := c.b.upload(sliceBytes(params))
	if err != nil {
		return err
	}
	for _, a := range args {
		c.values[a].lastUse = len(c.launches)
	}
	c.launches = append(c.launches, launch{k: k, args: args, params: pbuf, groups: groups})
	return nil
}

// maxGroups is WebGPU's default limit of workgroups per dimension.
const maxGroups = 65535

// grid1D returns the workgroups for n invocations of workgroups of 64 (or for n
// workgroups if perGroup is 1), spread over x and y.
func grid1D(n, perGroup int) ([3]uint32, error) {
	groups := (n + perGroup - 1) / perGroup
	if groups <= maxGroups {
		return [3]uint32{uint32(groups), 1, 1}, nil
	}
	y := (groups + maxGroups - 1) / maxGroups
	if y > maxGroups {
		return [3]uint32{}, errors.Errorf("webgpu backend: %d elements are too many for one launch", n)
	}
	return [3]uint32{maxGroups, uint32(y), 1}, nil
}

// wg is the workgroup size of the 1-D kernels (WG in common.wgsl).
const wg = 64

// launch1D launches one invocation per element of n.
func (c *compiler) launch1D(spec kernelSpec, args []int, params []uint32, n int) error {
	if n == 0 {
		return nil
	}
	groups, err := grid1D(n, wg)
	if err != nil {
		return err
	}
	return c.launch(spec, args, params, groups)
}

// compile lowers the nodes the outputs depend on, in the builder's (topological) order.
func compile(b *Builder, outputs []*Node) (*Executable, error) {
	be := b.backend
	be.mu.Lock()
	defer be.mu.Unlock()
	if be.finalized {
		return nil, errors.New("webgpu backend: Compile: backend finalized")
	}
	c := &compiler{b: be}
	for i, p := range b.params {
		c.values = append(c.values, value{kind: valueParam, bytes: deviceBytes(p.shape), param: i, lastUse: -1})
		c.paramValues = append(c.paramValues, len(c.values)-1)
	}
	needed := make([]bool, len(b.nodes))
	for _, o := range outputs {
		needed[o.idx] = true
	}
	for i := len(b.nodes) - 1; i >= 0; i-- {
		if needed[i] {
			for _, in := range b.nodes[i].inputs {
				needed[in.idx] = true
			}
		}
	}
	valueOf := make([]int, len(b.nodes))
	for i, n := range b.nodes {
		if !needed[i] {
			continue
		}
		args := make([]int, len(n.inputs))
		for j, in := range n.inputs {
			args[j] = valueOf[in.idx]
		}
		v, err := n.lower(c, n, args)
		if err != nil {
			c.release()
			return nil, errors.WithMessagef(err, "webgpu backend: lowering %s -> %s", n.op, n.shape)
		}
		valueOf[i] = v
	}
	// Every output gets its own scratch value: copy parameters, constants and values
	// that are already another output.
	outValues := make([]int, len(outputs))
	for i, o := range outputs {
		v := valueOf[o.idx]
		if c.values[v].kind != valueTemp || c.values[v].isOutput {
			dst := c.temp(o.shape)
			if err := c.copyWords(v, dst, int(deviceBytes(o.shape)/4)); err != nil {
				c.release()
				return nil, err
			}
			v = dst
		}
		c.values[v].isOutput = true
		outValues[i] = v
	}
	e := &Executable{backend: be, name: b.name, values: c.values, launches: c.launches, outputs: outValues}
	for i, p := range b.params {
		e.inputNames = append(e.inputNames, b.paramNames[i])
		e.inputShapes = append(e.inputShapes, p.shape)
	}
	for _, o := range outputs {
		e.outputShapes = append(e.outputShapes, o.shape)
	}
	return e, nil
}

// release frees what a failed compilation uploaded. b.mu must be held.
func (c *compiler) release() {
	for _, v := range c.values {
		if v.kind == valueConst {
			c.b.recycle(v.gpu)
		}
	}
	for _, l := range c.launches {
		c.b.recycle(l.params)
	}
}

// copyWords copies n 32-bit words of src to dst.
func (c *compiler) copyWords(src, dst, n int) error {
	params := []uint32{uint32(n), 1, 0, 0, uint32(n), 1, 1}
	return c.launch1D(kernelSpec{file: "copy", readOnly: []bool{true, false}}, []int{src, dst}, params, n)
}
