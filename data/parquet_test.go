package data

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"
)

// hs2Parquet is the schema of HelpSteer2's parquet conversion on the hub.
type hs2Parquet struct {
	Prompt      string `parquet:"prompt"`
	Response    string `parquet:"response"`
	Helpfulness int64  `parquet:"helpfulness"`
	Correctness int64  `parquet:"correctness"`
	Coherence   int64  `parquet:"coherence"`
	Complexity  int64  `parquet:"complexity"`
	Verbosity   int64  `parquet:"verbosity"`
}

type prefParquet struct {
	Split      string  `parquet:"split"`
	Prompt     string  `parquet:"prompt"`
	Response1  string  `parquet:"response_1"`
	Response2  string  `parquet:"response_2"`
	Strength   int64   `parquet:"preference_strength"`
	AllStrengh []int64 `parquet:"all_preferences_unprocessed,list"`
}

func writeParquet[T any](t *testing.T, name string, rows []T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, parquet.Write(f, rows))
	require.NoError(t, f.Close())
	return path
}

func TestParquetHelpSteer2(t *testing.T) {
	path := writeParquet(t, "train.parquet", []hs2Parquet{
		{"What is 2+2? ☀", "4", 4, 4, 4, 1, 0},
		{"What is 2+2? ☀", "five", 1, 0, 4, 1, 1},
		{"bad", "x", 7, 0, 0, 0, 0},
	})
	pairs, st := loadAll(t, Options{Format: HelpSteer2}, path)
	require.Equal(t, []string{path + ":3: helpfulness: 7 out of range [0, 4]"}, errorLines(st), "row numbers stand for line numbers")
	require.Equal(t, 3, st.Rows)
	require.Len(t, pairs, 3)
	require.Equal(t, "What is 2+2? ☀", pairs[0].Prompt)
	require.Equal(t, Scores{"helpfulness": 4, "correctness": 4, "coherence": 4, "complexity": 1, "verbosity": 0}, pairs[0].Chosen.Scores)
}

func TestParquetPreferenceSkipsListColumns(t *testing.T) {
	path := writeParquet(t, "preference.parquet", []prefParquet{
		{"train", "p", "a", "b", -2, []int64{-2, -1, -3}},
		{"validation", "q", "c", "d", 1, nil},
	})
	pairs, st := loadAll(t, Options{Format: HelpSteer2Preference}, path)
	require.Equal(t, 0, st.BadRows)
	require.Len(t, pairs, 2)
	require.Equal(t, "a", pairs[0].Chosen.Text)
	require.Equal(t, "d", pairs[1].Chosen.Text)
}

// TestParquetInvalidUTF8AndEmptyFile: json.Marshal turned invalid UTF-8 in a parquet
// string into U+FFFD, and a parquet file without rows read as an empty data set.
func TestParquetInvalidUTF8AndEmptyFile(t *testing.T) {
	path := writeParquet(t, "train.parquet", []hs2Parquet{
		{"p", "caf\xe9", 4, 4, 4, 1, 0},
		{"p", "five", 1, 0, 4, 1, 1},
		{"p", "six", 2, 0, 4, 1, 1},
	})
	pairs, st := loadAll(t, Options{Format: HelpSteer2}, path)
	require.Equal(t, []string{path + ":1: response: invalid UTF-8"}, errorLines(st))
	require.Equal(t, 1, st.InvalidUTF8)
	require.NotEmpty(t, pairs)

	empty := writeParquet(t, "empty.parquet", []hs2Parquet{})
	_, st = loadAll(t, Options{Format: HelpSteer2}, empty)
	require.Equal(t, []string{empty + ":1: file: no rows: the file is empty or holds only blank lines"}, errorLines(st))
	require.Equal(t, 1, st.EmptyFiles)
}
