package task

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/amopo-engine/amopo/data"
)

// Templates are compact K = 4 templates for the task, in the order of the default
// dimensions (general, helpfulness, correctness, instruction_following): the authors'
// long templates would triple the length of these short sequences for a tiny model.
func Templates() data.Templates {
	return data.Templates{
		{Name: "general", Template: "{prompt}"},
		{Name: Helpfulness, Template: "[{dimension}: {score}] {prompt}"},
		{Name: Correctness, Template: "[{dimension}: {score}] {prompt}"},
		{Name: InstructionFollowing, Template: "[{dimension}: {score}] {prompt}"},
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
