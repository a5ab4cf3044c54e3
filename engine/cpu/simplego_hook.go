package cpu

import (
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/dtypes/bfloat16"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// executor has the layout of simplego's (unexported) nodeExecutor type.
type executor = func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

// nodeExecutors is simplego's table of op executors, indexed by backends.OpType.
//
//go:linkname nodeExecutors github.com/gomlx/gomlx/backends/simplego.nodeExecutors
var nodeExecutors [backends.OpTypeLast]executor

var (
	installOnce sync.Once
	installErr  error
	installed   atomic.Bool
	// gomlxDotGeneral is the executor the hook replaced: it runs the dtypes the fast path
	// does not (bf16 and the others).
	gomlxDotGeneral executor
	fastCalls       atomic.Int64
	// nodeShapeOffset is where simplego.Node keeps its output shape.
	nodeShapeOffset, nodeDataOffset uintptr
)

func init() { _ = Install() }

// Install makes the fast GEMM simplego's DotGeneral executor for float32 operands. It is
// idempotent (importing the package already called it) and returns why it could not
// install, leaving GoMLX's executor in place, if simplego's internals are not those of
// GoMLX v0.26.
func Install() error {
	installOnce.Do(func() {
		installErr = install()
		installed.Store(installErr == nil)
	})
	return installErr
}

// Uninstall puts GoMLX's own DotGeneral executor back (cmd/bench measures both in one
// run); Install after it does nothing: the hook is installed once per process. Call it
// only while no graph is executing.
func Uninstall() {
	if installed.Load() {
		nodeExecutors[backends.OpTypeDotGeneral] = gomlxDotGeneral
		nodeExecutors[backends.OpTypeErf] = gomlxErf
		installed.Store(false)
	}
}

// Installed reports whether the fast DotGeneral is simplego's executor.
func Installed() bool { return installed.Load() }

// FastCalls is the number of DotGeneral ops the fast path has run (a test compares it
// before and after a graph to know its matmuls went through the hook).
func FastCalls() int64 { return fastCalls.Load() }

func install() error {
	original := nodeExecutors[backends.OpTypeDotGeneral]
	if original == nil {
		return fmt.Errorf("cpu: simplego has no DotGeneral executor to replace (GoMLX is not v0.26?)")
	}
	nodeType := reflect.TypeOf(simplego.Node{})
	shapeField, ok1 := nodeType.FieldByName("shape")
	dataField, ok2 := nodeType.FieldByName("data")
	if !ok1 || !ok2 || shapeField.Type != reflect.TypeOf(shapes.Shape{}) || dataField.Type.Kind() != reflect.Interface {
		return fmt.Errorf("cpu: simplego.Node has no shape/data fields of the expected types (GoMLX is not v0.26?)")
	}
	nodeShapeOffset, nodeDataOffset = shapeField.Offset, dataField.Offset
	if nodeExecutors[backends.OpTypeErf] == nil {
		return fmt.Errorf("cpu: simplego has no Erf executor to replace (GoMLX is not v0.26?)")
	}
	gomlxDotGeneral, gomlxErf = original, nodeExecutors[backends.OpTypeErf]
	nodeExecutors[backends.OpTypeDotGeneral] = execDotGeneral
	nodeExecutors[backends.OpTypeErf] = execErf
	return nil
}

// execDotGeneral is the hooked executor: float32 through the packed GEMM, everything
// else (and a node it cannot read) through GoMLX's own.
func execDotGeneral(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error) {
	outShape := *(*shapes.Shape)(unsafe.Add(unsafe.Pointer(node), nodeShapeOffset))
	if (outShape.DType != dtypes.Float32 && outShape.DType != dtypes.BFloat16) || len(inputs) != 2 {
		return gomlxDotGeneral(backend, node, inputs, inputsOwned)
	}
	data := *(*any)(unsafe.Add(unsafe.Pointer(node), nodeDataOffset))
	axes, err := readDotAxes(data)
	if err != nil {
		return nil, err
	}
	operands := [2]operand{}
	for i, in := range inputs {
		shape, err := backend.BufferShape(in)
		if err != nil {
			return nil, err
		}
		flat, err := backend.BufferData(in)
		if err != nil {
			return nil, err
		}
		var f32 []float32
		switch x := flat.(type) {
		case []float32:
			f32 = x
		case []bfloat16.BFloat16: // exact in f32; the product is rounded back below
			f32 = bf16ToF32(x)
		}
		if f32 == nil || shape.DType != outShape.DType {
			return gomlxDotGeneral(backend, node, inputs, inputsOwned)
		}
		operands[i] = operand{dims: shape.Dimensions, data: f32}
	}
	p, err := dotGeneralBatch(operands[0], axes.lhsContracting, axes.lhsBatch, operands[1], axes.rhsContracting, axes.rhsBatch)
	if err != nil {
		return nil, fmt.Errorf("cpu: DotGeneral %v x %v: %w", operands[0].dims, operands[1].dims, err)
	}
	if outShape.Size() != p.Size*p.M*p.N {
		return nil, fmt.Errorf("cpu: DotGeneral %v x %v: output shape %s, but the product is %d x %d x %d",
			operands[0].dims, operands[1].dims, outShape, p.Size, p.M, p.N)
	}
	out := backend.NewBuffer(outShape)
	flat, err := backend.BufferData(out)
	if err != nil {
		return nil, err
	}
	p.LDC, p.CStride = p.N, p.M*p.N
	if outShape.DType == dtypes.Float32 {
		p.C = flat.([]float32)
	} else {
		p.C = make([]float32, outShape.Size())
	}
	batchMatMul(active, p, runtime.GOMAXPROCS(0))
	if outShape.DType == dtypes.BFloat16 {
		dst := flat.([]bfloat16.BFloat16)
		for i, v := range p.C {
			dst[i] = bfloat16.FromFloat32(v) // as simplego rounds its f32 accumulators
		}
	}
	fastCalls.Add(1)
	return out, nil
}

func bf16ToF32(x []bfloat16.BFloat16) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = v.Float32()
	}
	return out
}

// dotAxes are the axes of simplego's dotGeneralNodeData.
type dotAxes struct{ lhsContracting, lhsBatch, rhsContracting, rhsBatch []int }

// readDotAxes reads the axes of a DotGeneral node's data (a *dotGeneralNodeData) by
// reflection: reading unexported fields is allowed, only their Interface is not.
func readDotAxes(data any) (dotAxes, error) {
	v := reflect.ValueOf(data)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return dotAxes{}, fmt.Errorf("cpu: DotGeneral node data is %T, not a pointer to GoMLX v0.26's dotGeneralNodeData", data)
	}
	v = v.Elem()
	read := func(name string) ([]int, error) {
		f := v.FieldByName(name)
		if !f.IsValid() || f.Kind() != reflect.Slice || f.Type().Elem().Kind() != reflect.Int {
			return nil, fmt.Errorf("cpu: DotGeneral node data %s has no []int field %q (GoMLX is not v0.26?)", v.Type(), name)
		}
		axes := make([]int, f.Len())
		for i := range axes {
			axes[i] = int(f.Index(i).Int())
		}
		return axes, nil
	}
	var a dotAxes
	var err error
	for _, f := range []struct {
		dst  *[]int
		name string
	}{{&a.lhsContracting, "lhsContractingAxes"}, {&a.lhsBatch, "lhsBatchAxes"},
		{&a.rhsContracting, "rhsContractingAxes"}, {&a.rhsBatch, "rhsBatchAxes"}} {
		if *f.dst, err = read(f.name); err != nil {
			return a, err
		}
	}
	return a, nil
}
