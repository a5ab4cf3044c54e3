package task

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/amopo-engine/amopo/data"
)

// Config sizes a generated data set.
type Config struct {
	Seed uint64
	// Train is the number of training pairs, Eval the number of held-out prompts (each
	// with one evaluation pair as well).
	Train, Eval int
}

// Dataset is a generated data set. No prompt of Eval occurs in Train.
type Dataset struct {
	Train     []data.Pair
	EvalPairs []data.Pair
	Eval      []Item
	Stats     GenStats
}

// GenStats describe the generated training pairs.
type GenStats struct {
	// TiedPairs counts, per dimension, the pairs whose chosen and rejected scores are equal.
	TiedPairs map[string]int
	// Conflicts counts, per dimension, the pairs whose chosen response scores lower there
	// than the rejected one: the overall preference goes against that dimension.
	Conflicts map[string]int
}

// Generate draws the data set. The same Config gives the same data, byte for byte; the
// held-out prompts come from their own random stream, so they do not change with Train.
func Generate(cfg Config) (*Dataset, error) {
	if cfg.Train < 0 || cfg.Eval < 0 {
		return nil, fmt.Errorf("task: train and eval sizes must be >= 0, got %d and %d", cfg.Train, cfg.Eval)
	}
	ds := &Dataset{Stats: GenStats{TiedPairs: map[string]int{}, Conflicts: map[string]int{}}}
	seen := map[string]bool{}
	evalRNG := rand.New(rand.NewPCG(cfg.Seed, 1))
	err := DrawDistinct(evalRNG, cfg.Eval, seen, "held-out", func(it Item) bool {
		p, ok := drawPair(evalRNG, it)
		if ok {
			p.Source = data.Pos{File: "eval", Line: len(ds.Eval) + 1}
			ds.Eval = append(ds.Eval, it)
			ds.EvalPairs = append(ds.EvalPairs, p)
		}
		return ok
	})
	if err != nil {
		return nil, err
	}
	trainRNG := rand.New(rand.NewPCG(cfg.Seed, 0))
	err = DrawDistinct(trainRNG, cfg.Train, seen, "training", func(it Item) bool {
		p, ok := drawPair(trainRNG, it)
		if !ok {
			return false
		}
		p.Source = data.Pos{File: "train", Line: len(ds.Train) + 1}
		ds.Train = append(ds.Train, p)
		for _, d := range Dimensions() {
			switch c, r := p.Chosen.Scores[d], p.Rejected.Scores[d]; {
			case c == r:
				ds.Stats.TiedPairs[d]++
			case c < r:
				ds.Stats.Conflicts[d]++
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return ds, nil
}

// drawPair draws two different candidate responses and orders them by the sum of their
// three scores (equal weights: no dimension is privileged). Candidates with the same sum
// are redrawn: that would be no overall preference. Ties on single dimensions are kept:
// they exercise the trainer's handling of dimensions that do not order a pair.
func drawPair(rng *rand.Rand, it Item) (data.Pair, bool) {
	for try := 0; try < 20; try++ {
		a, b := Perturb(rng, it), Perturb(rng, it)
		if a == b {
			continue
		}
		sa, sb := Judge(it.Meta, a), Judge(it.Meta, b)
		ta, tb := Total(sa), Total(sb)
		if ta == tb {
			continue
		}
		if tb > ta {
			a, b, sa, sb = b, a, sb, sa
		}
		return data.Pair{
			Prompt:   it.Prompt,
			Chosen:   data.Response{Text: a, Scores: sa},
			Rejected: data.Response{Text: b, Scores: sb},
		}, true
	}
	return data.Pair{}, false
}

// Total is the judge-score sum over the task's dimensions: the overall preference of the
// generator's and the on-policy pairs.
func Total(s data.Scores) float64 {
	t := 0.0
	for _, d := range Dimensions() {
		t += s[d]
	}
	return t
}

// Perturb draws a candidate response: the reference answer with each perturbation rule
// applied independently at random. The rules make the errors a model makes: a wrong
// value, a wrong or sloppy format, filler, a wordy sentence; and, rarely, the answers the
// judges' gate turns away (a refusal, an echo of the prompt, a hedge between two values,
// a repeated answer), so that the pairs teach against them too.
func Perturb(rng *rand.Rand, it Item) string {
	m := it.Meta
	switch r := rng.Float64(); {
	case r < 0.03:
		return "I don't know."
	case r < 0.05:
		return it.Prompt
	case r < 0.08:
		return Render(m.Type, m.Format, m.Expected) + " or " + Render(m.Type, m.Format, wrongValue(rng, m))
	case r < 0.10:
		s := Render(m.Type, m.Format, m.Expected)
		return s + " " + s
	}
	values := m.Expected
	if rng.Float64() < 0.35 {
		values = wrongValue(rng, m)
	}
	format := m.Format
	sloppy := false
	if r := rng.Float64(); r < 0.2 {
		formats := Formats(m.Type)
		format = formats[rng.IntN(len(formats))]
	} else if r < 0.35 {
		sloppy = true
	}
	s := Render(m.Type, format, values)
	if sloppy {
		s = slip(rng, m.Type, format, s)
	}
	if rng.Float64() < 0.2 {
		s = "The answer is " + s + "."
	}
	if rng.Float64() < 0.2 {
		filler := []string{"Sure! ", "Of course. ", "I think "}[rng.IntN(3)]
		if filler == "I think " && strings.HasPrefix(s, "The ") {
			s = "the " + s[len("The "):]
		}
		s = filler + s
	}
	if rng.Float64() < 0.1 {
		s += " Hope it helps."
	}
	return s
}

// wrongValue returns a wrong answer near the right one.
func wrongValue(rng *rand.Rand, m Meta) []string {
	switch m.Type {
	case Number:
		v, _ := strconv.Atoi(m.Expected[0])
		delta := []int{-2, -1, 1, 1, 2, 10}[rng.IntN(6)]
		return []string{strconv.Itoa(v + delta)}
	case Word:
		w := reverseString(m.Expected[0]) // the word as asked, not reversed
		if rng.IntN(2) == 0 {
			b := []byte(m.Expected[0])
			b[0], b[1] = b[1], b[0]
			w = string(b)
		}
		return []string{w}
	}
	out := append([]string(nil), m.Expected...)
	if rng.IntN(2) == 0 {
		i := rng.IntN(len(out) - 1)
		out[i], out[i+1] = out[i+1], out[i]
	} else {
		out = out[:len(out)-1]
	}
	return out
}

// slip makes a small format mistake.
func slip(rng *rand.Rand, answerType, format, s string) string {
	switch format {
	case Tagged:
		return "answer: " + s[len("ANSWER: "):]
	case CSVUpper:
		return strings.ToLower(s)
	case SpaceLower:
		return strings.ReplaceAll(s, " ", ", ")
	case Upper:
		return strings.ToLower(s)
	}
	if answerType == Number && rng.IntN(2) == 0 {
		return "ANSWER: " + s
	}
	return s + "."
}

// DrawDistinct draws items from rng until keep has accepted n of them, passing over the
// prompts in seen and adding each accepted one to it; keep may draw from rng too. what
// names the items in the error given when distinct prompts run out.
func DrawDistinct(rng *rand.Rand, n int, seen map[string]bool, what string, keep func(Item) bool) error {
	for tries, kept := 0, 0; kept < n; tries++ {
		if tries > 100*n+1000 {
			return fmt.Errorf("task: could not draw %d distinct %s prompts", n, what)
		}
		it := NewItem(rng)
		if seen[it.Prompt] || !keep(it) {
			continue
		}
		seen[it.Prompt] = true
		kept++
	}
	return nil
}
