package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDemoTrainsAndWritesMetrics(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	var out bytes.Buffer
	require.NoError(t, run([]string{"--steps", "25", "--metrics", path}, &out))
	require.Contains(t, out.String(), "float64 reference on the last step's log-probs")
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var rows []map[string]float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]float64
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		rows = append(rows, m)
	}
	require.Len(t, rows, 25)
	require.Less(t, rows[24]["loss"], rows[0]["loss"]/2, "AMoPO training lowers the loss")
	for _, d := range []string{"general", "helpfulness", "correctness", "instruction_following"} {
		alpha := rows[24]["weights/"+d+"_alpha"]
		require.Greater(t, alpha, 0.0)
		require.Greater(t, rows[24]["rewards/"+d+"_margins"], rows[0]["rewards/"+d+"_margins"], d)
	}
	require.Equal(t, 24.0, rows[24]["step"])
}

func TestDemoRejectsUnknownNames(t *testing.T) {
	var out bytes.Buffer
	err := run([]string{"--policy", "dirichlet"}, &out)
	require.ErrorContains(t, err, `unknown weight policy "dirichlet"`)
	err = run([]string{"--loss", "dpo"}, &out)
	require.ErrorContains(t, err, "needs a reference model")
	require.False(t, strings.Contains(out.String(), "step"))
}
