package amopo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/stretchr/testify/require"
)

// newBackend is the pure-Go backend as the engine configures it: GoMLX v0.26's parallel
// op executor can deadlock (platform facts, trap 3; seen here as a test hanging in
// workersPool.WaitToStart), so ops run one at a time.
func newBackend(t testing.TB) backends.Backend {
	be, err := backends.NewWithConfig("go:ops_sequential")
	require.NoError(t, err)
	t.Cleanup(be.Finalize)
	return be
}

// tokenCase is a small batch of sequences with a prompt and padding on either side.
type tokenCase struct {
	n, s, v  int
	logits   []float64 // [n, s, v]
	tokens   []int32   // [n, s]
	response []float64 // [n, s]: 1 on response tokens
}

func makeTokenCase(rng *rand.Rand) tokenCase {
	c := tokenCase{n: 3, s: 7, v: 11}
	c.logits = make([]float64, c.n*c.s*c.v)
	for i := range c.logits {
		c.logits[i] = rng.NormFloat64() * 3
	}
	c.tokens = make([]int32, c.n*c.s)
	for i := range c.tokens {
		c.tokens[i] = int32(rng.IntN(c.v))
	}
	// Row 0: right padding: prompt 0..1, response 2..4, pad 5..6.
	// Row 1: left padding: pad 0..1, prompt 2, response 3..6.
	// Row 2: no prompt mask at all but a one-token response at the end.
	c.response = make([]float64, c.n*c.s)
	for _, t := range []int{2, 3, 4} {
		c.response[0*c.s+t] = 1
	}
	for _, t := range []int{3, 4, 5, 6} {
		c.response[1*c.s+t] = 1
	}
	c.response[2*c.s+6] = 1
	return c
}

// oracle is the float64 log-prob of token t+1 given the logits at t, written directly.
func (c tokenCase) oracle() (logps, mask []float64) {
	logps, mask = make([]float64, c.n*c.s), make([]float64, c.n*c.s)
	for i := 0; i < c.n; i++ {
		for t := 0; t+1 < c.s; t++ {
			if c.response[i*c.s+t+1] == 0 {
				continue
			}
			row := c.logits[(i*c.s+t)*c.v : (i*c.s+t+1)*c.v]
			m := math.Inf(-1)
			for _, x := range row {
				m = math.Max(m, x)
			}
			z := 0.0
			for _, x := range row {
				z += math.Exp(x - m)
			}
			logps[i*c.s+t] = row[c.tokens[i*c.s+t+1]] - m - math.Log(z)
			mask[i*c.s+t] = 1
		}
	}
	return logps, mask
}

func TestTokenLogProbsMatchesDirectComputation(t *testing.T) {
	be := newBackend(t)
	c := makeTokenCase(rand.New(rand.NewPCG(1, 2)))
	want, wantMask := c.oracle()
	outs := MustExecOnceN(be, func(logits, tokens, response *Node) []*Node {
		lp, m := TokenLogProbs(logits, tokens, response)
		return []*Node{lp, ConvertDType(m, dtypes.Float64)}
	}, tensors.FromFlatDataAndDimensions(c.logits, c.n, c.s, c.v),
		tensors.FromFlatDataAndDimensions(c.tokens, c.n, c.s),
		tensors.FromFlatDataAndDimensions(c.response, c.n, c.s))
	got, gotMask := tensors.MustCopyFlatData[float64](outs[0]), tensors.MustCopyFlatData[float64](outs[1])
	require.Equal(t, wantMask, gotMask, "the label shift moves the response mask one step left")
	require.InDeltaSlice(t, want, got, 1e-12)
	// Each row keeps as many response log-probs as it has response tokens after the first
	// position: 3, 4 and 1.
	for i, n := range []int{3, 4, 1} {
		sum := 0.0
		for t := 0; t < c.s; t++ {
			sum += gotMask[i*c.s+t]
		}
		require.Equal(t, float64(n), sum, "row %d", i)
	}
}

