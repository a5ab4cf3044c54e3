package recipe

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/data/task"
)

// JudgeScores are the mean program-judge scores (0-4) per dimension of greedy generations
// on the held-out prompts of the built-in task.
type JudgeScores map[string]float64

// JudgeAnswers scores answers to the held-out items with the task's judges: the mean
// per dimension and each item's scores.
func JudgeAnswers(items []task.Item, answers []string) (JudgeScores, []data.Scores) {
	scores := JudgeScores{}
	per := make([]data.Scores, len(answers))
	for i, text := range answers {
		per[i] = task.Judge(items[i].Meta, text)
		for dim, s := range per[i] {
			scores[dim] += s / float64(len(items))
		}
	}
	return scores, per
}

// PairedChange is the mean per-item change of a dimension's score from before to after,
// with its standard error (paired: the same prompts judged twice).
func PairedChange(before, after []data.Scores, dim string) (mean, stderr float64) {
	n := float64(len(before))
	if len(before) != len(after) || n < 2 {
		return math.NaN(), math.NaN()
	}
	var sum, sq float64
	for i := range before {
		d := after[i][dim] - before[i][dim]
		sum += d
		sq += d * d
	}
	mean = sum / n
	variance := (sq - n*mean*mean) / (n - 1)
	return mean, math.Sqrt(max(variance, 0) / n)
}

// printJudgeTable prints the scores of each evaluation point side by side and, given the
// per-item scores of the first and last, the change between them ± 2 standard errors
// (paired by prompt): a change whose interval excludes 0 is marked.
func printJudgeTable(w io.Writer, dims []string, names []string, rows []JudgeScores, first, last []data.Scores) {
	fmt.Fprintf(w, "%-24s", "judge score (0-4)")
	for _, n := range names {
		fmt.Fprintf(w, " %12s", n)
	}
	change := len(names) > 1 && first != nil && last != nil
	if change {
		fmt.Fprintf(w, "  %s", "change ± 2 s.e. (paired)")
	}
	fmt.Fprintln(w)
	for _, d := range dims {
		fmt.Fprintf(w, "%-24s", d)
		for _, r := range rows {
			fmt.Fprintf(w, " %12.3f", r[d])
		}
		if change {
			m, se := PairedChange(first, last, d)
			mark := ""
			switch {
			case m-2*se > 0:
				mark = " up"
			case m+2*se < 0:
				mark = " down"
			}
			fmt.Fprintf(w, "  %+.3f ± %.3f%s", m, 2*se, mark)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, strings.Repeat("-", 24+13*len(names)))
}

// judgeDimensions are the dimensions the built-in task's judges score.
func judgeDimensions() []string { return task.Dimensions() }
