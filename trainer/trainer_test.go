package trainer

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/gomlx/fastgrad"
	"github.com/amopo-engine/amopo/gomlx/safetensors"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
)

func TestLearningRateScheduleGraphMatchesHost(t *testing.T) {
	be := toyBackend(t)
	o := DefaultOptimizer(1e-3)
	o.WarmupSteps, o.MinLRRatio = 5, 0.1
	const total = 40
	for _, step := range []int{0, 1, 4, 5, 6, 20, 39, 45} {
		got := MustExecOnce(be, func(s *Node) *Node { return o.learningRateGraph(s, total) }, int64(step))
		require.InDelta(t, o.LearningRate(step, total), tensors.ToScalar[float64](got), 1e-15, "step %d", step)
	}
	require.InDelta(t, 1e-3/5, o.LearningRate(0, total), 1e-15, "warm-up starts at LR/warmup")
	require.InDelta(t, 1e-3, o.LearningRate(5, total), 1e-15, "the cosine starts at LR")
	require.InDelta(t, 1e-4, o.LearningRate(total, total), 1e-15, "and ends at LR*min_lr_ratio")
}

// TestAdamWMatchesHostFloat64 runs AdamW with clipping on f(w) = sum(c*w^2)/2 and checks
// every step against the update written out on the host in float64.
func TestAdamWMatchesHostFloat64(t *testing.T) {
	be := toyBackend(t)
	ctx := context.New()
	c := []float32{0.5, 3, -2, 10}
	w0 := []float32{1, -2, 0.5, 0.3}
	v := ctx.In("model").VariableWithValue("w", w0)
	o := DefaultOptimizer(0.1)
	o.WarmupSteps, o.WeightDecay, o.ClipNorm = 2, 0.01, 2.0
	const total = 6
	exec := context.MustNewExec(be, ctx, func(ctx *context.Context, cn *Node) []*Node {
		g := cn.Graph()
		w := v.ValueGraph(g)
		loss := DivScalar(ReduceAllSum(Mul(cn, Square(w))), 2)
		grads := Gradient(loss, w)
		norm, lr := o.apply(ctx, "test", []*context.Variable{v}, grads, total)
		return []*Node{norm, lr}
	})
	w := []float64{1, -2, 0.5, 0.3}
	m, s := make([]float64, 4), make([]float64, 4)
	for step := 0; step < total; step++ {
		outs := exec.MustExec(c)
		grad := make([]float64, 4)
		norm := 0.0
		for i := range w {
			grad[i] = float64(c[i]) * w[i]
			norm += grad[i] * grad[i]
		}
		norm = math.Sqrt(norm)
		require.InDelta(t, norm, float64(tensors.ToScalar[float32](outs[0])), 1e-4*norm, "grad norm at step %d", step)
		scale := o.ClipNorm / math.Max(norm, o.ClipNorm)
		lr := o.LearningRate(step, total)
		require.InDelta(t, lr, tensors.ToScalar[float64](outs[1]), 1e-15)
		for i := range w {
			gi := grad[i] * scale
			m[i] = o.Beta1*m[i] + (1-o.Beta1)*gi
			s[i] = o.Beta2*s[i] + (1-o.Beta2)*gi*gi
			mHat := m[i] / (1 - math.Pow(o.Beta1, float64(step+1)))
			sHat := s[i] / (1 - math.Pow(o.Beta2, float64(step+1)))
			w[i] -= lr * (mHat/(math.Sqrt(sHat)+o.Epsilon) + o.WeightDecay*w[i])
		}
		got := tensors.MustCopyFlatData[float32](v.MustValue())
		for i := range w {
			require.InDelta(t, w[i], float64(got[i]), 1e-5, "w[%d] after step %d", i, step)
		}
	}
}

func prefParams(t testing.TB) spec.Params {
	p := spec.Defaults(spec.AMoPO)
	p.Dimensions = []string{"a", "b"}
	p.Seed = 3
	require.NoError(t, p.Validate())
	return p
}

// TestGradientAccumulationEqualsOneBigBatch: two micro-batches of 2 pairs accumulate to
// the same update as one batch of the same 4 pairs (the loss is a mean over pairs).
func TestGradientAccumulationEqualsOneBigBatch(t *testing.T) {
	be := toyBackend(t)
	p := prefParams(t)
	p.Policy, p.Weights = spec.Fixed, []float64{1, 2} // the noise differs between the two ways
	src := toySource{batches: 2, b: 2, k: 2, s: 8, seed: 5}
	b0, _ := src.Batch(0, 0)
	b1, _ := src.Batch(0, 1)
	big := concatBatches(t, b0, b1)
	opt := DefaultOptimizer(0.05)
	weightsAfter := func(accum int, batches ...*Batch) []float32 {
		ctx := toyContext(t, 7)
		st, err := NewStepper(be, ctx, toyModel, PreferenceStep, p, opt, 10, accum)
		require.NoError(t, err)
		for i, b := range batches {
			_, err := st.Run(b, tensors.FromScalarAndDimensions(float32(0), b.Tokens.Shape().Dimensions[0], 2, 2), i == len(batches)-1)
			require.NoError(t, err)
		}
		return tensors.MustCopyFlatData[float32](ctx.InspectVariable("/model/head/dense", "weights").MustValue())
	}
	one := weightsAfter(1, big)
	two := weightsAfter(2, b0, b1)
	require.InDeltaSlice(t, toF64(one), toF64(two), 1e-6)
}

