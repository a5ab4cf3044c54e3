package amopo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/require"
)

// hiddenCase is a batch for the lean path: hidden states, a head and the token case whose
// logits are hidden · headᵀ.
type hiddenCase struct {
	tokenCase
	h      int
	hidden []float64 // [n, s, h]
	head   []float64 // [v, h]
}

// makeHiddenCase draws hidden states and a head, and gives every row its own layout:
// left or right padding, a prompt of random length, a response of random length (maybe
// none).
func makeHiddenCase(rng *rand.Rand, n, s, h, v int) hiddenCase {
	c := hiddenCase{tokenCase: tokenCase{n: n, s: s, v: v}, h: h}
	c.hidden = make([]float64, n*s*h)
	for i := range c.hidden {
		c.hidden[i] = rng.NormFloat64()
	}
	c.head = make([]float64, v*h)
	for i := range c.head {
		c.head[i] = rng.NormFloat64() * 1.5
	}
	c.tokens = make([]int32, n*s)
	for i := range c.tokens {
		c.tokens[i] = int32(rng.IntN(v))
	}
	c.response = make([]float64, n*s)
	for i := range n {
		real := 1 + rng.IntN(s)
		prompt := rng.IntN(real)
		first := 0
		if rng.IntN(2) == 0 {
			first = s - real // left padding
		}
		for t := first + prompt; t < first+real; t++ {
			c.response[i*s+t] = 1
		}
	}
	c.logits = make([]float64, n*s*v)
	c.setLogits()
	return c
}

// setLogits recomputes the logits from hidden and head in float64.
func (c *hiddenCase) setLogits() {
	for r := range c.n * c.s {
		for j := range c.v {
			sum := 0.0
			for k := range c.h {
				sum += c.hidden[r*c.h+k] * c.head[j*c.h+k]
			}
			c.logits[r*c.v+j] = sum
		}
	}
}

// objective is Σ w·logp in float64, from the oracle.
func (c hiddenCase) objective(w []float64) float64 {
	c.logits = make([]float64, c.n*c.s*c.v)
	c.setLogits()
	lp, _ := c.oracle()
	sum := 0.0
	for i := range lp {
		sum += w[i] * lp[i]
	}
	return sum
}

func (c hiddenCase) weights() []float64 {
	w := make([]float64, c.n*c.s)
	for i := range w {
		w[i] = float64(i%7) - 2.5
	}
	return w
}

// runLogProbs returns the log-probs, the mask and the gradients of Σ w·logp with respect
// to hidden and head, with logits = hidden·headᵀ given to TokenLogProbs (chunkRows = 0)
// or the lean path (chunkRows > 0), in dtype.
func runLogProbs(t *testing.T, c hiddenCase, dtype dtypes.DType, chunkRows int) (lp, mask, dHidden, dHead []float64) {
	be := newBackend(t)
	outs := MustExecOnceN(be, func(hidden, head, tokens, response, w *Node) []*Node {
		hidden, head = ConvertDType(hidden, dtype), ConvertDType(head, dtype)
		var lp, m *Node
		if chunkRows > 0 {
			lp, m = TokenLogProbsFromHidden(hidden, head, tokens, response, chunkRows)
		} else {
			logits := DotGeneral(hidden, []int{-1}, nil, head, []int{1}, nil)
			lp, m = TokenLogProbs(logits, tokens, response)
		}
		grads := Gradient(ReduceAllSum(Mul(lp, ConvertDType(w, lp.DType()))), hidden, head)
		return []*Node{ConvertDType(lp, dtypes.Float64), ConvertDType(m, dtypes.Float64),
			ConvertDType(grads[0], dtypes.Float64), ConvertDType(grads[1], dtypes.Float64)}
	}, tensors.FromFlatDataAndDimensions(c.hidden, c.n, c.s, c.h),
		tensors.FromFlatDataAndDimensions(c.head, c.v, c.h),
		tensors.FromFlatDataAndDimensions(c.tokens, c.n, c.s),
		tensors.FromFlatDataAndDimensions(c.response, c.n, c.s),
		tensors.FromFlatDataAndDimensions(c.weights(), c.n, c.s))
	get := func(i int) []float64 { return tensors.MustCopyFlatData[float64](outs[i]) }
	return get(0), get(1), get(2), get(3)
}

