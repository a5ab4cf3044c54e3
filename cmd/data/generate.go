package main

import (
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/data/task"
)

func generate(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("data generate", flag.ContinueOnError)
	flags.SetOutput(stderr)
	out := flags.String("out", "", "output directory (created if missing)")
	seed := flags.Uint64("seed", 1, "random seed: the same seed gives the same files")
	train := flags.Int("train", 5000, "training pairs")
	eval := flags.Int("eval", 200, "held-out prompts (each with one evaluation pair)")
	gz := flags.Bool("gzip", false, "write .jsonl.gz instead of .jsonl")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "data generate: %v\n", err)
		return 2
	}
	if *out == "" {
		return fail(fmt.Errorf("--out: no output directory"))
	}
	if flags.NArg() > 0 {
		return fail(fmt.Errorf("unexpected arguments %q", flags.Args()))
	}
	ds, err := task.Generate(task.Config{Seed: *seed, Train: *train, Eval: *eval})
	if err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fail(fmt.Errorf("creating the output directory: %w", err))
	}
	ext := ".jsonl"
	if *gz {
		ext += ".gz"
	}
	writePairs := func(pairs []data.Pair) func(io.Writer) error {
		return func(w io.Writer) error {
			for _, p := range pairs {
				if err := data.WriteAMoPO(w, p, task.Dimensions()); err != nil {
					return err
				}
			}
			return nil
		}
	}
	files := []struct {
		name  string
		n     int
		write func(io.Writer) error
	}{
		{"train", len(ds.Train), writePairs(ds.Train)},
		{"eval", len(ds.EvalPairs), writePairs(ds.EvalPairs)},
		{"eval_prompts", len(ds.Eval), func(w io.Writer) error {
			for _, it := range ds.Eval {
				if err := task.WriteItem(w, it); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for _, f := range files {
		path := filepath.Join(*out, f.name+ext)
		if err := writeFile(path, *gz, f.write); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "wrote %s (%d lines)\n", path, f.n)
	}
	for _, d := range task.Dimensions() {
		fmt.Fprintf(stdout, "  %s: %d training pairs tied, %d where the chosen response scores lower\n",
			d, ds.Stats.TiedPairs[d], ds.Stats.Conflicts[d])
	}
	return 0
}

// writeFile writes through write into path, gzip-compressed when gz is set.
func writeFile(path string, gz bool, write func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing %s: %w", path, cerr)
		}
	}()
	var w io.Writer = f
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(f)
		w = zw
	}
	if err := write(w); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return nil
}
