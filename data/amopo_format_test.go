package data

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const amopoRow = `{"prompt": "Translate 'chat' ✓", "id": 7, "chosen": {"response": "cat", "helpfulness": 4, "correctness": 4, "instruction_following": 3}, "rejected": {"response": "dog", "helpfulness": 2, "correctness": 0, "instruction_following": 3}}`

func TestAMoPORecordsAndTiedScores(t *testing.T) {
	path := writeFixture(t, "train.jsonl.gz", true, "\r\n", "\ufeff"+amopoRow, "", amopoRow)
	pairs, st := loadAll(t, Options{Format: AMoPO}, path)
	require.Len(t, pairs, 2)
	require.Equal(t, Pair{
		Prompt:   "Translate 'chat' ✓",
		Chosen:   Response{"cat", Scores{"helpfulness": 4, "correctness": 4, "instruction_following": 3}},
		Rejected: Response{"dog", Scores{"helpfulness": 2, "correctness": 0, "instruction_following": 3}},
		Source:   Pos{path, 1},
	}, pairs[0])
	require.Equal(t, Pos{path, 3}, pairs[1].Source)
	require.Equal(t, map[string]int{Overall: 2}, st.PairsByDimension)
	require.Equal(t, map[string]int{"instruction_following": 2}, st.TiedScores, "ties on a dimension are kept and counted")
}

func TestAMoPOAnyDimensionsAndRoundTrip(t *testing.T) {
	p := Pair{
		Prompt:   "line1\nline2 \"quoted\" — ünïcode",
		Chosen:   Response{"yes", Scores{"harmlessness": 1, "verbosity": 0.5}},
		Rejected: Response{"no", Scores{"harmlessness": 0, "verbosity": 4}},
	}
	var b bytes.Buffer
	require.NoError(t, WriteAMoPO(&b, p, nil))
	require.Equal(t, `{"prompt":"line1\nline2 \"quoted\" — ünïcode","chosen":{"response":"yes","harmlessness":1,"verbosity":0.5},"rejected":{"response":"no","harmlessness":0,"verbosity":4}}`+"\n", b.String())
	r, err := NewReader(Options{Format: AMoPO})
	require.NoError(t, err)
	var got []Pair
	require.NoError(t, r.Read(strings.NewReader(b.String()), "mem", func(q Pair) error { got = append(got, q); return nil }))
	p.Source = Pos{"mem", 1}
	require.Equal(t, []Pair{p}, got)

	require.ErrorContains(t, WriteAMoPO(&b, p, []string{"helpfulness"}), `chosen has no "helpfulness" score`)
}

func TestAMoPOBadRows(t *testing.T) {
	path := writeFixture(t, "bad.jsonl", false, "\n",
		amopoRow,
		strings.Replace(amopoRow, `"helpfulness": 2`, `"helpfulnes": 2`, 1),
		strings.Replace(amopoRow, `, "instruction_following": 3}}`, `}}`, 1),
		strings.Replace(amopoRow, `"correctness": 0`, `"correctness": -1`, 1),
		strings.Replace(amopoRow, `"Translate 'chat' ✓"`, `""`, 1),
		strings.Replace(amopoRow, `"response": "dog"`, `"response": ""`, 1),
		`{"prompt": "p", "chosen": "cat", "rejected": {"response": "dog"}}`,
		strings.Replace(amopoRow, `"rejected": {`, `"rejected": [`, 1),
		`{"prompt": "p", "chosen": {"response": "a", "helpfulness": 4, "correctness": 4, "instruction_following": 3}}`,
		`{"prompt": "p", "chosen": {"response": "a", "helpfulness": null, "correctness": 4, "instruction_following": 3}, "rejected": {"response": "b", "helpfulness": 1, "correctness": 1, "instruction_following": 1}}`,
	)
	_, st := loadAll(t, Options{Format: AMoPO}, path)
	require.Equal(t, []string{
		path + ":2: rejected.helpfulnes: unknown dimension (known: correctness, helpfulness, instruction_following)",
		path + ":3: rejected.instruction_following: missing",
		path + ":4: rejected.correctness: score -1 out of range [0, 4]",
		path + ":5: prompt: empty",
		path + ":6: rejected.response: empty",
		path + ":7: chosen: expected an object, got a string \"cat\"",
		path + ":8: json: malformed JSON at column 161: invalid character ':' after array element",
		path + ":9: rejected: missing",
		path + ":10: chosen.helpfulness: expected a number, got null",
	}, errorLines(st))

	// Declared dimensions: anything else is unknown, a declared one missing is missing.
	_, st = loadAll(t, Options{Format: AMoPO, Dimensions: []string{"helpfulness", "correctness"}}, path)
	require.Equal(t, path+":1: chosen.instruction_following: unknown dimension (known: helpfulness, correctness)", st.Errors[0].Error())

	// A custom scale.
	_, st = loadAll(t, Options{Format: AMoPO, Scale: Scale{Min: 0, Max: 10}}, path)
	require.Equal(t, path+":4: rejected.correctness: score -1 out of range [0, 10]", st.Errors[2].Error())
}