// requireSlicesClose checks |a - b| <= tol·(1 + max|b|) element-wise.
func requireSlicesClose(t *testing.T, want, got []float64, tol float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	scale := 0.0
	for _, x := range want {
		scale = math.Max(scale, math.Abs(x))
	}
	for i := range want {
		require.InDelta(t, want[i], got[i], tol*(1+scale), "%s[%d]", what, i)
	}
}

// TestTokenLogProbsFromHiddenMatchesTokenLogProbs holds the lean path to the plain one in
// float32 (values, mask, gradients with respect to hidden and head) on random shapes and
// chunk sizes that do and do not divide the rows, including one row per chunk and a single
// chunk larger than the batch.
func TestTokenLogProbsFromHiddenMatchesTokenLogProbs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, shape := range [][4]int{{3, 7, 5, 11}, {2, 9, 8, 37}, {1, 5, 3, 4}} {
		c := makeHiddenCase(rng, shape[0], shape[1], shape[2], shape[3])
		rows := c.n * c.s
		wantLp, wantMask, wantDH, wantDW := runLogProbs(t, c, dtypes.Float32, 0)
		for _, chunk := range []int{1, 2, 5, rows - 1, rows, rows + 3} {
			t.Run(fmt.Sprintf("n%d_s%d_h%d_v%d_chunk%d", c.n, c.s, c.h, c.v, chunk), func(t *testing.T) {
				lp, mask, dH, dW := runLogProbs(t, c, dtypes.Float32, chunk)
				require.Equal(t, wantMask, mask)
				requireSlicesClose(t, wantLp, lp, 2e-6, "logps")
				requireSlicesClose(t, wantDH, dH, 2e-6, "d/dhidden")
				requireSlicesClose(t, wantDW, dW, 2e-6, "d/dhead")
			})
		}
	}
}

// TestTokenLogProbsFromHiddenFloat64MatchesOracleAndFiniteDifferences checks the values
// against the float64 oracle and the custom gradient against central differences of it.
func TestTokenLogProbsFromHiddenFloat64MatchesOracleAndFiniteDifferences(t *testing.T) {
	c := makeHiddenCase(rand.New(rand.NewPCG(9, 10)), 2, 6, 4, 9)
	lp, mask, dH, dW := runLogProbs(t, c, dtypes.Float64, 5)
	wantLp, wantMask := c.oracle()
	require.Equal(t, wantMask, mask)
	require.InDeltaSlice(t, wantLp, lp, 1e-12)
	w := c.weights()
	const h = 1e-6
	check := func(x []float64, grad []float64, what string) {
		for i := range x {
			orig := x[i]
			x[i] = orig + h
			up := c.objective(w)
			x[i] = orig - h
			down := c.objective(w)
			x[i] = orig
			require.InDelta(t, (up-down)/(2*h), grad[i], 1e-6, "%s[%d]", what, i)
		}
	}
	check(c.hidden, dH, "d/dhidden")
	check(c.head, dW, "d/dhead")
}

