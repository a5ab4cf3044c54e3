package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/amopo-engine/amopo/tokenizer/internal/corpus"
	"github.com/stretchr/testify/require"
)

// TestWritesTheCorpusTheTestsUse: the JavaScript benchmark must time the
// same text as the Go benchmark.
func TestWritesTheCorpusTheTestsUse(t *testing.T) {
	out := filepath.Join(t.TempDir(), "corpus.jsonl")
	require.NoError(t, run(out, 50, nil))
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	var want bytes.Buffer
	require.NoError(t, corpus.WriteJSONLines(&want, corpus.Generate(50)))
	require.Equal(t, want.String(), string(got))
	require.Equal(t, 50, bytes.Count(got, []byte("\n")))
}

func TestRefusesBadArguments(t *testing.T) {
	require.ErrorContains(t, run("", 10, nil), "-out")
	require.ErrorContains(t, run("x", 0, nil), "-lines 0")
	require.ErrorContains(t, run("x", 10, []string{"extra"}), `"extra"`)
}
