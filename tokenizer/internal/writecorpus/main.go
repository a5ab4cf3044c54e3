// Command writecorpus writes the tokenizer's benchmark corpus (the 10,000
// generated lines the oracle tests use) as JSON lines, for the JavaScript
// benchmark to read:
//
//	go run ./tokenizer/internal/writecorpus -out /tmp/corpus.jsonl
//	node tokenizer/testdata/js/bench.js qwen /tmp/corpus.jsonl
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/amopo-engine/amopo/tokenizer/internal/corpus"
)

func main() {
	out := flag.String("out", "", "file to write (JSON lines); required")
	lines := flag.Int("lines", corpus.Lines, "number of lines (the tests and benchmarks use the default)")
	flag.Parse()
	if err := run(*out, *lines, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "writecorpus:", err)
		os.Exit(1)
	}
}

func run(out string, lines int, args []string) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected argument %q (use -out FILE)", args[0])
	case out == "":
		return fmt.Errorf("-out FILE is required")
	case lines < 1:
		return fmt.Errorf("-lines %d: must be at least 1", lines)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := corpus.WriteJSONLines(f, corpus.Generate(lines)); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	return f.Close()
}
