// Command data checks preference data files and writes the built-in task's data.
//
//	go run ./cmd/data validate --format helpsteer2|helpsteer2-preference|amopo|jsonl [--map ...] FILE...
//	go run ./cmd/data generate --out DIR [--seed N --train N --eval N --gzip --overwrite]
//	go run ./cmd/data judge ANSWERS.jsonl...
//
// validate reads every file, prints one "FILE:LINE: FIELD: reason" line per bad row, then
// the counts: rows read, bad rows, pairs built per dimension, ties dropped, and the bad
// rows a JSON reader would pass silently (duplicate keys, invalid UTF-8, chosen and
// rejected responses that are identical) and empty files. It exits with status 1 when
// a row is bad or a file empty, 2 on a usage or I/O error, 0 otherwise.
//
// generate writes the built-in verifiable task (package data/task) in DIR: train.jsonl
// and eval.jsonl (preference pairs in the AMoPO record format) and eval_prompts.jsonl
// (held-out prompts with the metadata the judges need: {"prompt", "reference", "meta"}),
// each as .jsonl.gz with --gzip. A data set already in DIR is replaced only with
// --overwrite; sizes are bounded (--train 1,000,000, --eval 100,000) and checked, like
// DIR, before anything is generated.
//
// judge re-scores answers to the built-in task's prompts with its judges: JSON lines (plain
// or gzip) with at least "prompt", "reference" and "answer", as cmd/train writes them in
// out_dir/answers-<point>.jsonl, so any model's answers can be judged. It prints one JSON
// object, {"n": N, "mean": {DIMENSION: SCORE, ...}} (scores 0-4), and exits with status 1
// on a bad line (file:line: field: reason), 2 on a usage error.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage:
  data validate --format helpsteer2|helpsteer2-preference|amopo|jsonl [--map M] [--dimensions D,...] [--split S] FILE...
  data generate --out DIR [--seed N] [--train N] [--eval N] [--gzip] [--overwrite]
  data judge ANSWERS.jsonl...
`

// run is main without the process: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "validate":
		return validate(args[1:], stdout, stderr)
	case "generate":
		return generate(args[1:], stdout, stderr)
	case "judge":
		return judge(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "data: unknown command %q\n%s", args[0], usage)
	return 2
}
