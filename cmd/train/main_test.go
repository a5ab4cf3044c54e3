package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStrayArgumentIsRefused: the flag package stops at the first non-flag argument, so
// "preference.steps 50" (a missing "--") would drop it and every flag after it, and the
// run would train with the defaults. (The unknown backend makes a run that gets past the
// argument check fail at once, with code 1.)
func TestStrayArgumentIsRefused(t *testing.T) {
	out := filepath.Join(t.TempDir(), "o")
	var stdout, stderr bytes.Buffer
	code := run([]string{"--backend", "nosuch", "--out_dir", out, "preference.steps", "50", "--sft.steps", "99"}, &stdout, &stderr)
	require.Equal(t, 2, code, stderr.String())
	require.Contains(t, stderr.String(), `unexpected argument "preference.steps"`)
	require.Contains(t, stderr.String(), "it and the 3 after it would be ignored")
	require.NoDirExists(t, out, "nothing ran")
}
