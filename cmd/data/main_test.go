package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amopo-engine/amopo/data"
	"github.com/stretchr/testify/require"
)

func runCmd(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func write(t *testing.T, dir, name string, lines ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\r\n")+"\r\n"), 0o644))
	return path
}

func TestValidateHelpSteer2(t *testing.T) {
	dir := t.TempDir()
	good := write(t, dir, "train.jsonl",
		`{"prompt": "p", "response": "a", "helpfulness": 4, "correctness": 3, "coherence": 4, "complexity": 1, "verbosity": 1}`,
		`{"prompt": "p", "response": "b", "helpfulness": 2, "correctness": 3, "coherence": 4, "complexity": 2, "verbosity": 0}`)
	code, out, errOut := runCmd("validate", "--format", "helpsteer2", good)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, `files: 1
rows read: 2
bad rows: 0
pairs: 3
pairs per dimension:
  coherence: 0 (ties dropped: 1)
  complexity: 1 (ties dropped: 0)
  correctness: 0 (ties dropped: 1)
  helpfulness: 1 (ties dropped: 0)
  verbosity: 1 (ties dropped: 0)
pairs kept with equal chosen and rejected scores:
  coherence: 3
  correctness: 3
`, out)

	bad := write(t, dir, "bad.jsonl",
		`{"prompt": "p", "response": "a", "helpfulness": 9, "correctness": 3, "coherence": 4, "complexity": 1, "verbosity": 1}`,
		``,
		`{"prompt": "p", "response": "b", "helpfulness": 2, "correctness": 3, "coherence": 4, "complexity": 2`)
	code, out, _ = runCmd("validate", "--format", "helpsteer2", good, bad)
	require.Equal(t, 1, code)
	require.True(t, strings.HasPrefix(out, bad+":1: helpfulness: 9 out of range [0, 4]\n"+
		bad+":3: json: malformed JSON at column 100: unexpected end of JSON input\nfiles: 2\nrows read: 4\nbad rows: 2\n"), out)
}

func TestValidateOtherFormats(t *testing.T) {
	dir := t.TempDir()
	pref := write(t, dir, "preference.jsonl",
		`{"split": "train", "prompt": "p", "response_1": "a", "response_2": "b", "preference_strength": -1}`,
		`{"split": "train", "prompt": "p", "response_1": "a", "response_2": "b", "preference_strength": 0}`,
		`{"split": "train", "prompt": "p", "response_1": "a", "preference_strength": 2}`)
	code, out, _ := runCmd("validate", "--format", "helpsteer2-preference", pref)
	require.Equal(t, 1, code)
	require.Contains(t, out, pref+":3: response_2: missing\n")
	require.Contains(t, out, "  overall: 1 (ties dropped: 1)\n")

	am := write(t, dir, "amopo.jsonl",
		`{"prompt": "p", "chosen": {"response": "a", "helpfulness": 4}, "rejected": {"response": "b", "helpfulness": 1}}`,
		`{"prompt": "p", "chosen": {"response": "a", "helpfulness": 4}, "rejected": {"response": "b", "correctness": 1}}`)
	code, out, _ = runCmd("validate", "--format", "amopo", am)
	require.Equal(t, 1, code)
	require.Contains(t, out, am+":2: rejected.correctness: unknown dimension (known: helpfulness)\n")
	code, out, _ = runCmd("validate", "--format", "amopo", "--dimensions", "helpfulness,correctness", am)
	require.Equal(t, 1, code)
	require.Contains(t, out, am+":1: chosen.correctness: missing\n")

	gen := write(t, dir, "custom.jsonl", `{"q": "p", "good": "a", "bad": "b", "gh": 1, "bh": 0}`)
	code, out, errOut := runCmd("validate", "--format", "jsonl", "--map", "prompt=q,chosen=good,rejected=bad,chosen.helpfulness=gh,rejected.helpfulness=bh", gen)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "pairs: 1\n")
	code, _, errOut = runCmd("validate", "--format", "jsonl", "--map", "prompt=q,chosen=good,rejected=bad,chosen.helpfulness=gh,rejected.helpfulness=bh", "--max-score", "0.5", gen)
	require.Equal(t, 1, code, errOut)
}

func TestValidateUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"validate", "--format", "csv", "x"}, `unknown format "csv"`},
		{[]string{"validate", "--format", "amopo"}, "no input file"},
		{[]string{"validate", "--format", "jsonl", "x"}, "needs a column mapping"},
		{[]string{"validate", "--format", "jsonl", "--map", "prompt", "x"}, "--map: mapping"},
		{[]string{"validate", "--format", "amopo", "/nonexistent/file.jsonl"}, "no such file"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{nil, "usage:"},
	} {
		code, _, errOut := runCmd(c.args...)
		require.Equal(t, 2, code, c.args)
		require.Contains(t, errOut, c.want, c.args)
	}
}

