package experiment

import (
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
		out[FloorFormat] = append(out[FloorFormat], task.Placeholder(it.Meta))
		out[FloorEcho] = append(out[FloorEcho], it.Prompt)
	}
	return out
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
