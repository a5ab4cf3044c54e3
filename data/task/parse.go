package task

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// questionREs read each kind of question back from its text (NewItem's wording).
var questionREs = []struct {
	kind string
	re   *regexp.Regexp
}{
	{"add", regexp.MustCompile(`^add (\d+) and (\d+)\.$`)},
	{"max", regexp.MustCompile(`^which is largest: ([\d, ]+)\?$`)},
	{"count", regexp.MustCompile(`^how many letters are in ([a-z]+)\?$`)},
	{"sort", regexp.MustCompile(`^sort these words: ([a-z, ]+)\.$`)},
	{"reverse", regexp.MustCompile(`^reverse this list: ([a-z, ]+)\.$`)},
	{"reverse_word", regexp.MustCompile(`^spell ([a-z]+) backwards\.$`)},
}

// ParseItem reads a prompt of the task back into its item: the question, the format it
// asks for and the right answer, computed from the question. It is how answers files
// written by cmd/train (which carry the prompt and the reference, not the judges' metadata)
// are judged again. A reference that is not the item's reference is an error: the file
// and the task disagree.
func ParseItem(prompt, reference string) (Item, error) {
	var m Meta
	question, instruction := "", ""
	for _, text := range instructions {
		if q, ok := strings.CutSuffix(prompt, " "+text); ok {
			question, instruction = q, text
			break
		}
	}
	if question == "" {
		return Item{}, fmt.Errorf("prompt %q: no answer-format instruction of the built-in task at its end", prompt)
	}
	kind := ""
	var groups []string
	for _, q := range questionREs {
		if groups = q.re.FindStringSubmatch(question); groups != nil {
			kind = q.kind
			break
		}
	}
	if kind == "" {
		return Item{}, fmt.Errorf("prompt %q: not a question of the built-in task", prompt)
	}
	m.Kind = kind
	wantType := Number
	num := func(i int) int { v, _ := strconv.Atoi(groups[i]); return v }
	switch kind {
	case "add":
		m.Expected = []string{strconv.Itoa(num(1) + num(2))}
	case "max":
		best := -1
		for _, f := range strings.Split(groups[1], ", ") {
			v, err := strconv.Atoi(f)
			if err != nil {
				return Item{}, fmt.Errorf("prompt %q: %q is not a number", prompt, f)
			}
			best = max(best, v)
		}
		m.Expected = []string{strconv.Itoa(best)}
	case "count":
		m.Expected = []string{strconv.Itoa(len(groups[1]))}
	case "sort", "reverse":
		wantType = List
		m.Items = strings.Split(groups[1], ", ")
		m.Expected = append([]string(nil), m.Items...)
		if kind == "sort" {
			sort.Strings(m.Expected)
		} else {
			for i, j := 0, len(m.Expected)-1; i < j; i, j = i+1, j-1 {
				m.Expected[i], m.Expected[j] = m.Expected[j], m.Expected[i]
			}
		}
	case "reverse_word":
		wantType = Word
		m.Expected = []string{reverseString(groups[1])}
	}
	m.Type = wantType
	for _, f := range Formats(wantType) {
		if instructions[wantType+"/"+f] == instruction {
			m.Format = f
		}
	}
	if m.Format == "" {
		return Item{}, fmt.Errorf("prompt %q: %q is no answer format of a %s question", prompt, instruction, wantType)
	}
	it := Item{Prompt: prompt, Reference: Render(m.Type, m.Format, m.Expected), Meta: m}
	if reference != it.Reference {
		return Item{}, fmt.Errorf("prompt %q: reference %q, but the task's answer is %q", prompt, reference, it.Reference)
	}
	return it, nil
}