func concatBatches(t testing.TB, a, b *Batch) *Batch {
	cat := func(x, y *tensors.Tensor) *tensors.Tensor {
		dims := append([]int{}, x.Shape().Dimensions...)
		dims[0] *= 2
		switch x.DType() {
		case dtypes.Int32:
			return tensors.FromFlatDataAndDimensions(append(tensors.MustCopyFlatData[int32](x), tensors.MustCopyFlatData[int32](y)...), dims...)
		default:
			return tensors.FromFlatDataAndDimensions(append(tensors.MustCopyFlatData[float32](x), tensors.MustCopyFlatData[float32](y)...), dims...)
		}
	}
	return &Batch{Tokens: cat(a.Tokens, b.Tokens), Response: cat(a.Response, b.Response),
		Attention: cat(a.Attention, b.Attention), Positions: cat(a.Positions, b.Positions), NumTokens: a.NumTokens + b.NumTokens}
}

func toF64(xs []float32) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// toyRun trains the toy model, SFT then AMoPO, writing to outDir. It is also what the
// child process of the crash test runs.
func toyRun(outDir string, resume bool, log *bytes.Buffer) error {
	// As Train does; registered in the child processes too, so that a run here and one
	// in a child compute the same gradients bit for bit whichever tests ran before.
	fastgrad.RegisterFastDotGrad()
	be, err := NewBackend("go")
	if err != nil {
		return err
	}
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(11); err != nil {
		return err
	}
	r := &Run{Backend: be, Ctx: ctx, Model: toyModel, OutDir: outDir, Seed: 11, Log: log,
		CheckpointEvery: 4, LogEvery: 1, Keep: 2, ConfigText: "toy"}
	defer r.Close()
	if os.Getenv("AMOPO_TEST_CATCH_INTERRUPT") != "" {
		stop := r.CatchInterrupt()
		defer stop()
	}
	if resume {
		if _, err := r.Resume(); err != nil {
			return err
		}
	}
	p := spec.Defaults(spec.AMoPO)
	p.Dimensions, p.Seed = []string{"a", "b"}, 11
	sft := Stage{Name: "sft", Kind: SFTStep, Train: toySource{batches: 3, b: 4, k: 1, s: 8, sft: true, seed: 1},
		Config: StageConfig{Steps: 6, BatchSize: 4, GradAccum: 1, Optimizer: DefaultOptimizer(0.05)}}
	pref := Stage{Name: "preference", Kind: PreferenceStep, Params: p,
		Train:  toySource{batches: 5, b: 2, k: 2, s: 8, seed: 2},
		Eval:   toySource{batches: 2, b: 2, k: 2, s: 8, seed: 3},
		Config: StageConfig{Steps: 14, BatchSize: 2, GradAccum: 2, Optimizer: DefaultOptimizer(0.02)}}
	for _, st := range []Stage{sft, pref} {
		if err := r.RunStage(st); err != nil {
			return err
		}
	}
	return nil
}

// losses reads the training losses of a metrics file, by "stage/step".
func losses(t *testing.T, path string) map[string]float64 {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	out := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var row map[string]any
		require.NoError(t, jsonUnmarshal(line, &row), line)
		if loss, ok := row["loss"].(float64); ok {
			out[fmt.Sprintf("%s/%v", row["stage"], row["step"])] = loss
		}
	}
	return out
}

