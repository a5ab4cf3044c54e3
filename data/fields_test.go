package data

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func pairRow(prompt, chosen, rejected string) string {
	return fmt.Sprintf(`{"prompt": %q, "chosen": {"response": %q, "helpfulness": 4}, "rejected": {"response": %q, "helpfulness": 1}}`,
		prompt, chosen, rejected)
}

// TestDuplicateKeysAndInvalidUTF8AreBadRows: encoding/json keeps the last of two equal
// keys and turns invalid UTF-8 into U+FFFD, so both rows used to load silently.
func TestDuplicateKeysAndInvalidUTF8AreBadRows(t *testing.T) {
	path := writeFixture(t, "dup.jsonl", false, "\n",
		pairRow("p", "a", "b"),
		`{"prompt": "p", "prompt": "q", "chosen": {"response": "a", "helpfulness": 4}, "rejected": {"response": "b", "helpfulness": 1}}`,
		`{"prompt": "p", "chosen": {"response": "a", "helpfulness": 4, "helpfulness": 0}, "rejected": {"response": "b", "helpfulness": 1}}`,
		`{"prompt": "p", "pr\u006fmpt": "q", "chosen": {"response": "a", "helpfulness": 4}, "rejected": {"response": "b", "helpfulness": 1}}`,
		"{\"prompt\": \"p\", \"chosen\": {\"response\": \"caf\xe9\", \"helpfulness\": 4}, \"rejected\": {\"response\": \"b\", \"helpfulness\": 1}}",
		"{\"prompt\": \"p\", \"chosen\": {\"response\": \"a\", \"helpfulness\": 4}, \"rejected\": {\"response\": \"b\", \"helpfulness\": 1}, \"note\xff\": 1}",
		`{"prompt": "p", "chosen": {"response": "a", "helpfulness": 4}, "rejected": {"response": "b", "helpfulness": 1}, "meta": [{"k": 1}, {"k": 2, "k": 3}]}`,
	)
	pairs, st := loadAll(t, Options{Format: AMoPO}, path)
	require.Len(t, pairs, 1)
	require.Equal(t, []string{
		path + ":2: prompt: duplicate key: the object has it twice (JSON readers keep either one)",
		path + ":3: chosen.helpfulness: duplicate key: the object has it twice (JSON readers keep either one)",
		path + ":4: prompt: duplicate key: the object has it twice (JSON readers keep either one)",
		path + ":5: chosen.response: invalid UTF-8 at column 44 (byte 0xe9)",
		path + ":6: json: invalid UTF-8 at column 118 (byte 0xff)",
		path + ":7: meta[].k: duplicate key: the object has it twice (JSON readers keep either one)",
	}, errorLines(st))
	require.Equal(t, 4, st.DuplicateKeys)
	require.Equal(t, 2, st.InvalidUTF8)
	require.Equal(t, 6, st.BadRows)

	_, _, err := Load([]string{path}, Options{Format: AMoPO})
	require.EqualError(t, err, path+":2: prompt: duplicate key: the object has it twice (JSON readers keep either one)")
}

// TestIdenticalPairsAreNoPreference: a pair whose chosen and rejected responses are
// the same text passed every check, in every format.
func TestIdenticalPairsAreNoPreference(t *testing.T) {
	m, err := ParseMapping("prompt=q,chosen=good,rejected=bad")
	require.NoError(t, err)
	for _, c := range []struct {
		name string
		opts Options
		rows []string
		want string
	}{
		{"amopo", Options{Format: AMoPO}, []string{pairRow("p", "a", "b"), pairRow("p", "same", "same")},
			":2: rejected.response: identical to chosen.response: no preference"},
		{"preference", Options{Format: HelpSteer2Preference}, []string{prefRow("train", "p", "a", "b", 1), prefRow("train", "p", "same", "same", 2)},
			":2: response_2: identical to response_1: no preference"},
		{"jsonl", Options{Format: JSONL, Mapping: m}, []string{`{"q": "p", "good": "a", "bad": "b"}`, `{"q": "p", "good": "same", "bad": "same"}`},
			":2: bad: identical to good: no preference"},
		{"helpsteer2", Options{Format: HelpSteer2}, []string{hs2("p", "a", 4, 4, 4, 4, 4), hs2("p", "a", 1, 1, 1, 1, 1), hs2("p", "b", 2, 2, 2, 2, 2)},
			":2: response: identical to the response on line 1 to the same prompt: no preference"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeFixture(t, "in.jsonl", false, "\n", c.rows...)
			pairs, st := loadAll(t, c.opts, path)
			require.Equal(t, []string{path + c.want}, errorLines(st))
			require.Equal(t, 1, st.IdenticalPairs)
			require.Equal(t, 1, st.BadRows)
			for _, p := range pairs {
				require.NotEqual(t, p.Chosen.Text, p.Rejected.Text)
			}
			require.NotEmpty(t, pairs, "the other rows still pair")

			_, _, err := Load([]string{path}, c.opts)
			require.EqualError(t, err, path+c.want, "without SkipBad an identical pair stops the read")
		})
	}
}

// TestEmptyFilesAreReported: a file without rows (a failed download) read as an empty
// data set without a word.
func TestEmptyFilesAreReported(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.jsonl")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	blank := writeFixture(t, "blank.jsonl", false, "\r\n", "", "   ", "")
	emptyGz := writeFixture(t, "empty.jsonl.gz", true, "")
	good := writeFixture(t, "good.jsonl", false, "\n", pairRow("p", "a", "b"))

	pairs, st := loadAll(t, Options{Format: AMoPO}, empty, good, blank, emptyGz)
	require.Len(t, pairs, 1)
	require.Equal(t, 3, st.EmptyFiles)
	require.Equal(t, 0, st.BadRows, "an empty file is not a bad row")
	require.Equal(t, 4, st.Files)
	for i, p := range []string{empty, blank, emptyGz} {
		require.Equal(t, p+":1: file: no rows: the file is empty or holds only blank lines", errorLines(st)[i])
	}

	_, _, err := Load([]string{good, empty}, Options{Format: AMoPO})
	require.ErrorContains(t, err, empty+":1: file: no rows")
}

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
