package fastgrad

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/require"
)

func newBackend(t testing.TB) backends.Backend {
	be, err := backends.NewWithConfig("go:ops_sequential")
	require.NoError(t, err)
	return be
}

type dotCase struct {
	name                   string
	lhsDims, rhsDims       []int
	lc, lb, rc, rb         []int
	lhsData, rhsData, wgts []float64
}

func randData(r *rand.Rand, dims []int) []float64 {
	n := 1
	for _, d := range dims {
		n *= d
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = r.NormFloat64()
	}
	return out
}

// cases cover: plain matmul, a leading batch axis, several contracting axes given out of
// order with a batch axis in the middle, and two batch axes listed in reverse order.
func cases() []*dotCase {
	r := rand.New(rand.NewPCG(1, 2))
	cs := []*dotCase{
		{name: "matmul", lhsDims: []int{3, 4}, rhsDims: []int{4, 5}, lc: []int{1}, rc: []int{0}},
		{name: "transposed-rhs", lhsDims: []int{3, 4}, rhsDims: []int{5, 4}, lc: []int{1}, rc: []int{1}},
		{name: "batched", lhsDims: []int{2, 3, 4}, rhsDims: []int{2, 4, 5}, lc: []int{2}, lb: []int{0}, rc: []int{1}, rb: []int{0}},
		{name: "multi-contracting", lhsDims: []int{4, 2, 3, 5}, rhsDims: []int{5, 6, 2, 4},
			lc: []int{3, 0}, lb: []int{1}, rc: []int{0, 3}, rb: []int{2}},
		{name: "two-batch-reversed", lhsDims: []int{2, 3, 4, 5}, rhsDims: []int{5, 3, 2, 6},
			lc: []int{3}, lb: []int{1, 0}, rc: []int{0}, rb: []int{1, 2}},
		{name: "attention-gqa", lhsDims: []int{2, 3, 2, 2, 4}, rhsDims: []int{2, 5, 2, 4},
			lc: []int{4}, lb: []int{0, 2}, rc: []int{3}, rb: []int{0, 2}},
	}
	for _, c := range cs {
		c.lhsData, c.rhsData = randData(r, c.lhsDims), randData(r, c.rhsDims)
	}
	return cs
}

// gradients returns the loss sum(w * DotGeneral(lhs, rhs)) and its gradients, with whichever
// DotGeneral VJP is registered when the graph is built. w is a fixed pseudo-random tensor, so
// that the output gradient is not uniform.
func gradients(t *testing.T, be backends.Backend, c *dotCase, lhs, rhs []float64) (loss float64, gl, gr []float64) {
	e := MustNewExec(be, func(l, r *Node) (*Node, *Node, *Node) {
		out := DotGeneral(l, c.lc, c.lb, r, c.rc, c.rb)
		w := Sin(Add(IotaFull(out.Graph(), out.Shape()), Const(out.Graph(), 0.5)))
		loss := ReduceAllSum(Mul(out, w))
		g := Gradient(loss, l, r)
		return loss, g[0], g[1]
	})
	defer e.Finalize()
	outs, err := e.Exec(tensors.FromFlatDataAndDimensions(lhs, c.lhsDims...), tensors.FromFlatDataAndDimensions(rhs, c.rhsDims...))
	require.NoError(t, err)
	return tensors.ToScalar[float64](outs[0]), tensors.MustCopyFlatData[float64](outs[1]), tensors.MustCopyFlatData[float64](outs[2])
}

func TestFastDotGradMatchesDefault(t *testing.T) {
	be := newBackend(t)
	defer RestoreDefaultDotGrad()
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			RestoreDefaultDotGrad()
			require.False(t, IsRegistered())
			loss0, gl0, gr0 := gradients(t, be, c, c.lhsData, c.rhsData)
			RegisterFastDotGrad()
			RegisterFastDotGrad() // idempotent
			require.True(t, IsRegistered())
			loss1, gl1, gr1 := gradients(t, be, c, c.lhsData, c.rhsData)
			require.Equal(t, loss0, loss1)
			require.InDeltaSlice(t, gl0, gl1, 1e-12)
			require.InDeltaSlice(t, gr0, gr1, 1e-12)

			// Central finite differences (the loss is bilinear, so these are exact up to rounding).
			const eps = 1e-3
			fd := func(data []float64, isLHS bool) []float64 {
				out := make([]float64, len(data))
				for i := range data {
					p, m := append([]float64(nil), data...), append([]float64(nil), data...)
					p[i] += eps
					m[i] -= eps
					var lp, lm float64
					if isLHS {
						lp, _, _ = gradients(t, be, c, p, c.rhsData)
						lm, _, _ = gradients(t, be, c, m, c.rhsData)
					} else {
						lp, _, _ = gradients(t, be, c, c.lhsData, p)
						lm, _, _ = gradients(t, be, c, c.lhsData, m)
					}
					out[i] = (lp - lm) / (2 * eps)
				}
				return out
			}
			require.InDeltaSlice(t, fd(c.lhsData, true), gl1, 1e-8, "lhs finite differences")
			require.InDeltaSlice(t, fd(c.rhsData, false), gr1, 1e-8, "rhs finite differences")
		})
	}
}

func TestRestoreWithoutRegister(t *testing.T) {
	RestoreDefaultDotGrad() // must not panic nor clear the entry
	require.NotNil(t, VJPRegistration[NodeTypeDotGeneral])
}
