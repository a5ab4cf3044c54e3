package data

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMappedJSONL(t *testing.T) {
	m, err := ParseMapping("prompt=question, chosen=good,rejected=bad,chosen.helpfulness=good_h,rejected.helpfulness=bad_h")
	require.NoError(t, err)
	require.Equal(t, []string{"helpfulness"}, m.Dimensions())
	path := writeFixture(t, "custom.jsonl", false, "\n",
		`{"question": "Q1", "good": "A", "bad": "B", "good_h": 3, "bad_h": 1, "extra": [1]}`,
		`{"question": "Q2", "good": "A", "bad": "B", "good_h": 3}`,
		`{"question": "Q3", "good": "A", "bad": "B", "good_h": 3, "bad_h": 9}`,
		`{"question": "Q4", "good": "A", "bad": "B", "good_h": "x", "bad_h": 1}`,
	)
	pairs, st := loadAll(t, Options{Format: JSONL, Mapping: m}, path)
	require.Equal(t, []Pair{{
		Prompt:   "Q1",
		Chosen:   Response{"A", Scores{"helpfulness": 3}},
		Rejected: Response{"B", Scores{"helpfulness": 1}},
		Source:   Pos{path, 1},
	}}, pairs)
	require.Equal(t, []string{
		path + ":2: bad_h: missing",
		path + ":3: bad_h: score 9 out of range [0, 4]",
		path + `:4: good_h: expected a number, got a string "x"`,
	}, errorLines(st))
}

func TestMappingErrors(t *testing.T) {
	for s, want := range map[string]string{
		"prompt=q,chosen=a":                           "mapping: rejected: no column given",
		"prompt=q,chosen=a,rejected=b,chosen.h=x":     `dimension "h" has a chosen score column but no rejected.h`,
		"prompt=q,chosen=a,rejected=b,score=x":        `unknown key "score"`,
		"prompt=q,chosen=a,rejected":                  `"rejected": expected KEY=COLUMN`,
		"prompt=q,chosen=a,rejected=b,rejected.h=col": `dimension "h" has a rejected score column but no chosen.h`,
	} {
		_, err := ParseMapping(s)
		require.ErrorContains(t, err, want, s)
	}
	_, err := NewReader(Options{Format: JSONL})
	require.ErrorContains(t, err, "needs a column mapping")
	m, err := ParseMapping("prompt=q,chosen=a,rejected=b,chosen.h=x,rejected.h=y")
	require.NoError(t, err)
	_, err = NewReader(Options{Format: JSONL, Mapping: m, Dimensions: []string{"correctness"}})
	require.ErrorContains(t, err, `dimension "correctness" is expected but has no score columns`)
}
