package data

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeFixture writes lines joined by sep (with a final sep) to dir/name, gzip-compressed
// when gz is set, and returns the path.
func writeFixture(t *testing.T, name string, gz bool, sep string, lines ...string) string {
	t.Helper()
	body := []byte(strings.Join(lines, sep) + sep)
	if gz {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, err := w.Write(body)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		body = b.Bytes()
	}
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, body, 0o644))
	return path
}

// loadAll reads files with SkipBad set and returns pairs and stats.
func loadAll(t *testing.T, opts Options, paths ...string) ([]Pair, Stats) {
	t.Helper()
	opts.SkipBad = true
	pairs, st, err := Load(paths, opts)
	require.NoError(t, err)
	return pairs, st
}

// errorLines returns the bad rows' messages.
func errorLines(st Stats) []string {
	out := make([]string, len(st.Errors))
	for i, e := range st.Errors {
		out[i] = e.Error()
	}
	return out
}
