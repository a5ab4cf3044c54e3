package data

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// dupByTokens is the reference for the key scan: encoding/json's Decoder.Token walks
// the line, each object keeping the set of its decoded keys. It returns the first
// duplicate key's field, named like RowError.Field.
func dupByTokens(t *testing.T, line []byte) string {
	dec := json.NewDecoder(bytes.NewReader(line))
	type frame struct {
		obj    bool
		prefix string
		keys   map[string]bool
		key    string
		want   bool // an object waiting for a key
	}
	var stack []*frame
	name := func() string { // the prefix a nested value gets
		if len(stack) == 0 {
			return ""
		}
		f := stack[len(stack)-1]
		if f.obj {
			return f.prefix + f.key
		}
		return f.prefix + "[]"
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.want {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].obj {
					stack[len(stack)-1].want = true
				}
				continue
			}
			k := tok.(string)
			if top.keys[k] {
				return top.prefix + k
			}
			top.keys[k], top.key, top.want = true, k, false
			continue
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			prefix := name()
			if tok == json.Delim('{') && prefix != "" {
				prefix += "."
			}
			if tok == json.Delim('[') {
				prefix = name()
			}
			stack = append(stack, &frame{obj: tok == json.Delim('{'), prefix: prefix, keys: map[string]bool{}, want: true})
			continue
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].want = true
		}
	}
}

// TestKeyScanMatchesDecoderTokens compares the byte scan with Decoder.Token on random
// nested lines whose keys come from a small alphabet (so objects often repeat one),
// some written with escapes.
func TestKeyScanMatchesDecoderTokens(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	keys := []string{`"a"`, `"b"`, `"c"`, `"\u0061"`, `"a\"b"`, `"é"`, `"\u00e9"`, `"x y"`}
	var value func(depth int) string
	value = func(depth int) string {
		switch k := r.IntN(7); {
		case k == 0 && depth < 4:
			n := r.IntN(4)
			parts := make([]string, n)
			for i := range parts {
				parts[i] = value(depth + 1)
			}
			return "[ " + strings.Join(parts, " ,") + "]"
		case k <= 2 && depth < 4:
			n := r.IntN(4)
			parts := make([]string, n)
			for i := range parts {
				parts[i] = keys[r.IntN(len(keys))] + " :\t" + value(depth+1)
			}
			return "{" + strings.Join(parts, ", ") + " }"
		case k == 3:
			return `"s\\\"}{[,:"`
		case k == 4:
			return "-1.5e3"
		case k == 5:
			return "null"
		}
		return "true"
	}
	dups := 0
	for i := 0; i < 3000; i++ {
		n := 1 + r.IntN(4)
		parts := make([]string, n)
		for j := range parts {
			parts[j] = keys[r.IntN(len(keys))] + ": " + value(1)
		}
		line := []byte("{" + strings.Join(parts, ",") + "}")
		require.True(t, json.Valid(line), "%s", line)
		want := dupByTokens(t, line)
		s := keyScan{b: line, badAt: -1}
		s.object("")
		require.Equal(t, want, s.dup, "%s", line)
		if want != "" {
			dups++
		}
	}
	require.Greater(t, dups, 500, "the generator must produce duplicates")
	require.Less(t, dups, 2900, "and clean lines")
}

// BenchmarkParseLine times parseLine on a HelpSteer2-sized AMoPO row (two 2 KB
// responses with escapes and non-ASCII text), and its two parts: json.Unmarshal and
// the key and UTF-8 scan (checkLine).
func BenchmarkParseLine(b *testing.B) {
	resp := strings.Repeat("The answer, with some ünïcödé and \"quotes\". ", 45)
	line := []byte(pairRow("What is the question?", resp, resp+"!"))
	for _, c := range []struct {
		name string
		fn   func() error
	}{
		{"parseLine", func() error {
			if _, err := parseLine("f", 1, line); err != nil {
				return err
			}
			return nil
		}},
		{"unmarshal", func() error {
			var fields map[string]json.RawMessage
			return json.Unmarshal(line, &fields)
		}},
		{"checkLine", func() error {
			if err := checkLine("f", 1, line); err != nil {
				return err
			}
			return nil
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				if err := c.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
