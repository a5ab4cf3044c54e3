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
	overwrite := flags.Bool("overwrite", false, "replace a data set already in --out")
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
	// Everything that can be checked is checked before generating, which holds the
	// whole data set in memory and takes minutes for large sizes.
	if err := checkSize("--train", *train, maxTrain); err != nil {
		return fail(err)
	}
	if err := checkSize("--eval", *eval, maxEval); err != nil {
		return fail(err)
	}
	ext := ".jsonl"
	if *gz {
		ext += ".gz"
	}
	old, err := prepareOut(*out, *overwrite)
	if err != nil {
		return fail(err)
	}
	ds, err := task.Generate(task.Config{Seed: *seed, Train: *train, Eval: *eval})
	if err != nil {
		return fail(err)
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
	written := map[string]bool{}
	for _, f := range files {
		path := filepath.Join(*out, f.name+ext)
		if err := writeFile(path, *gz, f.write); err != nil {
			return fail(err)
		}
		written[path] = true
		fmt.Fprintf(stdout, "wrote %s (%d lines)\n", path, f.n)
	}
	for _, path := range old {
		if written[path] {
			continue
		}
		if err := os.Remove(path); err != nil {
			return fail(fmt.Errorf("--overwrite: removing the old data set's %s: %w", path, err))
		}
		fmt.Fprintf(stdout, "removed %s (old data set)\n", path)
	}
	for _, d := range task.Dimensions() {
		fmt.Fprintf(stdout, "  %s: %d training pairs tied, %d where the chosen response scores lower\n",
			d, ds.Stats.TiedPairs[d], ds.Stats.Conflicts[d])
	}
	return 0
}

// The largest sizes generate accepts. The data set is built in memory first: 200,000
// training pairs took 330 MB and 13 s (x86-64, 2 cores), so a million is minutes and
// gigabytes, and a typo such as 2000000000 would exhaust memory before writing anything.
const (
	maxTrain = 1_000_000
	maxEval  = 100_000
)

func checkSize(flag string, n, limit int) error {
	if n < 0 || n > limit {
		return fmt.Errorf("%s %d: must be between 0 and %d", flag, n, limit)
	}
	return nil
}

// dataSetFiles are the names generate writes, in both compressions.
var dataSetFiles = []string{"train.jsonl", "eval.jsonl", "eval_prompts.jsonl",
	"train.jsonl.gz", "eval.jsonl.gz", "eval_prompts.jsonl.gz"}

// prepareOut creates out and returns the files of a data set already there, which
// it refuses to replace unless overwrite is set. The new files replace those of the
// same compression by rename; the others are removed once the new set is written,
// so the directory never mixes two data sets, and a failed run leaves the old one.
func prepareOut(out string, overwrite bool) ([]string, error) {
	if fi, err := os.Stat(out); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("--out %s: exists and is not a directory", out)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("--out: creating the output directory: %w", err)
	}
	var old []string
	for _, name := range dataSetFiles {
		path := filepath.Join(out, name)
		if _, err := os.Lstat(path); err != nil {
			continue
		}
		if !overwrite {
			return nil, fmt.Errorf("--out %s: a data set is already there (%s); pass --overwrite to replace it", out, name)
		}
		old = append(old, path)
	}
	return old, nil
}

// writeFile writes through write into path, gzip-compressed when gz is set. It writes
// a temporary file and renames it, so an interrupted run leaves no truncated file.
func writeFile(path string, gz bool, write func(io.Writer) error) (err error) {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("creating %s: %w", tmp, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing %s: %w", tmp, cerr)
		}
		if err == nil {
			err = os.Rename(tmp, path)
		} else {
			os.Remove(tmp)
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
