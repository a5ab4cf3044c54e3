// Command memstep runs one AMoPO training step of the Qwen2.5-0.5B shape (random weights)
// and reports the process's peak resident memory, to check that a step fits a machine.
//
// # What it runs
//
// The trainer's own preference step (trainer.Stepper: model, log-probs, AMoPO loss,
// gradients, AdamW update) on one pair of K = 4 dimensions (8 sequences) of -seq tokens,
// float32, on the pure-Go backend (go:ops_sequential) unless -backend says otherwise.
// -layers keeps fewer decoder layers than the real 24, with the full vocabulary and
// sequence, to measure the per-layer memory when a whole step takes too long; -vocab
// shrinks the vocabulary, which leaves the per-layer memory as it is and the step short.
// -logits chunked is what cmd/train does (the log-probs from the hidden states chunk by
// chunk, trainer.HeadLogits); -logits whole gives the model's [N, S, V] logits to
// amopo.TokenLogProbs, the path before it. -micro M splits the step by sequences
// (trainer.Stepper.SplitSequences, the stage key micro_sequences): the log-probs of the 8
// sequences forward only, then the gradient M sequences at a time; 0 runs the 8 at once.
//
// # What it prints
//
// VmHWM (peak resident set, from /proc/self/status) after the weights are initialised and
// after the step, and the step's time and loss. Linux only (it reads /proc).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/engine/backend"
	"github.com/amopo-engine/amopo/gomlx/fastgrad"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/amopo-engine/amopo/trainer"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"
)

func main() {
	layers := flag.Int("layers", 24, "decoder layers (Qwen2.5-0.5B has 24)")
	seq := flag.Int("seq", 512, "tokens per sequence")
	k := flag.Int("k", 4, "dimensions K: a pair is 2*K sequences")
	logits := flag.String("logits", "chunked", "chunked (trainer.HeadLogits, as cmd/train) or whole (the [N, S, V] logits to TokenLogProbs)")
	backendName := flag.String("backend", "go", "backend, as cmd/train's --backend")
	vocab := flag.Int("vocab", 151936, "vocabulary size (a small one isolates the per-layer memory)")
	micro := flag.Int("micro", 0, "sequences whose gradient is computed at once, as preference.micro_sequences (0: all 2*K)")
	flag.Parse()
	if err := run(*layers, *seq, *k, *vocab, *micro, *logits, *backendName); err != nil {
		fmt.Fprintln(os.Stderr, "memstep:", err)
		os.Exit(1)
	}
}

func run(layers, seq, k, vocab, micro int, logits, backendName string) error {
	if logits != "chunked" && logits != "whole" {
		return fmt.Errorf("-logits: want chunked or whole, got %q", logits)
	}
	if layers < 1 || seq < 2 || k < 1 || vocab < 2 {
		return fmt.Errorf("-layers %d, -seq %d, -k %d, -vocab %d: need at least 1 layer, 2 tokens, 1 dimension, 2 ids", layers, seq, k, vocab)
	}
	if micro < 0 {
		return fmt.Errorf("-micro %d: must be >= 0 (0: all %d sequences at once)", micro, 2*k)
	}
	fastgrad.RegisterFastDotGrad() // as cmd/train: GoMLX's own matmul gradient is far larger
	be, err := backend.New(backendName)
	if err != nil {
		return err
	}
	cfg := llm.Qwen25_05B()
	cfg.NumLayers, cfg.VocabSize = layers, vocab
	ctx := context.New()
	if err := llm.InitRandom(ctx.In("model"), cfg, 1, dtypes.Float32); err != nil {
		return err
	}
	model := func(ctx *context.Context, tokens, attention, positions *Node) *Node {
		if logits == "whole" {
			return llm.Forward(ctx, cfg, tokens, attention, positions)
		}
		return trainer.LMModel(cfg)(ctx, tokens, attention, positions)
	}
	p := spec.Defaults(spec.AMoPO)
	p.Dimensions = p.Dimensions[:0]
	for i := range k {
		p.Dimensions = append(p.Dimensions, fmt.Sprintf("d%d", i))
	}
	st, err := trainer.NewStepper(be, ctx, model, trainer.PreferenceStep, p, trainer.DefaultOptimizer(1e-5), 1, 1)
	if err != nil {
		return err
	}
	split := "whole"
	if micro > 0 {
		if err := st.SplitSequences(micro); err != nil {
			return err
		}
		split = fmt.Sprintf("split into groups of %d sequences", micro)
	}
	batch := trainer.RandomPreferenceBatch(cfg.VocabSize, 1, k, seq)
	initHWM, err := peakRSS()
	if err != nil {
		return err
	}
	fmt.Printf("model: Qwen2.5-0.5B shape, %d layers, vocab %d, %.1fM parameters, float32; backend %s\n",
		layers, cfg.VocabSize, float64(cfg.NumParams())/1e6, be.Name())
	fmt.Printf("step: 1 pair, K = %d (%d sequences of %d tokens), logits %s, %s\n", k, 2*k, seq, logits, split)
	fmt.Printf("peak RSS after init: %.2f GB\n", float64(initHWM)/1e9)
	start := time.Now()
	m, err := st.Run(batch, amopo.NoiseTensor(1, 0, 1, k), true)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	hwm, err := peakRSS()
	if err != nil {
		return err
	}
	fmt.Printf("step: %.1f s (compile + run), loss %.4f\n", elapsed.Seconds(), m["loss"])
	fmt.Printf("peak RSS: %.2f GB\n", float64(hwm)/1e9)
	return nil
}

// peakRSS is VmHWM, the peak resident set of this process, in bytes.
func peakRSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("reading the peak RSS: %w (Linux only)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
				return 0, fmt.Errorf("/proc/self/status: VmHWM %q: %w", rest, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("/proc/self/status: no VmHWM line")
}
