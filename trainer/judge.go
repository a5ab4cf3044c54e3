package trainer

import (
	"fmt"
	"io"
	"strings"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/data/task"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// JudgeScores are the mean program-judge scores (0-4) per dimension of greedy generations
// on the held-out prompts of the built-in task.
type JudgeScores map[string]float64

// judgeEval generates greedily for every held-out item under the general template and
// scores the answers with the task's judges.
func judgeEval(backend backends.Backend, ctx *context.Context, cfg *llm.Config, enc *data.Encoder,
	tok data.ByteTokenizer, items []task.Item, maxNew int) (JudgeScores, []string, error) {
	answers, err := Answers(backend, ctx, cfg, enc, tok, items, Sampling{MaxNewTokens: maxNew})
	if err != nil {
		return nil, nil, fmt.Errorf("judge eval: %w", err)
	}
	scores := JudgeScores{}
	for i, text := range answers {
		for dim, s := range task.Judge(items[i].Meta, text) {
			scores[dim] += s / float64(len(items))
		}
	}
	return scores, answers, nil
}

func decodeUntilEOS(tok data.ByteTokenizer, ids []int32) string {
	var out []int
	for _, id := range ids {
		if int(id) == tok.EOS() {
			break
		}
		if int(id) < 256 { // bytes only: BOS/pad ids decode to nothing
			out = append(out, int(id))
		}
	}
	return tok.Decode(out)
}

// printJudgeTable prints the scores of each evaluation point side by side.
func printJudgeTable(w io.Writer, dims []string, names []string, rows []JudgeScores) {
	fmt.Fprintf(w, "%-24s", "judge score (0-4)")
	for _, n := range names {
		fmt.Fprintf(w, " %12s", n)
	}
	fmt.Fprintln(w)
	for _, d := range dims {
		fmt.Fprintf(w, "%-24s", d)
		for _, r := range rows {
			fmt.Fprintf(w, " %12.3f", r[d])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, strings.Repeat("-", 24+13*len(names)))
}
