package engine

import (
	"reflect"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/notimplemented"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pkg/errors"
)

// Builder records a computation graph; Compile lowers it to kernel launches.
type Builder struct {
	notimplemented.Builder

	backend    *Backend
	name       string
	nodes      []*Node
	params     []*Node
	paramNames []string
	compiled   bool
}

var _ backends.Builder = (*Builder)(nil)

// lowerFn emits the launches of a node, given the values of its inputs, and returns
// the value holding its output.
type lowerFn func(c *compiler, n *Node, args []int) (int, error)

// Node is an op of the graph being built.
type Node struct {
	idx     int
	op      backends.OpType
	shape   shapes.Shape
	inputs  []*Node
	builder *Builder
	lower   lowerFn
}

func newBuilder(b *Backend, name string) *Builder {
	builder := &Builder{backend: b, name: name}
	builder.Builder.ErrFn = notImplemented
	return builder
}

// notImplemented is the error of every op the backend lacks.
func notImplemented(op backends.OpType) error {
	return errors.Wrapf(notimplemented.NotImplementedError, "webgpu backend: op %s not implemented", op)
}

// dtypeNotImplemented is the error of an op the backend has, for a dtype it lacks.
func dtypeNotImplemented(op backends.OpType, dtype dtypes.DType) error {
	return errors.Wrapf(notimplemented.NotImplementedError, "webgpu backend: op %s not implemented for dtype %s", op, dtype)
}

// Name implements backends.Builder.
func (b *Builder) Name() string { return b.name }

func (b *Builder) newNode(op backends.OpType, shape shapes.Shape, lower lowerFn, inputs ...*Node) *Node {
	n := &Node{idx: len(b.nodes), op: op, shape: shape, inputs: slices.Clone(inputs), builder: b, lower: lower}
	b.nodes = append(b.nodes, n)
	return n
}

// checkOps checks that ops are nodes of this builder, which is not compiled yet.
func (b *Builder) checkOps(op backends.OpType, ops ...backends.Op) ([]*Node, error) {
	if b.compiled {
		return nil, errors.Errorf("webgpu backend: %s: builder %q is already compiled", op, b.name)
	}
	nodes := make([]*Node, len(ops))
	for i, o := range ops {
		n, ok := o.(*Node)
		if !ok || n == nil {
			return nil, errors.Errorf("webgpu backend: %s: input #%d (%T) is not a webgpu op", op, i, o)
		}
		if n.builder != b {
			return nil, errors.Errorf("webgpu backend: %s: input #%d belongs to another builder (%q)", op, i, n.builder.name)
		}
		nodes[i] = n
	}
	return nodes, nil
}

// checkDType fails unless dtype is one of allowed.
func checkDType(op backends.OpType, dtype dtypes.DType, allowed ...dtypes.DType) error {
	if slices.Contains(allowed, dtype) {
		return nil
	}
	return dtypeNotImplemented(op, dtype)
}

// OpShape implements backends.Builder.
func (b *Builder) OpShape(op backends.Op) (shapes.Shape, error) {
	nodes, err := b.checkOps(backends.OpTypeInvalid, op)
	if err != nil {
		return shapes.Invalid(), err
	}
	return nodes[0].shape, nil
}

// Parameter implements backends.Builder.
func (b *Builder) Parameter(name string, shape shapes.Shape, sharding *backends.ShardingSpec) (backends.Op, error) {
	if _, err := b.checkOps(backends.OpTypeParameter); err != nil {
		return nil, err
	}
	if sharding != nil {
		return nil, errors.Errorf("webgpu backend: Parameter %q: sharding is not supported", name)
	}
	if wordsPerElement(shape.DType) == 0 {
		return nil, dtypeNotImplemented(backends.OpTypeParameter, shape.DType)
	}
	idx := len(b.params)
	n := b.newNode(backends.OpTypeParameter, shape, func(c *compiler, _ *Node, _ []int) (int, error) {
		return c.paramValues[idx], nil
	})
	b.params = append(b.params, n)
	b.paramNames = append(b.paramNames, name)
	return n, nil
}

// Constant implements backends.Builder: the data is uploaded once, at Compile.
func (b *Builder) Constant(flat any, dims ...int) (backends.Op, error) {
	if _, err := b.checkOps(backends.OpTypeConstant); err != nil {
		return nil, err
	}
	if reflect.TypeOf(flat).Kind() != reflect.Slice {
		return nil, errors.Errorf("webgpu backend: Constant: flat must be a slice, got %T", flat)
	}
	data, dtype, n, err := flatBytes(flat)
	if err != nil {
		return nil, errors.WithMessage(err, "Constant")
	}
	shape := shapes.Make(dtype, dims...)
	if shape.Size() != n {
		return nil, errors.Errorf("webgpu backend: Constant: %d values for shape %s", n, shape)
	}
	data = slices.Clone(data)
	return b.newNode(backends.OpTypeConstant, shape, func(c *compiler, node *Node, _ []int) (int, error) {
		return c.constant(data)
	}), nil
}

// Identity implements backends.Builder: no copy.
func (b *Builder) Identity(x backends.Op) (backends.Op, error) {
	nodes, err := b.checkOps(backends.OpTypeIdentity, x)
	if err != nil {
		return nil, err
	}
	return b.newNode(backends.OpTypeIdentity, nodes[0].shape, alias, nodes[0]), nil
}

// alias lowers a node whose output is its input's storage.
func alias(_ *compiler, _ *Node, args []int) (int, error) { return args[0], nil }

// Compile implements backends.Builder.
func (b *Builder) Compile(outputs []backends.Op, shardings []*backends.ShardingSpec) (backends.Executable, error) {
	if len(shardings) != 0 {
		return nil, errors.New("webgpu backend: sharding is not supported")
	}
	nodes, err := b.checkOps(backends.OpTypeInvalid, outputs...)
	if err != nil {
		return nil, err
	}
	b.compiled = true
	return compile(b, nodes)
}