func TestMain(m *testing.M) {
	if dir := os.Getenv("AMOPO_TEST_CHILD_RUN"); dir != "" {
		var log bytes.Buffer
		err := toyRun(dir, os.Getenv("AMOPO_TEST_CHILD_RESUME") != "", &log)
		os.Stdout.Write(log.Bytes())
		if errors.Is(err, ErrInterrupted) {
			fmt.Println(err)
			os.Exit(130)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestKillDuringCheckpointThenResumeIsBitExact kills a training process with SIGKILL in
// the middle of a checkpoint write in the middle of the preference stage, so that the
// resume needs the optimizer state (moments, step), the gradient accumulators and the data
// position of the checkpoint; the resumed run's losses and final weights must equal an
// uninterrupted run's, bit for bit.
func TestKillDuringCheckpointThenResumeIsBitExact(t *testing.T) {
	base := t.TempDir()
	var log bytes.Buffer
	straight := filepath.Join(base, "straight")
	require.NoError(t, toyRun(straight, false, &log))
	want := losses(t, filepath.Join(straight, "metrics.jsonl"))
	require.Len(t, want, 6+14)

	crashed := filepath.Join(base, "crashed")
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), "AMOPO_TEST_CHILD_RUN="+crashed, "AMOPO_TEST_CHECKPOINT_PAUSE=2s")
	var childOut bytes.Buffer
	child.Stdout, child.Stderr = &childOut, &childOut
	require.NoError(t, child.Start())
	// Wait until LATEST names the checkpoint at preference step 4 of 14 and the child is
	// inside the write of the next one (a .tmp- folder), then kill it.
	mid := checkpointName("preference", 4)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		require.True(t, time.Now().Before(deadline), "the child never reached its mid-preference checkpoint:\n%s", childOut.String())
		entries, _ := os.ReadDir(filepath.Join(crashed, "checkpoints"))
		latest, _ := os.ReadFile(filepath.Join(crashed, "checkpoints", "LATEST"))
		writing := false
		for _, e := range entries {
			writing = writing || strings.HasPrefix(e.Name(), ".tmp-")
		}
		if strings.TrimSpace(string(latest)) == mid && writing {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, child.Process.Kill())
	_ = child.Wait()
	latest, err := LatestCheckpoint(crashed)
	require.NoError(t, err)
	require.Equal(t, mid, filepath.Base(latest), "the checkpoint published before the crash is intact")

	resume := exec.Command(os.Args[0], "-test.run=^$")
	resume.Env = append(os.Environ(), "AMOPO_TEST_CHILD_RUN="+crashed, "AMOPO_TEST_CHILD_RESUME=1")
	out, err := resume.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "resuming from "+latest+" (preference step 4)")
	got := losses(t, filepath.Join(crashed, "metrics.jsonl"))
	require.Equal(t, want, got, "the resumed run logs the same losses as the uninterrupted one")
	entries, err := os.ReadDir(filepath.Join(crashed, "checkpoints"))
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, strings.HasPrefix(e.Name(), ".tmp-"), "stale temporary checkpoint %s was cleaned", e.Name())
	}
	// The final variables (model, optimizer moments and step) are the same bits.
	final := func(outDir string) map[string]*tensors.Tensor {
		dir, err := LatestCheckpoint(outDir)
		require.NoError(t, err)
		require.Equal(t, checkpointName("preference", 14), filepath.Base(dir))
		values, _, err := safetensors.ReadAll(filepath.Join(dir, variablesFile))
		require.NoError(t, err)
		return values
	}
	wantVars, gotVars := final(straight), final(crashed)
	require.Equal(t, len(wantVars), len(gotVars))
	for name, w := range wantVars {
		g, ok := gotVars[name]
		require.True(t, ok, name)
		require.Equal(t, tensorBytes(t, w), tensorBytes(t, g), "variable %s", name)
	}
}

func tensorBytes(t *testing.T, x *tensors.Tensor) []byte {
	var out []byte
	require.NoError(t, x.ConstBytes(func(b []byte) { out = append(out, b...) }))
	return out
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestResumeRefusesAnotherConfig(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	require.NoError(t, toyRun(dir, false, &log))
	be := toyBackend(t)
	r := &Run{Backend: be, Ctx: context.New(), Model: toyModel, OutDir: dir, Log: &log, ConfigText: "other"}
	_, err := r.Resume()
	require.ErrorContains(t, err, "written by another config")
}

// TestCtrlCSavesACheckpointAndResumes interrupts a training process with SIGINT: it must
// finish its step, save a checkpoint, say how to continue and exit; --resume then ends
// with the same losses as an uninterrupted run.
func TestCtrlCSavesACheckpointAndResumes(t *testing.T) {
	base := t.TempDir()
	var log bytes.Buffer
	straight := filepath.Join(base, "straight")
	require.NoError(t, toyRun(straight, false, &log))
	want := losses(t, filepath.Join(straight, "metrics.jsonl"))

	dir := filepath.Join(base, "interrupted")
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), "AMOPO_TEST_CHILD_RUN="+dir, "AMOPO_TEST_CATCH_INTERRUPT=1")
	var out bytes.Buffer
	child.Stdout, child.Stderr = &out, &out
	require.NoError(t, child.Start())
	deadline := time.Now().Add(90 * time.Second)
	for {
		require.True(t, time.Now().Before(deadline), "no preference step started:\n%s", out.String())
		if data, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl")); err == nil && strings.Contains(string(data), `"stage":"preference"`) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, child.Process.Signal(syscall.SIGINT))
	err := child.Wait()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr, out.String())
	require.Equal(t, 130, exitErr.ExitCode(), out.String())
	require.Contains(t, out.String(), "continue with --resume")
	latest, err := LatestCheckpoint(dir)
	require.NoError(t, err)
	require.Contains(t, latest, "preference", "the interrupt saved a preference-stage checkpoint")

	resume := exec.Command(os.Args[0], "-test.run=^$")
	resume.Env = append(os.Environ(), "AMOPO_TEST_CHILD_RUN="+dir, "AMOPO_TEST_CHILD_RESUME=1")
	got, err := resume.CombinedOutput()
	require.NoError(t, err, string(got))
	require.Equal(t, want, losses(t, filepath.Join(dir, "metrics.jsonl")))
}
