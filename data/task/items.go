package task

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/amopo-engine/amopo/data"
)

// Templates are the task's K = 4 templates, in the order of the default dimensions
// (general, helpfulness, correctness, instruction_following). As the paper's, each
// dimension template is a whole instruction that names its dimension, says what the
// dimension asks for, and gives the target score (the chosen response's), so the K
// prompts of a pair differ in substance, not in a tag. They are shorter than the authors'
// (data.DefaultTemplates), which would triple these sequences for a byte-level model. The
// general template is the plain prompt: it is what SFT trains on and what the held-out
// prompts are answered under.
func Templates() data.Templates {
	return data.Templates{
		{Name: "general", Template: "{prompt}"},
		{Name: Helpfulness, Template: "give an answer of helpfulness {score} of 4 (direct, complete, no padding): {prompt}"},
		{Name: Correctness, Template: "give an answer of correctness {score} of 4 (the right value): {prompt}"},
		{Name: InstructionFollowing, Template: "give an answer of instruction following {score} of 4 (exactly the asked format): {prompt}"},
	}
}

// WriteItem writes a held-out item as one JSON line: {"prompt", "reference", "meta"}.
func WriteItem(w io.Writer, it Item) error {
	b, err := json.Marshal(it)
	if err != nil {
		return fmt.Errorf("encoding item: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing item: %w", err)
	}
	return nil
}

// ReadItems reads a file of held-out items (plain or gzip JSON lines).
func ReadItems(path string) ([]Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening items: %w", err)
	}
	defer f.Close()
	var items []Item
	err = data.ForEachLine(f, path, func(line []byte, num int) error {
		var it Item
		if err := json.Unmarshal(line, &it); err != nil {
			return fmt.Errorf("%s:%d: json: %v", path, num, err)
		}
		if it.Prompt == "" || it.Meta.Type == "" || len(it.Meta.Expected) == 0 {
			return fmt.Errorf("%s:%d: meta: an item needs a prompt, a meta.type and meta.expected", path, num)
		}
		items = append(items, it)
		return nil
	})
	return items, err
}
