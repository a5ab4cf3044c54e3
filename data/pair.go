package data

import (
	"fmt"
	"math"
	"sort"
)

// Scores maps a dimension name (e.g. "helpfulness") to a response's score on it.
type Scores map[string]float64

// Names returns the dimension names, sorted.
func (s Scores) Names() []string {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Response is one response and its per-dimension scores.
type Response struct {
	Text   string
	Scores Scores
}

// Pos is where a record came from, for messages.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Pair is the common in-memory preference record every loader produces.
type Pair struct {
	Prompt   string
	Chosen   Response
	Rejected Response
	// Dimension names the dimension whose scores ordered the pair when the pairing is per
	// dimension (HelpSteer2 raw rows, MODPO's pairing); it is "" for an overall preference
	// (the AMoPO format, the preference file, a mapped JSONL file).
	Dimension string
	// Strength is the preference strength where the source gives one (|preference_strength|
	// of the HelpSteer2 preference file), else 0.
	Strength int
	Source   Pos
}

// Scale is the closed range of valid scores. HelpSteer2 and the AMoPO data use 0..4.
type Scale struct {
	Min, Max float64
}

// DefaultScale is HelpSteer2's and the paper's 0..4.
func DefaultScale() Scale { return Scale{Min: 0, Max: 4} }

// check reports why v is not a valid score, or "" when it is.
func (s Scale) check(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("score must be finite, got %v", v)
	}
	if v < s.Min || v > s.Max {
		return fmt.Sprintf("score %v out of range [%v, %v]", v, s.Min, s.Max)
	}
	return ""
}

// Validate says why the scale cannot be used: bounds must be finite and min < max.
func (s Scale) Validate() error { return s.validate() }

func (s Scale) validate() error {
	if math.IsInf(s.Min, 0) || math.IsInf(s.Max, 0) {
		return fmt.Errorf("score scale: bounds must be finite, got [%v, %v]", s.Min, s.Max)
	}
	if math.IsNaN(s.Min) || math.IsNaN(s.Max) || s.Min >= s.Max {
		return fmt.Errorf("score scale: need min < max, got [%v, %v]", s.Min, s.Max)
	}
	return nil
}

// formatScore prints a score as the templates and the AMoPO files show it: 4, not 4.000.
func formatScore(v float64) string { return fmt.Sprintf("%g", v) }
