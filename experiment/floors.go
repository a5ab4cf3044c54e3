package experiment

import (
	"strings"

	"github.com/amopo-engine/amopo/data/task"
	"github.com/amopo-engine/amopo/trainer/recipe"
)

// Floor rows: answers that need no model, scored by the task's current judges beside the
// methods, to show how much of a score the judges give for form alone (docs: issue 15).
const (
	FloorFormat = "floor: format only" // a placeholder in the requested format
	FloorEcho   = "floor: echo"        // the prompt itself
)

// FloorNames lists the floor rows in report order.
func FloorNames() []string { return []string{FloorFormat, FloorEcho} }

// FloorAnswers returns each floor's answers to items.
func FloorAnswers(items []task.Item) map[string][]string {
	out := map[string][]string{}
	for _, it := range items {
		out[FloorFormat] = append(out[FloorFormat], formatOnly(it.Meta))
		out[FloorEcho] = append(out[FloorEcho], it.Prompt)
	}
	return out
}

// formatOnly is a constant placeholder ("0" for numbers, "x" for words and for each list
// item) written in the format the question asks for.
func formatOnly(m task.Meta) string {
	values := []string{"x"}
	switch m.Type {
	case task.Number:
		values = []string{"0"}
	case task.List:
		values = strings.Split(strings.Repeat("x ", max(len(m.Items), 1)), " ")[:max(len(m.Items), 1)]
	}
	return task.Render(m.Type, m.Format, values)
}

// evalAnswers judges answers to items.
func evalAnswers(items []task.Item, answers []string) Eval {
	mean, per := recipe.JudgeAnswers(items, answers)
	ev := Eval{Answers: answers, Scores: per, Mean: map[string]float64{}}
	for _, d := range task.Dimensions() {
		ev.Mean[d] = mean[d]
	}
	for _, s := range per {
		for _, d := range task.Dimensions() {
			ev.Mean[Total] += s[d] / float64(len(items))
		}
	}
	return ev
}
