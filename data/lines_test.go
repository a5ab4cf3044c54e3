package data

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func readLines(t *testing.T, path string) ([]string, []int) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	lr, err := newLineReader(path, f)
	require.NoError(t, err)
	var lines []string
	var nums []int
	for {
		b, n, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		lines = append(lines, string(b))
		nums = append(nums, n)
	}
	require.NoError(t, lr.close())
	return lines, nums
}

func TestLineReaderUndoesWhatRealFilesCarry(t *testing.T) {
	long := strings.Repeat("é", 70_000) // 140 KB: longer than bufio.Scanner's default token
	for _, gz := range []bool{false, true} {
		// The name says .jsonl although the body may be gzip: detection is by magic bytes.
		path := writeFixture(t, "x.jsonl", gz, "\r\n", "\ufeff{\"a\":1}", "", "   ", `{"b":"`+long+`"}`, `{"c":3}`)
		lines, nums := readLines(t, path)
		require.Equal(t, []string{`{"a":1}`, `{"b":"` + long + `"}`, `{"c":3}`}, lines, "gz=%v", gz)
		require.Equal(t, []int{1, 4, 5}, nums, "blank lines still count in line numbers")
	}
}

func TestLineReaderLastLineWithoutNewline(t *testing.T) {
	path := writeFixture(t, "x.jsonl", false, "", "{\"a\":1}\n{\"b\":2}")
	lines, nums := readLines(t, path)
	require.Equal(t, []string{`{"a":1}`, `{"b":2}`}, lines)
	require.Equal(t, []int{1, 2}, nums)
}

func TestTruncatedGzipIsAnError(t *testing.T) {
	path := writeFixture(t, "x.jsonl.gz", true, "\n", `{"a":1}`, `{"b":2}`)
	body, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, body[:len(body)-6], 0o644))
	_, _, err = Load([]string{path}, Options{Format: AMoPO, SkipBad: true})
	require.ErrorContains(t, err, "unexpected EOF", "a cut download must not pass for a short file")
}
