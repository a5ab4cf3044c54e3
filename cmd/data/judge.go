package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/data/task"
)

// answerLine is one line of an answers file as cmd/train writes it (answers-<point>.jsonl);
// other fields (input, scores) are ignored: the scores are computed again.
type answerLine struct {
	Prompt    *string `json:"prompt"`
	Reference *string `json:"reference"`
	Answer    *string `json:"answer"`
}

// judgeSummary is what judge prints: the number of answers and the mean score per dimension.
type judgeSummary struct {
	N    int                `json:"n"`
	Mean map[string]float64 `json:"mean"`
}

// judge re-scores answers files with the built-in task's judges and prints one JSON
// object on stdout: {"n": N, "mean": {DIMENSION: SCORE, ...}} over all the files' lines.
// A line that is no JSON object, lacks prompt, reference or answer, or whose prompt is not
// a question of the task (or whose reference is not its answer) is an error naming the
// file, line and field: status 1, nothing on stdout.
func judge(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("judge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintf(stderr, "data judge: no answers file given\n%s", usage)
		return 2
	}
	sum := judgeSummary{Mean: map[string]float64{}}
	for _, path := range fs.Args() {
		if err := judgeFile(path, &sum); err != nil {
			fmt.Fprintln(stderr, "data judge:", err)
			return 1
		}
	}
	if sum.N == 0 {
		fmt.Fprintln(stderr, "data judge: no answers in", fs.Args())
		return 1
	}
	for d := range sum.Mean {
		sum.Mean[d] /= float64(sum.N)
	}
	b, err := json.Marshal(sum)
	if err != nil {
		fmt.Fprintln(stderr, "data judge:", err)
		return 2
	}
	fmt.Fprintln(stdout, string(b))
	return 0
}

// judgeFile adds one file's scores to sum (as sums: judge divides at the end).
func judgeFile(path string, sum *judgeSummary) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return data.ForEachLine(f, path, func(line []byte, num int) error {
		var a answerLine
		if err := json.Unmarshal(line, &a); err != nil {
			return fmt.Errorf("%s:%d: json: %v", path, num, err)
		}
		for _, field := range []struct {
			name string
			v    *string
		}{{"prompt", a.Prompt}, {"reference", a.Reference}, {"answer", a.Answer}} {
			if field.v == nil {
				return fmt.Errorf("%s:%d: %s: missing (an answers line needs prompt, reference and answer)", path, num, field.name)
			}
		}
		it, err := task.ParseItem(*a.Prompt, *a.Reference)
		if err != nil {
			return fmt.Errorf("%s:%d: prompt: %v", path, num, err)
		}
		for d, s := range task.Judge(it.Meta, *a.Answer) {
			sum.Mean[d] += s
		}
		sum.N++
		return nil
	})
}