// TestTokenLogProbsFromHiddenTwoGradients takes two gradients of different objectives in
// one graph: each must see its own adjoint (the custom gradient records it per Gradient).
func TestTokenLogProbsFromHiddenTwoGradients(t *testing.T) {
	c := makeHiddenCase(rand.New(rand.NewPCG(11, 12)), 2, 5, 3, 7)
	be := newBackend(t)
	w := c.weights()
	w2 := make([]float64, len(w))
	for i := range w2 {
		w2[i] = float64(i%3) + 0.5
	}
	outs := MustExecOnceN(be, func(hidden, head, tokens, response, w, w2 *Node) []*Node {
		lp, _ := TokenLogProbsFromHidden(hidden, head, tokens, response, 3)
		g1 := Gradient(ReduceAllSum(Mul(lp, w)), hidden)[0]
		g2 := Gradient(ReduceAllSum(Mul(lp, w2)), hidden)[0]
		return []*Node{g1, g2}
	}, tensors.FromFlatDataAndDimensions(c.hidden, c.n, c.s, c.h),
		tensors.FromFlatDataAndDimensions(c.head, c.v, c.h),
		tensors.FromFlatDataAndDimensions(c.tokens, c.n, c.s),
		tensors.FromFlatDataAndDimensions(c.response, c.n, c.s),
		tensors.FromFlatDataAndDimensions(w, c.n, c.s),
		tensors.FromFlatDataAndDimensions(w2, c.n, c.s))
	_, _, want1, _ := runLogProbs(t, c, dtypes.Float64, 0)
	require.InDeltaSlice(t, want1, tensors.MustCopyFlatData[float64](outs[0]), 1e-12)
	require.NotEqual(t, tensors.MustCopyFlatData[float64](outs[0]), tensors.MustCopyFlatData[float64](outs[1]))
	// The second objective, by finite differences on one coordinate of each row.
	g2 := tensors.MustCopyFlatData[float64](outs[1])
	for i := 0; i < len(c.hidden); i += c.h {
		orig := c.hidden[i]
		c.hidden[i] = orig + 1e-6
		up := c.objective(w2)
		c.hidden[i] = orig - 1e-6
		down := c.objective(w2)
		c.hidden[i] = orig
		require.InDelta(t, (up-down)/2e-6, g2[i], 1e-6, "second gradient, d/dhidden[%d]", i)
	}
}

func TestTokenLogProbsFromHiddenBFloat16ReducesInFloat32(t *testing.T) {
	c := makeHiddenCase(rand.New(rand.NewPCG(13, 14)), 2, 6, 4, 9)
	lp, _, _, _ := runLogProbs(t, c, dtypes.BFloat16, 4)
	want, _ := c.oracle()
	for i := range want {
		// bf16 hidden and head (8-bit mantissas) move logits of magnitude ~5 by ~0.05.
		require.InDelta(t, want[i], lp[i], 0.25, "position %d", i)
	}
}

// largestVocabNode is the size of the largest node of g that has an axis of the
// vocabulary size v.
func largestVocabNode(g *Graph, v int) (size int, shape string) {
	for _, node := range g.Nodes() {
		if node.NumOutputs() != 1 {
			continue
		}
		sh := node.Shape()
		for _, d := range sh.Dimensions {
			if d == v && sh.Size() > size {
				size, shape = sh.Size(), sh.String()
			}
		}
	}
	return size, shape
}

// TestTokenLogProbsFromHiddenKeepsNoFullLogits is the memory claim, checked on the graph
// rather than by a timed or RSS test: with the gradient built, no node of the lean path is
// larger than one chunk of logits or the [V, H] head (its gradient), while the plain path
// (the same test's control) has nodes of the whole [N, S, V].
func TestTokenLogProbsFromHiddenKeepsNoFullLogits(t *testing.T) {
	be := newBackend(t)
	const n, s, h, v, chunk = 4, 9, 8, 1009, 5
	build := func(lean bool) (int, string) {
		g := NewGraph(be, "vocab")
		hidden := Parameter(g, "hidden", shapesOf(dtypes.Float32, n, s, h))
		head := Parameter(g, "head", shapesOf(dtypes.Float32, v, h))
		tokens := Parameter(g, "tokens", shapesOf(dtypes.Int32, n, s))
		mask := Parameter(g, "mask", shapesOf(dtypes.Float32, n, s))
		var lp *Node
		if lean {
			lp, _ = TokenLogProbsFromHidden(hidden, head, tokens, mask, chunk)
		} else {
			lp, _ = TokenLogProbs(DotGeneral(hidden, []int{-1}, nil, head, []int{1}, nil), tokens, mask)
		}
		_ = Gradient(ReduceAllSum(lp), hidden, head)
		return largestVocabNode(g, v)
	}
	leanSize, leanShape := build(true)
	plainSize, plainShape := build(false)
	t.Logf("largest vocabulary-sized node: lean %s, plain %s", leanShape, plainShape)
	require.GreaterOrEqual(t, plainSize, n*s*v, "the control: the plain path has nodes of the full [N, S, V] (or more)")
	require.LessOrEqual(t, leanSize, max(chunk*v, v*h), "a lean node larger than a chunk of logits or the head: %s", leanShape)
}
