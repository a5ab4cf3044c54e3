// Package task is a built-in, verifiable multi-objective preference task: short
// number, list and word questions with an explicit answer-format instruction, and
// pure-function judges that score a response 0..4 on correctness, instruction following
// and helpfulness.
//
// # Judges that measure substance
//
// Every dimension first asks for one answer to this question, stated once (the gate of
// Judge): placeholders in the requested format, echoes of the prompt, hedges that list
// several candidates, repeated and empty answers score 0 on all three, and the reference
// answer 4 on all three (tests hold both over thousands of drawn questions). Past the gate
// the dimensions have rules of their own and disagree, which is what a multi-objective
// method needs to be tested on: "42" for "answer in the form ANSWER: x" is correct but
// ignores the format, "ANSWER: 41" obeys the format and is direct but wrong.
//
// # Learnable on a CPU
//
// Texts are short lowercase ASCII (responses of about 2 to 40 characters), and the
// questions (single-digit sums and maxima, counting letters, sorting, reversing lists and
// words) are ones a 0.8M-parameter model with the byte-level tokenizer learns in a few
// minutes of SFT on two cores. ParseItem reads a prompt back, so answers files can be
// judged again (cmd/data judge).
package task

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// The answer types.
const (
	Number = "number"
	Word   = "word"
	List   = "list"
)

// The answer formats a prompt can ask for.
const (
	Bare       = "bare"        // number or word: "42", "tac"
	Tagged     = "tagged"      // number or word: "ANSWER: 42"
	Upper      = "upper"       // word: "TAC"
	CSVUpper   = "csv_upper"   // list: "ANT,CAT,DOG"
	SpaceLower = "space_lower" // list: "ant cat dog"
)

// Meta is what the judges need to know about a prompt. It is written next to each
// held-out prompt, so that evaluation can score a model's answers with the same judges.
type Meta struct {
	Kind   string `json:"kind"`
	Type   string `json:"type"`
	Format string `json:"format"`
	// Expected is the right answer: one element for a number or a word, the items in
	// order for a list.
	Expected []string `json:"expected"`
	// Items are the words a list question gives (list questions only).
	Items []string `json:"items,omitempty"`
}

// Item is one question: the prompt, its metadata and a reference (ideal) response.
type Item struct {
	Prompt    string `json:"prompt"`
	Reference string `json:"reference"`
	Meta      Meta   `json:"meta"`
}

var (
	animals = []string{"ant", "bat", "bee", "cat", "cow", "dog", "eel", "elk", "emu", "fox", "hen", "owl", "pig", "ram", "rat", "yak"}
	words   = []string{"cake", "lamp", "frog", "moon", "star", "tree", "bird", "fish", "milk", "rain", "snow", "wind", "gold", "salt", "rock", "leaf", "desk", "ship", "wolf", "corn"}
	// kinds is the mix of question kinds: each is equally likely. Each is within what the
	// tiny model learns in the SFT budget of a CPU run: single-digit sums and maxima,
	// counting, and moving items or letters around (two-digit arithmetic is not: a 0.8M
	// model answered it at chance after 1,500 SFT steps).
	kinds = []string{"add", "max", "count", "sort", "reverse", "reverse_word"}
)

var instructions = map[string]string{
	Number + "/" + Bare:     "answer with just the number.",
	Number + "/" + Tagged:   "answer in the form ANSWER: x.",
	Word + "/" + Bare:       "answer with just the word.",
	Word + "/" + Tagged:     "answer in the form ANSWER: x.",
	Word + "/" + Upper:      "answer with just the word in uppercase.",
	List + "/" + CSVUpper:   "give them as a comma-separated list in uppercase.",
	List + "/" + SpaceLower: "give them separated by spaces in lowercase.",
}

// Formats returns the formats an answer type can be asked in.
func Formats(answerType string) []string {
	switch answerType {
	case Number:
		return []string{Bare, Tagged}
	case Word:
		return []string{Bare, Tagged, Upper}
	case List:
		return []string{CSVUpper, SpaceLower}
	}
	return nil
}

// NewItem draws one question.
func NewItem(rng *rand.Rand) Item {
	kind := kinds[rng.IntN(len(kinds))]
	var q string
	m := Meta{Kind: kind, Type: Number}
	switch kind {
	case "add":
		a, b := rng.IntN(10), rng.IntN(10)
		q, m.Expected = fmt.Sprintf("add %d and %d.", a, b), []string{strconv.Itoa(a + b)}
	case "max":
		n := 3 + rng.IntN(2)
		nums := make([]string, n)
		best := -1
		for i := range nums {
			v := rng.IntN(10)
			nums[i], best = strconv.Itoa(v), max(best, v)
		}
		q, m.Expected = fmt.Sprintf("which is largest: %s?", strings.Join(nums, ", ")), []string{strconv.Itoa(best)}
	case "count":
		w := words[rng.IntN(len(words))] + words[rng.IntN(len(words))][:rng.IntN(3)]
		q, m.Expected = fmt.Sprintf("how many letters are in %s?", w), []string{strconv.Itoa(len(w))}
	case "sort", "reverse":
		m.Type = List
		n := 3 + rng.IntN(2)
		perm := rng.Perm(len(animals))[:n]
		for _, i := range perm {
			m.Items = append(m.Items, animals[i])
		}
		m.Expected = append([]string(nil), m.Items...)
		if kind == "sort" {
			sort.Strings(m.Expected)
			q = fmt.Sprintf("sort these words: %s.", strings.Join(m.Items, ", "))
		} else {
			for i, j := 0, len(m.Expected)-1; i < j; i, j = i+1, j-1 {
				m.Expected[i], m.Expected[j] = m.Expected[j], m.Expected[i]
			}
			q = fmt.Sprintf("reverse this list: %s.", strings.Join(m.Items, ", "))
		}
	case "reverse_word":
		m.Type = Word
		w := append(words, animals...)[rng.IntN(len(words)+len(animals))]
		q, m.Expected = fmt.Sprintf("spell %s backwards.", w), []string{reverseString(w)}
	}
	formats := Formats(m.Type)
	m.Format = formats[rng.IntN(len(formats))]
	prompt := q + " " + instructions[m.Type+"/"+m.Format]
	return Item{Prompt: prompt, Reference: Render(m.Type, m.Format, m.Expected), Meta: m}
}

// Render writes an answer in a format: the ideal response when values are the expected ones.
func Render(answerType, format string, values []string) string {
	switch format {
	case Tagged:
		return "ANSWER: " + strings.Join(values, " ")
	case Upper:
		return strings.ToUpper(strings.Join(values, " "))
	case CSVUpper:
		return strings.ToUpper(strings.Join(values, ","))
	case SpaceLower:
		return strings.ToLower(strings.Join(values, " "))
	}
	return strings.Join(values, " ")
}

// Placeholder is a constant answer in the format the question asks for ("0" for numbers,
// "x" for words and for each list item): form without content, which the judges' gate
// must score 0 on every dimension.
func Placeholder(m Meta) string {
	values := []string{"x"}
	switch m.Type {
	case Number:
		values = []string{"0"}
	case List:
		values = strings.Split(strings.Repeat("x ", max(len(m.Items), 1)), " ")[:max(len(m.Items), 1)]
	}
	return Render(m.Type, m.Format, values)
}

func reverseString(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}
