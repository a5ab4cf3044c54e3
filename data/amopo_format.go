package data

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// amopoDecoder reads the AMoPO record format:
//
//	{"prompt": str, "chosen": {"response": str, DIM: score, ...}, "rejected": {...}}
//
// Every key of chosen/rejected other than "response" is a dimension score. The set of
// dimensions is Options.Dimensions, or, when that is empty, the first good record's; a
// record must carry exactly that set on both sides (a missing one is a missing field, an
// extra one an unknown dimension, which catches typos such as "helpfulnes"). Other
// top-level keys (an id, a source) are ignored.
type amopoDecoder struct {
	opts Options
	dims []string
}

func newAMoPODecoder(opts Options) (*amopoDecoder, error) {
	dims, err := checkDimensionNames(opts.Dimensions)
	if err != nil {
		return nil, err
	}
	return &amopoDecoder{opts: opts, dims: dims}, nil
}

func checkDimensionNames(dims []string) ([]string, error) {
	seen := map[string]bool{}
	for i, d := range dims {
		if d == "" || d == "response" {
			return nil, fmt.Errorf("dimensions[%d]: %q is not a dimension name", i, d)
		}
		if seen[d] {
			return nil, fmt.Errorf("dimensions[%d]: %q named twice", i, d)
		}
		seen[d] = true
	}
	return append([]string(nil), dims...), nil
}

func (d *amopoDecoder) row(o *object, st *Stats, emit func(Pair) error) error {
	prompt, err := o.str("prompt")
	if err != nil {
		return err
	}
	dims := d.dims
	if dims == nil { // the first good record sets the dimensions
		c, err := o.child("chosen")
		if err != nil {
			return err
		}
		for k := range c.fields {
			if k != "response" {
				dims = append(dims, k)
			}
		}
		sort.Strings(dims)
	}
	chosen, err := d.side(o, "chosen", dims)
	if err != nil {
		return err
	}
	rejected, err := d.side(o, "rejected", dims)
	if err != nil {
		return err
	}
	if err := identical(o, "rejected.response", chosen.Text, rejected.Text, "chosen.response"); err != nil {
		return err
	}
	if d.dims == nil {
		d.dims = dims
	}
	p := Pair{Prompt: prompt, Chosen: chosen, Rejected: rejected, Source: Pos{o.file, o.line}}
	countPair(st, &p)
	return emit(p)
}

func (d *amopoDecoder) side(o *object, name string, dims []string) (Response, *RowError) {
	c, err := o.child(name)
	if err != nil {
		return Response{}, err
	}
	text, err := c.str("response")
	if err != nil {
		return Response{}, err
	}
	keys := make([]string, 0, len(c.fields))
	for k := range c.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != "response" && !contains(dims, k) {
			return Response{}, c.errorf(k, "unknown dimension (known: %s)", strings.Join(dims, ", "))
		}
	}
	scores := make(Scores, len(dims))
	for _, dim := range dims {
		v, err := c.score(dim, d.opts.Scale)
		if err != nil {
			return Response{}, err
		}
		scores[dim] = v
	}
	return Response{Text: text, Scores: scores}, nil
}

func (d *amopoDecoder) endFile(*Stats, func(Pair) error) error { return nil }

// WriteAMoPO writes a pair as one line of the AMoPO record format, keys in a stable
// order: prompt, then per side response and the dimensions in dims order (all of the
// side's dimensions, sorted, when dims is nil).
func WriteAMoPO(w io.Writer, p Pair, dims []string) error {
	var b bytes.Buffer
	b.WriteString(`{"prompt":`)
	writeJSONString(&b, p.Prompt)
	for _, side := range []struct {
		name string
		r    Response
	}{{"chosen", p.Chosen}, {"rejected", p.Rejected}} {
		fmt.Fprintf(&b, `,%q:{"response":`, side.name)
		writeJSONString(&b, side.r.Text)
		names := dims
		if names == nil {
			names = side.r.Scores.Names()
		}
		for _, n := range names {
			v, ok := side.r.Scores[n]
			if !ok {
				return fmt.Errorf("writing pair from %s: %s has no %q score", p.Source, side.name, n)
			}
			b.WriteByte(',')
			writeJSONString(&b, n)
			b.WriteByte(':')
			b.WriteString(formatScore(v))
		}
		b.WriteByte('}')
	}
	b.WriteString("}\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("writing pair: %w", err)
	}
	return nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // a string always marshals
	b.Write(enc)
}
