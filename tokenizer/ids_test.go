package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHugeIDsAreRefused: ids size the tables indexed by id, so an id of 1e12
// in tokenizer.json crashed with "fatal error: out of memory". Each field
// that carries ids must be checked and named in the error.
func TestHugeIDsAreRefused(t *testing.T) {
	for _, tc := range []struct {
		name, field, token string
		edit               func(doc map[string]any)
	}{
		{"vocab", "model.vocab", "Ġw", func(doc map[string]any) {
			doc["model"].(map[string]any)["vocab"].(map[string]any)["Ġw"] = 1_000_000_000_000
		}},
		{"negative vocab", "model.vocab", "Ġw", func(doc map[string]any) {
			doc["model"].(map[string]any)["vocab"].(map[string]any)["Ġw"] = -3
		}},
		{"added", "added_tokens", "<big>", func(doc map[string]any) {
			doc["added_tokens"] = []any{map[string]any{"id": 1_000_000_000_000, "content": "<big>", "special": true}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTinyTokenizer(t, true, qwen2Pattern, nil)
			path := filepath.Join(dir, "tokenizer.json")
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			var doc map[string]any
			require.NoError(t, json.Unmarshal(raw, &doc))
			tc.edit(doc)
			raw, err = json.Marshal(doc)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, raw, 0o644))

			_, err = Load(dir)
			require.Error(t, err)
			t.Log(err)
			for _, want := range []string{path, tc.field, `"` + tc.token + `"`} {
				require.ErrorContains(t, err, want)
			}
		})
	}
}

// TestSparseIDsWithinTheBoundLoad keeps the bound from refusing real files:
// added tokens may leave unused ids after the vocabulary.
func TestSparseIDsWithinTheBoundLoad(t *testing.T) {
	dir := writeTinyTokenizer(t, true, qwen2Pattern, []map[string]any{{"id": 1000, "content": "<far>", "special": true}})
	tok, err := Load(dir)
	require.NoError(t, err)
	require.Equal(t, []int{'a', 1000}, tok.Encode("a<far>"))
}
