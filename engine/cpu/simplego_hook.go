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
	checkOnce sync.Once
	checkErr  error
	installMu sync.Mutex
	installed atomic.Bool
	// gomlxDotGeneral is the executor the hook replaced: it runs the dtypes the fast path
	// does not (float64, integers).
	gomlxDotGeneral executor
	// nodeShapeOffset is where simplego.Node keeps its output shape, nodeDataOffset its
	// op-specific data.
	nodeShapeOffset, nodeDataOffset, nodeOpTypeOffset uintptr
	// calls counts the ops each hook ran itself (not passed on to GoMLX's executor).
	calls [backends.OpTypeLast]atomic.Int64
)

// hook is one replaced executor: ours, and where GoMLX's is kept.
type hook struct {
	op       backends.OpType
	exec     executor
	original *executor
}

// hooks lists the executors the package replaces.
func hooks() []hook {
	return []hook{
		{backends.OpTypeDotGeneral, execDotGeneral, &gomlxDotGeneral},
		{backends.OpTypeErf, execErf, &gomlxErf},
		{backends.OpTypeReduceSum, execReduce, &gomlxReduceSum},
		{backends.OpTypeReduceMax, execReduce, &gomlxReduceMax},
		{backends.OpTypeAdd, execBinary, &gomlxAdd},
		{backends.OpTypeSub, execBinary, &gomlxSub},
		{backends.OpTypeMul, execBinary, &gomlxMul},
		{backends.OpTypeDiv, execBinary, &gomlxDiv},
		{backends.OpTypeExp, execExp, &gomlxExp},
		{backends.OpTypeLogistic, execLogistic, &gomlxLogistic},
		{backends.OpTypeBroadcastInDim, execBroadcastInDim, &gomlxBroadcastInDim},
		{backends.OpTypeTranspose, execTranspose, &gomlxTranspose},
	}
}

func init() { _ = Install() }

// Install makes the package's executors simplego's (DotGeneral on the packed GEMM for
// float32 and bfloat16; Erf, ReduceSum/Max, Add/Sub/Mul/Div, Exp, Logistic,
// BroadcastInDim and Transpose for float32 on every core). Importing the package already called it; calling it again does nothing, or
// re-installs after Uninstall. It returns why it could not install, leaving GoMLX's
// executors in place, if simplego's internals are not those of GoMLX v0.26.
func Install() error {
	checkOnce.Do(func() { checkErr = check() })
	if checkErr != nil {
		return checkErr
	}
	installMu.Lock()
	defer installMu.Unlock()
	if !installed.Load() {
		for _, h := range hooks() {
			nodeExecutors[h.op] = h.exec
		}
		installed.Store(true)
	}
	return nil
}

// Uninstall puts GoMLX's own executors back (cmd/bench measures both in one run; tests
// compare with them). Call it only while no graph is executing.
func Uninstall() {
	installMu.Lock()
	defer installMu.Unlock()
	if installed.Load() {
		for _, h := range hooks() {
			nodeExecutors[h.op] = *h.original
		}
		installed.Store(false)
	}
}

// Installed reports whether the package's executors are simplego's.
func Installed() bool { return installed.Load() }

// FastCalls is the number of DotGeneral ops the fast path has run (a test compares it
// before and after a graph to know its matmuls went through the hook).
func FastCalls() int64 { return calls[backends.OpTypeDotGeneral].Load() }

// OpCalls is the number of ops of a type the package's executors ran themselves.
func OpCalls(op backends.OpType) int64 { return calls[op].Load() }

// check finds simplego's executors and the Node fields the hooks read, and keeps
// GoMLX's executors.
func check() error {
	nodeType := reflect.TypeOf(simplego.Node{})
	shapeField, ok1 := nodeType.FieldByName("shape")
	dataField, ok2 := nodeType.FieldByName("data")
	opField, ok3 := nodeType.FieldByName("opType")
	if !ok1 || !ok2 || !ok3 || shapeField.Type != reflect.TypeOf(shapes.Shape{}) || dataField.Type.Kind() != reflect.Interface ||
		opField.Type != reflect.TypeOf(backends.OpType(0)) {
		return fmt.Errorf("cpu: simplego.Node has no shape/data/opType fields of the expected types (GoMLX is not v0.26?)")
	}
	nodeShapeOffset, nodeDataOffset, nodeOpTypeOffset = shapeField.Offset, dataField.Offset, opField.Offset
	for _, h := range hooks() {
		if nodeExecutors[h.op] == nil {
			return fmt.Errorf("cpu: simplego has no %s executor to replace (GoMLX is not v0.26?)", h.op)
		}
		*h.original = nodeExecutors[h.op]
	}
	return nil
}

// nodeShape is a node's output shape, nodeData its op-specific data.
func nodeShape(node *simplego.Node) shapes.Shape {
	return *(*shapes.Shape)(unsafe.Add(unsafe.Pointer(node), nodeShapeOffset))
}

func nodeOpType(node *simplego.Node) backends.OpType {
	return *(*backends.OpType)(unsafe.Add(unsafe.Pointer(node), nodeOpTypeOffset))
}

func nodeData(node *simplego.Node) any {
	return *(*any)(unsafe.Add(unsafe.Pointer(node), nodeDataOffset))
}

// execDotGeneral is the hooked executor: float32 through the packed GEMM, everything
// else (and a node it cannot read) through GoMLX's own.
func execDotGeneral(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error) {
	outShape := nodeShape(node)
	if (outShape.DType != dtypes.Float32 && outShape.DType != dtypes.BFloat16) || len(inputs) != 2 {
		return gomlxDotGeneral(backend, node, inputs, inputsOwned)
	}
	axes, err := readDotAxes(nodeData(node))
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
	calls[backends.OpTypeDotGeneral].Add(1)
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
