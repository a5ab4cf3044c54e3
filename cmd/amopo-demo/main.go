// Command amopo-demo trains a toy language model with the AMoPO loss on the pure-Go
// backend and prints, as training goes, the loss and the per-dimension weights (alpha),
// Gaussian parameters (mu, sigma) and reward margins that the paper's Figure 3 plots.
// At the end it checks the graph's loss against the float64 reference on the same
// log-probs. It is the project's main job until cmd/train lands.
//
//	go run ./cmd/amopo-demo [--steps 60] [--policy gaussian] [--loss amopo] [--seed 1]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/amopo/ref"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/wasm/toy"
	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "amopo-demo:", err)
		os.Exit(1)
	}
}

func run(args []string, w io.Writer) error {
	flags := flag.NewFlagSet("amopo-demo", flag.ContinueOnError)
	steps := flags.Int("steps", 60, "training steps")
	lossName := flags.String("loss", "amopo", "loss: "+names(spec.Losses()))
	policyName := flags.String("policy", "gaussian", "weight policy: "+names(spec.Policies()))
	seed := flags.Uint64("seed", 1, "seed of the data, the initialisation and the weight draws")
	every := flags.Int("every", 10, "print every N steps")
	metricsPath := flags.String("metrics", "", "write every step's metrics to this JSONL file")
	if err := flags.Parse(args); err != nil {
		return err
	}
	loss, err := spec.ParseLoss(*lossName)
	if err != nil {
		return err
	}
	if loss.NeedsReference() {
		return fmt.Errorf("loss %q needs a reference model; the demo trains reference-free losses only", loss)
	}
	p := spec.Defaults(loss)
	p.Dimensions = spec.DefaultDimensions()
	if p.Policy, err = spec.ParsePolicy(*policyName); err != nil {
		return err
	}
	if p.Policy == spec.Fixed {
		p.Weights = []float64{1, 1, 1, 1}
	}
	p.Seed = *seed
	if err := p.Validate(); err != nil {
		return err
	}

	data := toy.MakeData(rand.New(rand.NewPCG(*seed, 0)), 8, p.K())
	// ops_sequential: the parallel executor of GoMLX v0.26's pure-Go backend can deadlock
	// on training graphs (platform facts, trap 3).
	backend, err := backends.NewWithConfig("go:ops_sequential")
	if err != nil {
		return err
	}
	defer backend.Finalize()
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(int64(*seed)); err != nil {
		return err
	}
	optimizer := optimizers.Adam().LearningRate(0.02).Done()
	b, k, s := data.Batch, data.K, data.SeqLen
	params := p
	var metricNames []string // filled while the graph is built, in a fixed order
	step, err := context.NewExec(backend, ctx, func(ctx *context.Context, tok, resp, noise *Node) []*Node {
		flat := Reshape(tok, b*k*2, s)
		logits := toy.Model(ctx, data, flat)
		logps, mask := amopo.TokenLogProbs(logits, flat, Reshape(resp, b*k*2, s))
		out := amopo.New(amopo.Inputs{
			Logps: Reshape(logps, b, k, 2, s), Mask: Reshape(mask, b, k, 2, s), Noise: noise,
		}).Params(params).Done()
		optimizer.UpdateGraph(ctx, out.Loss.Graph(), out.Loss)
		nodes := []*Node{Reshape(logps, b, k, 2, s), Reshape(ConvertDType(mask, dtypes.Float32), b, k, 2, s)}
		metrics := out.Metrics()
		metricNames = metricNames[:0]
		for name := range metrics {
			metricNames = append(metricNames, name)
		}
		sort.Strings(metricNames)
		for _, name := range metricNames {
			nodes = append(nodes, ConvertDType(metrics[name], dtypes.Float64))
		}
		return nodes
	})
	if err != nil {
		return err
	}
	tokT, respT := data.TokensTensor(), data.ResponseTensor()
	var metricsOut *json.Encoder
	if *metricsPath != "" {
		f, err := os.Create(*metricsPath)
		if err != nil {
			return err
		}
		defer f.Close()
		metricsOut = json.NewEncoder(f)
	}

	fmt.Fprintf(w, "AMoPO demo: loss %s, policy %s, beta %.2f, gamma %.2f, K = %d %v, pure-Go backend\n",
		p.Loss, p.Policy, p.Beta, p.Gamma, k, p.Dimensions)
	names, header := fmt.Sprintf("%14s", ""), fmt.Sprintf("%5s %8s", "step", "loss")
	for _, d := range p.Dimensions {
		names += fmt.Sprintf(" | %-25.25s", d)
		header += fmt.Sprintf(" | %5s %5s %5s %7s", "alpha", "mu", "sigma", "margin")
	}
	fmt.Fprintln(w, names)
	fmt.Fprintln(w, header)
	start := time.Now()
	var lastLogps, lastMask *tensors.Tensor
	var first, last float64
	for i := 0; i < *steps; i++ {
		noise := amopo.NoiseTensor(p.Seed, uint64(i), b, k)
		outs, err := step.Exec(tokT, respT, noise)
		if err != nil {
			return err
		}
		m := map[string]any{"step": i}
		for j, name := range metricNames {
			m[name] = tensors.ToScalar[float64](outs[2+j])
		}
		last = m["loss"].(float64)
		if i == 0 {
			first = last
		}
		if metricsOut != nil {
			if err := metricsOut.Encode(m); err != nil {
				return err
			}
		}
		if i%*every == 0 || i == *steps-1 {
			line := fmt.Sprintf("%5d %8.4f", i, last)
			for _, d := range p.Dimensions {
				line += fmt.Sprintf(" | %5.3f %5.3f %5.3f %7.3f", m["weights/"+d+"_alpha"], m["weights/"+d+"_mu"],
					m["weights/"+d+"_sigma"], m["rewards/"+d+"_margins"])
			}
			fmt.Fprintln(w, line)
		}
		if i == *steps-1 {
			lastLogps, lastMask = outs[0], outs[1]
			p.Step = uint64(i)
		}
	}
	fmt.Fprintf(w, "loss %.4f -> %.4f in %d steps (%.1fs)\n", first, last, *steps, time.Since(start).Seconds())
	if *metricsPath != "" {
		fmt.Fprintf(w, "metrics (JSONL, TRL names): %s\n", *metricsPath)
	}

	// Check the last step's loss against the float64 reference on the same log-probs
	// (before the update the step made).
	batch := unpack(tensors.MustCopyFlatData[float32](lastLogps), tensors.MustCopyFlatData[float32](lastMask), b, k, s)
	want, err := ref.Compute(&p, batch)
	if err != nil {
		return err
	}
	rel := math.Abs(last-want.Loss) / math.Max(math.Abs(want.Loss), 1e-12)
	fmt.Fprintf(w, "float64 reference on the last step's log-probs: %.6f (graph %.6f, relative difference %.1e)\n",
		want.Loss, last, rel)
	if rel > 1e-4 {
		return fmt.Errorf("the graph's loss differs from the float64 reference by %.1e", rel)
	}
	return nil
}

// unpack turns [B, K, 2, S] log-probs and masks into reference pairs.
func unpack(logps, mask []float32, b, k, s int) []spec.Pair {
	out := make([]spec.Pair, b)
	for i := range out {
		out[i].Chosen, out[i].Rejected = make([][]float64, k), make([][]float64, k)
		for d := 0; d < k; d++ {
			for side, dst := range []*[]float64{&out[i].Chosen[d], &out[i].Rejected[d]} {
				base := ((i*k+d)*2 + side) * s
				for t := 0; t < s; t++ {
					if mask[base+t] > 0 {
						*dst = append(*dst, float64(logps[base+t]))
					}
				}
			}
		}
	}
	return out
}

func names[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