func TestTokenLogProbsGradientMatchesFiniteDifferences(t *testing.T) {
	be := newBackend(t)
	c := makeTokenCase(rand.New(rand.NewPCG(3, 4)))
	// A scalar of the log-probs with uneven weights, so every position matters differently.
	weights := make([]float64, c.n*c.s)
	for i := range weights {
		weights[i] = float64(i%5) - 1.5
	}
	objective := func(logits []float64) float64 {
		c2 := c
		c2.logits = logits
		lp, _ := c2.oracle()
		s := 0.0
		for i := range lp {
			s += weights[i] * lp[i]
		}
		return s
	}
	out := MustExecOnce(be, func(logits, tokens, response, w *Node) *Node {
		lp, _ := TokenLogProbs(logits, tokens, response)
		return Gradient(ReduceAllSum(Mul(lp, w)), logits)[0]
	}, tensors.FromFlatDataAndDimensions(c.logits, c.n, c.s, c.v),
		tensors.FromFlatDataAndDimensions(c.tokens, c.n, c.s),
		tensors.FromFlatDataAndDimensions(c.response, c.n, c.s),
		tensors.FromFlatDataAndDimensions(weights, c.n, c.s))
	grad := tensors.MustCopyFlatData[float64](out)
	const h = 1e-6
	for i := range c.logits {
		x := append([]float64(nil), c.logits...)
		x[i] += h
		up := objective(x)
		x[i] -= 2 * h
		down := objective(x)
		require.InDelta(t, (up-down)/(2*h), grad[i], 1e-7, "d/dlogits[%d]", i)
	}
}

func TestTokenLogProbsBFloat16LogitsReduceInFloat32(t *testing.T) {
	be := newBackend(t)
	c := makeTokenCase(rand.New(rand.NewPCG(5, 6)))
	want, _ := c.oracle()
	out := MustExecOnce(be, func(logits, tokens, response *Node) *Node {
		lp, _ := TokenLogProbs(ConvertDType(logits, dtypes.BFloat16), tokens, response)
		require.Equal(t, dtypes.Float32, lp.DType())
		return lp
	}, tensors.FromFlatDataAndDimensions(c.logits, c.n, c.s, c.v),
		tensors.FromFlatDataAndDimensions(c.tokens, c.n, c.s),
		tensors.FromFlatDataAndDimensions(c.response, c.n, c.s))
	got := tensors.MustCopyFlatData[float32](out)
	for i := range want {
		// bf16 keeps 8 bits of mantissa: logits of magnitude ~10 round by up to ~0.03.
		require.InDelta(t, want[i], float64(got[i]), 0.1, "position %d", i)
	}
}

// countVocabNodes counts the nodes of g whose shape ends in the vocabulary axis and has
// the size of the whole [N, S, V] logits: the full-vocabulary copies.
func countVocabNodes(g *Graph, full int, v int) int {
	count := 0
	for _, node := range g.Nodes() {
		if node.NumOutputs() != 1 {
			continue
		}
		sh := node.Shape()
		if sh.Rank() > 0 && sh.Dimensions[sh.Rank()-1] == v && sh.Size() == full {
			count++
		}
	}
	return count
}

// TestTokenLogProbsMaterialisesNoExtraVocabularyCopies holds the memory claim of
// TokenLogProbs: its forward graph has two full-vocabulary intermediates (logits-max
// and its exp) besides the logits, where the textbook log_softmax + one-hot has five,
// and its backward adds fewer.
func TestTokenLogProbsMaterialisesNoExtraVocabularyCopies(t *testing.T) {
	be := newBackend(t)
	const n, s, v = 2, 5, 1009
	build := func(fn func(logits, tokens, mask *Node) *Node, withGrad bool) int {
		g := NewGraph(be, "count")
		logits := Parameter(g, "logits", shapesOf(dtypes.Float32, n, s, v))
		tokens := Parameter(g, "tokens", shapesOf(dtypes.Int32, n, s))
		mask := Parameter(g, "mask", shapesOf(dtypes.Float32, n, s))
		loss := ReduceAllSum(fn(logits, tokens, mask))
		if withGrad {
			_ = Gradient(loss, logits)
		}
		return countVocabNodes(g, n*s*v, v) - 1 // minus the logits parameter itself
	}
	ours := func(logits, tokens, mask *Node) *Node {
		lp, _ := TokenLogProbs(logits, tokens, mask)
		return lp
	}
	naive := func(logits, tokens, mask *Node) *Node {
		// What a direct port of TRL's get_batch_logps builds: log_softmax, then a
		// one-hot selection of the (shifted) labels.
		next := ShiftWithScalar(tokens, 1, ShiftDirLeft, 1, 0)
		logSoftmax := LogSoftmax(logits, -1)
		oneHot := OneHot(next, v, dtypes.Float32)
		return Mul(ReduceSum(Mul(logSoftmax, oneHot), -1), mask)
	}
	oursFwd, naiveFwd := build(ours, false), build(naive, false)
	oursAll, naiveAll := build(ours, true), build(naive, true)
	t.Logf("full-vocabulary intermediates: forward %d (naive %d), forward+backward %d (naive %d)",
		oursFwd, naiveFwd, oursAll, naiveAll)
	require.LessOrEqual(t, oursFwd, 2)
	require.Less(t, oursFwd, naiveFwd)
	require.Less(t, oursAll, naiveAll)
}

func shapesOf(dtype dtypes.DType, dims ...int) shapes.Shape { return shapes.Make(dtype, dims...) }
