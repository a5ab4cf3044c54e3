package data

import (
	"fmt"
	"os"
	"path/filepath"
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
