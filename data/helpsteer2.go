package data

import (
	"fmt"
	"strings"
)

// HelpSteer2Dimensions are the score columns of HelpSteer2's raw rows, in file order.
func HelpSteer2Dimensions() []string {
	return []string{"helpfulness", "correctness", "coherence", "complexity", "verbosity"}
}

// helpSteer2Decoder pairs HelpSteer2's raw rows the way MODPO does: the rows of one
// prompt sit next to each other (two responses each in the release); every two rows of a
// group make a candidate pair per dimension, the higher score is chosen, and a tie on that
// dimension is no preference, so it is dropped and counted.
type helpSteer2Decoder struct {
	opts  Options
	dims  []string
	group []hs2Row
}

type hs2Row struct {
	prompt string
	resp   Response
	pos    Pos
}

func newHelpSteer2Decoder(opts Options) (*helpSteer2Decoder, error) {
	dims := opts.Dimensions
	if len(dims) == 0 {
		dims = HelpSteer2Dimensions()
	}
	for _, d := range dims {
		if !contains(HelpSteer2Dimensions(), d) {
			return nil, fmt.Errorf("helpsteer2: unknown dimension %q (known: %s)",
				d, strings.Join(HelpSteer2Dimensions(), ", "))
		}
	}
	return &helpSteer2Decoder{opts: opts, dims: dims}, nil
}

func (d *helpSteer2Decoder) row(o *object, st *Stats, emit func(Pair) error) error {
	prompt, err := o.str("prompt")
	if err != nil {
		return err
	}
	text, err := o.str("response")
	if err != nil {
		return err
	}
	scores := Scores{}
	for _, name := range HelpSteer2Dimensions() {
		required := contains(d.dims, name)
		if !required && !o.has(name) {
			continue
		}
		v, err := o.integer(name, d.opts.Scale.Min, d.opts.Scale.Max)
		if err != nil {
			return err
		}
		scores[name] = float64(v)
	}
	r := hs2Row{prompt: prompt, resp: Response{Text: text, Scores: scores}, pos: Pos{o.file, o.line}}
	if len(d.group) > 0 && d.group[0].prompt != prompt {
		if err := d.flush(st, emit); err != nil {
			return err
		}
	}
	// A second copy of a response to the same prompt would pair with its twin, a pair
	// with no preference: the row is refused and left out of the group.
	for _, g := range d.group {
		if err := identical(o, "response", g.resp.Text, text, fmt.Sprintf("the response on line %d to the same prompt", g.pos.Line)); err != nil {
			return err
		}
	}
	d.group = append(d.group, r)
	return nil
}

func (d *helpSteer2Decoder) endFile(st *Stats, emit func(Pair) error) error {
	return d.flush(st, emit)
}

// flush pairs the current prompt group: all pairs (i < j), per dimension.
func (d *helpSteer2Decoder) flush(st *Stats, emit func(Pair) error) error {
	g := d.group
	d.group = nil
	if len(g) == 1 {
		st.UnpairedRows++
		return nil
	}
	for i := 0; i < len(g); i++ {
		for j := i + 1; j < len(g); j++ {
			for _, dim := range d.dims {
				a, b := g[i], g[j]
				sa, sb := a.resp.Scores[dim], b.resp.Scores[dim]
				if sa == sb {
					st.TiesDropped[dim]++
					continue
				}
				if sb > sa {
					a, b = b, a
				}
				p := Pair{Prompt: a.prompt, Chosen: a.resp, Rejected: b.resp, Dimension: dim, Source: g[i].pos}
				countPair(st, &p)
				if err := emit(p); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
