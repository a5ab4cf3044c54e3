package data

import (
	"fmt"
	"sort"
	"strings"
)

// Mapping says which top-level columns of a JSON-lines file hold a pair:
//
//	prompt=COL,chosen=COL,rejected=COL,chosen.DIM=COL,rejected.DIM=COL,...
//
// Each dimension needs both its chosen and its rejected score column.
type Mapping struct {
	Prompt, Chosen, Rejected string
	// ChosenScores and RejectedScores map a dimension to its score column.
	ChosenScores, RejectedScores map[string]string
}

// ParseMapping reads the comma-separated KEY=COLUMN form above.
func ParseMapping(s string) (*Mapping, error) {
	m := &Mapping{ChosenScores: map[string]string{}, RejectedScores: map[string]string{}}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, col, ok := strings.Cut(item, "=")
		key, col = strings.TrimSpace(key), strings.TrimSpace(col)
		if !ok || key == "" || col == "" {
			return nil, fmt.Errorf("mapping: %q: expected KEY=COLUMN", item)
		}
		switch {
		case key == "prompt":
			m.Prompt = col
		case key == "chosen":
			m.Chosen = col
		case key == "rejected":
			m.Rejected = col
		case strings.HasPrefix(key, "chosen.") && len(key) > len("chosen."):
			m.ChosenScores[strings.TrimPrefix(key, "chosen.")] = col
		case strings.HasPrefix(key, "rejected.") && len(key) > len("rejected."):
			m.RejectedScores[strings.TrimPrefix(key, "rejected.")] = col
		default:
			return nil, fmt.Errorf("mapping: unknown key %q (known: prompt, chosen, rejected, chosen.DIM, rejected.DIM)", key)
		}
	}
	return m, m.validate()
}

func (m *Mapping) validate() error {
	for name, col := range map[string]string{"prompt": m.Prompt, "chosen": m.Chosen, "rejected": m.Rejected} {
		if col == "" {
			return fmt.Errorf("mapping: %s: no column given", name)
		}
	}
	for dim := range m.ChosenScores {
		if _, ok := m.RejectedScores[dim]; !ok {
			return fmt.Errorf("mapping: dimension %q has a chosen score column but no rejected.%s", dim, dim)
		}
	}
	for dim := range m.RejectedScores {
		if _, ok := m.ChosenScores[dim]; !ok {
			return fmt.Errorf("mapping: dimension %q has a rejected score column but no chosen.%s", dim, dim)
		}
	}
	return nil
}

// Dimensions returns the mapped dimensions, sorted.
func (m *Mapping) Dimensions() []string {
	dims := make([]string, 0, len(m.ChosenScores))
	for d := range m.ChosenScores {
		dims = append(dims, d)
	}
	sort.Strings(dims)
	return dims
}

// mappedDecoder reads a JSON-lines file through a Mapping. Unmapped columns are ignored.
type mappedDecoder struct {
	opts Options
	m    *Mapping
	dims []string
}

func newMappedDecoder(opts Options) (*mappedDecoder, error) {
	if opts.Mapping == nil {
		return nil, fmt.Errorf("format jsonl needs a column mapping (prompt=COL,chosen=COL,rejected=COL,...)")
	}
	if err := opts.Mapping.validate(); err != nil {
		return nil, err
	}
	dims := opts.Mapping.Dimensions()
	for _, d := range opts.Dimensions {
		if !contains(dims, d) {
			return nil, fmt.Errorf("mapping: dimension %q is expected but has no score columns", d)
		}
	}
	for _, d := range dims {
		if len(opts.Dimensions) > 0 && !contains(opts.Dimensions, d) {
			return nil, fmt.Errorf("mapping: unknown dimension %q (known: %s)", d, strings.Join(opts.Dimensions, ", "))
		}
	}
	return &mappedDecoder{opts: opts, m: opts.Mapping, dims: dims}, nil
}

func (d *mappedDecoder) row(o *object, st *Stats, emit func(Pair) error) error {
	prompt, err := o.str(d.m.Prompt)
	if err != nil {
		return err
	}
	chosen, err := o.str(d.m.Chosen)
	if err != nil {
		return err
	}
	rejected, err := o.str(d.m.Rejected)
	if err != nil {
		return err
	}
	if err := identical(o, d.m.Rejected, chosen, rejected, d.m.Chosen); err != nil {
		return err
	}
	p := Pair{
		Prompt:   prompt,
		Chosen:   Response{Text: chosen, Scores: Scores{}},
		Rejected: Response{Text: rejected, Scores: Scores{}},
		Source:   Pos{o.file, o.line},
	}
	for _, dim := range d.dims {
		if p.Chosen.Scores[dim], err = o.score(d.m.ChosenScores[dim], d.opts.Scale); err != nil {
			return err
		}
		if p.Rejected.Scores[dim], err = o.score(d.m.RejectedScores[dim], d.opts.Scale); err != nil {
			return err
		}
	}
	countPair(st, &p)
	return emit(p)
}

func (d *mappedDecoder) endFile(*Stats, func(Pair) error) error { return nil }