func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	for _, gz := range []bool{false, true} {
		dir := dir
		if gz {
			dir = t.TempDir()
		}
		args := []string{"generate", "--out", dir, "--seed", "3", "--train", "40", "--eval", "7"}
		ext := ".jsonl"
		if gz {
			args = append(args, "--gzip")
			ext += ".gz"
		}
		code, out, errOut := runCmd(args...)
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "train"+ext+" (40 lines)")
		pairs, st, err := data.Load([]string{filepath.Join(dir, "train"+ext), filepath.Join(dir, "eval"+ext)}, data.Options{Format: data.AMoPO})
		require.NoError(t, err)
		require.Len(t, pairs, 47)
		require.Equal(t, 0, st.BadRows)
		code, _, _ = runCmd("validate", "--format", "amopo", "--dimensions", "helpfulness,correctness,instruction_following", filepath.Join(dir, "train"+ext))
		require.Equal(t, 0, code)
	}
	// Same seed, same bytes, compressed or not.
	a, err := os.ReadFile(filepath.Join(dir, "train.jsonl"))
	require.NoError(t, err)
	code, _, _ := runCmd("generate", "--out", dir, "--seed", "3", "--train", "40", "--eval", "7", "--overwrite")
	require.Equal(t, 0, code)
	b, err := os.ReadFile(filepath.Join(dir, "train.jsonl"))
	require.NoError(t, err)
	require.Equal(t, a, b)

	code, _, errOut := runCmd("generate")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--out")
}

// TestGenerateRefusesToOverwrite: a second generate into the same directory replaced
// the data set without a word.
func TestGenerateRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCmd("generate", "--out", dir, "--seed", "1", "--train", "5", "--eval", "2", "--gzip")
	require.Equal(t, 0, code, errOut)
	before, err := os.ReadFile(filepath.Join(dir, "train.jsonl.gz"))
	require.NoError(t, err)

	// Another seed, another compression: still the same data set's directory.
	code, _, errOut = runCmd("generate", "--out", dir, "--seed", "2", "--train", "5", "--eval", "2")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "train.jsonl.gz")
	require.Contains(t, errOut, "--overwrite")
	after, err := os.ReadFile(filepath.Join(dir, "train.jsonl.gz"))
	require.NoError(t, err)
	require.Equal(t, before, after, "a refused generate must leave the data set alone")
	_, err = os.Stat(filepath.Join(dir, "train.jsonl"))
	require.True(t, os.IsNotExist(err), "a refused generate wrote train.jsonl")

	// --overwrite replaces it, and leaves no file of the old compression behind.
	code, _, errOut = runCmd("generate", "--out", dir, "--seed", "2", "--train", "5", "--eval", "2", "--overwrite")
	require.Equal(t, 0, code, errOut)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.ElementsMatch(t, []string{"train.jsonl", "eval.jsonl", "eval_prompts.jsonl"}, names)

	file := write(t, t.TempDir(), "not-a-dir", "x")
	code, _, errOut = runCmd("generate", "--out", file, "--train", "5", "--eval", "2")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "not a directory")
}

// TestGenerateChecksSizesBeforeGenerating: --train 2000000000 grew memory at 70 MB/s
// before --out was even looked at. The sizes are bounded, and the check comes first:
// a bad --out with a huge --train fails at once on the size, a bad --out alone on --out.
func TestGenerateChecksSizesBeforeGenerating(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--train", "2000000000"}, "--train 2000000000: must be between 0 and 1000000"},
		{[]string{"--eval", "100001"}, "--eval 100001: must be between 0 and 100000"},
		{[]string{"--train", "-1"}, "--train -1"},
	} {
		args := append([]string{"generate", "--out", t.TempDir()}, c.args...)
		code, _, errOut := runCmd(args...)
		require.Equal(t, 2, code, c.args)
		require.Contains(t, errOut, c.want, c.args)
	}
	// A directory that cannot be created is reported before generating: this run would
	// take minutes if the data set were built first.
	blocker := write(t, t.TempDir(), "file", "x")
	code, _, errOut := runCmd("generate", "--out", filepath.Join(blocker, "sub"), "--train", "300000")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--out")
}

// TestValidateReportsSilentDefects: empty files, duplicate keys, invalid UTF-8 and
// identical chosen/rejected responses passed validation with status 0.
func TestValidateReportsSilentDefects(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.jsonl")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	code, out, _ := runCmd("validate", "--format", "amopo", empty)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, empty+":1: file: no rows: the file is empty or holds only blank lines\n")
	require.Contains(t, out, "empty files (no rows): 1\n")

	rows := write(t, dir, "rows.jsonl",
		`{"prompt": "p", "chosen": {"response": "a", "helpfulness": 4}, "rejected": {"response": "b", "helpfulness": 1}}`,
		`{"prompt": "p", "chosen": {"response": "a", "helpfulness": 4}, "rejected": {"response": "a", "helpfulness": 1}}`,
		`{"prompt": "p", "chosen": {"response": "a", "helpfulness": 4}, "rejected": {"response": "b", "helpfulness": 1, "helpfulness": 3}}`,
		"{\"prompt\": \"p\xc3\", \"chosen\": {\"response\": \"a\", \"helpfulness\": 4}, \"rejected\": {\"response\": \"b\", \"helpfulness\": 1}}")
	code, out, _ = runCmd("validate", "--format", "amopo", rows)
	require.Equal(t, 1, code, out)
	for _, want := range []string{
		rows + ":2: rejected.response: identical to chosen.response: no preference\n",
		rows + ":3: rejected.helpfulness: duplicate key: the object has it twice (JSON readers keep either one)\n",
		rows + ":4: prompt: invalid UTF-8 at column 14 (byte 0xc3)\n",
		"rows read: 4\nbad rows: 3\npairs: 1\n",
		"bad rows with a duplicate JSON key: 1\n",
		"bad rows with invalid UTF-8: 1\n",
		"bad rows whose chosen and rejected responses are identical (no preference): 1\n",
	} {
		require.Contains(t, out, want)
	}
}
