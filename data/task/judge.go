package task

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/amopo-engine/amopo/data"
)

// The dimensions the judges score, named as the AMoPO record format and the default
// templates name them.
const (
	Helpfulness          = "helpfulness"
	Correctness          = "correctness"
	InstructionFollowing = "instruction_following"
)

// Dimensions lists the judged dimensions.
func Dimensions() []string { return []string{Helpfulness, Correctness, InstructionFollowing} }

// Judge scores a response on the three dimensions, 0..4 each.
func Judge(m Meta, response string) data.Scores {
	return data.Scores{
		Helpfulness:          float64(JudgeHelpfulness(m, response)),
		Correctness:          float64(JudgeCorrectness(m, response)),
		InstructionFollowing: float64(JudgeInstructionFollowing(m, response)),
	}
}

var (
	integerRE   = regexp.MustCompile(`-?\d+`)
	wordRE      = regexp.MustCompile(`[A-Za-z]+`)
	prefixRE    = regexp.MustCompile(`(?i)answer\s*:\s*`)
	refusalRE   = regexp.MustCompile(`(?i)\b(i don'?t know|i do not know|i cannot|i can'?t|no idea|not sure)\b`)
	fillerRE    = regexp.MustCompile(`(?i)\b(sure|of course|certainly|great question|happy to help|hope (this|it) helps|i think|maybe|probably)\b`)
	bareNumRE   = regexp.MustCompile(`^-?\d+$`)
	numPunctRE  = regexp.MustCompile(`^-?\d+[.!]$`)
	bareWordRE  = regexp.MustCompile(`^[A-Za-z]+$`)
	wordPunctRE = regexp.MustCompile(`^[A-Za-z]+[.!]$`)
)

// JudgeCorrectness scores whether the value is right, whatever the format: the answer is
// read leniently (the last integer of the response; any word of it; the list items it
// names, in order).
//
//	number: 4 right, 1 off by one (an arithmetic slip), else 0;
//	word:   4 when some word of the response is the answer, 1 when one is an anagram of
//	        it (the letters without the asked transformation), else 0;
//	list:   4 when the items named are exactly the answer, in order; otherwise
//	        floor(3 * LCS / n), at most 3 (LCS: the longest run of items in the right
//	        relative order, n: the answer's length), so a swap or a missing item costs
//	        partial credit.
func JudgeCorrectness(m Meta, response string) int {
	switch m.Type {
	case Number:
		nums := integerRE.FindAllString(response, -1)
		if len(nums) == 0 || len(m.Expected) != 1 {
			return 0
		}
		got, err1 := strconv.Atoi(nums[len(nums)-1])
		want, err2 := strconv.Atoi(m.Expected[0])
		switch {
		case err1 != nil || err2 != nil:
			return 0
		case got == want:
			return 4
		case got == want+1 || got == want-1:
			return 1
		}
		return 0
	case Word:
		if len(m.Expected) != 1 {
			return 0
		}
		want := strings.ToLower(m.Expected[0])
		score := 0
		for _, w := range wordRE.FindAllString(response, -1) {
			w = strings.ToLower(w)
			if w == want {
				return 4
			}
			if sortedLetters(w) == sortedLetters(want) {
				score = 1
			}
		}
		return score
	case List:
		got := listItems(m, response)
		if equalStrings(got, m.Expected) {
			return 4
		}
		if len(m.Expected) == 0 {
			return 0
		}
		return min(3, 3*lcs(got, m.Expected)/len(m.Expected))
	}
	return 0
}

// JudgeInstructionFollowing scores whether the requested format is obeyed, whatever the
// value: a wrong number in the right form scores 4. It starts at 4 and takes off per
// deviation, never below 0:
//
//	-2 the ANSWER: prefix is missing, or text comes before it (tagged formats);
//	-1 the prefix is malformed ("answer:", "ANSWER:42"), or given when not asked for;
//	-2 extra text besides the answer (a sentence, filler);
//	-1 trailing punctuation ("42.");
//	-1 the wrong case (uppercase or lowercase asked for);
//	-1 the wrong separator between list items.
//
// A response with no answer-shaped content at all (no number for a number question, no
// word, none of the list's items) scores 0: there is no format to judge.
func JudgeInstructionFollowing(m Meta, response string) int {
	s := strings.TrimSpace(response)
	if s == "" {
		return 0
	}
	dev := 0
	body := s
	loc := prefixRE.FindStringIndex(s)
	if m.Format == Tagged {
		switch {
		case strings.HasPrefix(s, "ANSWER: "):
			body = s[len("ANSWER: "):]
		case loc != nil && loc[0] == 0:
			dev++
			body = s[loc[1]:]
		case loc != nil:
			dev += 2
			body = s[loc[1]:]
		default:
			dev += 2
		}
	} else if loc != nil && loc[0] == 0 {
		dev++
		body = s[loc[1]:]
	}
	body = strings.TrimSpace(body)
	var shape int
	switch m.Type {
	case Number:
		shape = judgeShape(body, bareNumRE, numPunctRE, integerRE)
	case Word:
		shape = judgeShape(body, bareWordRE, wordPunctRE, wordRE)
		// Case is judged on a lone word only: with extra text around it the first word
		// need not be the answer, and the extra text is already paid for.
		if (shape == 0 || shape == 1) && m.Format == Upper {
			if w := wordRE.FindString(body); w != strings.ToUpper(w) {
				shape++
			}
		}
	case List:
		shape = judgeListShape(m, body)
	}
	if shape < 0 {
		return 0
	}
	return max(0, 4-dev-shape)
}

// judgeShape returns the deviations of a single-token answer: 0 exact, 1 trailing
// punctuation, 2 extra text, -1 no answer at all.
func judgeShape(body string, exact, punct, any *regexp.Regexp) int {
	switch {
	case exact.MatchString(body):
		return 0
	case punct.MatchString(body):
		return 1
	case any.MatchString(body):
		return 2
	}
	return -1
}

// judgeListShape returns the deviations of a list answer, or -1 when it names no item.
func judgeListShape(m Meta, body string) int {
	locs := wordRE.FindAllStringIndex(body, -1)
	items, extra, badCase := 0, false, false
	for _, l := range locs {
		w := body[l[0]:l[1]]
		if !isItem(m, w) {
			extra = true
			continue
		}
		items++
		if (m.Format == CSVUpper && w != strings.ToUpper(w)) || (m.Format == SpaceLower && w != strings.ToLower(w)) {
			badCase = true
		}
	}
	if items == 0 {
		return -1
	}
	dev := 0
	if extra {
		dev += 2
	}
	if badCase {
		dev++
	}
	// The separators between two items (the text around extra words is already paid for).
	badSep := false
	for i := 1; i < len(locs); i++ {
		if !isItem(m, body[locs[i-1][0]:locs[i-1][1]]) || !isItem(m, body[locs[i][0]:locs[i][1]]) {
			continue
		}
		sep := body[locs[i-1][1]:locs[i][0]]
		ok := sep == " "
		if m.Format == CSVUpper {
			ok = sep == "," || sep == ", "
		}
		badSep = badSep || !ok
	}
	if badSep {
		dev++
	}
	// Stray punctuation before the first or after the last item ("ANT,CAT.").
	if !extra && (locs[0][0] != 0 || locs[len(locs)-1][1] != len(body)) {
		dev++
	}
	return dev
}

// JudgeHelpfulness is a program rule for "would this answer serve the user": it attempts
// the question, directly and concisely. It does not look at the format (that is
// instruction following), and it only caps on correctness (a wrong answer helps at most
// partially), so the three dimensions can disagree:
//
//	0  no attempt: empty, a refusal ("I don't know"), or no answer-shaped content;
//	4  otherwise, minus 1 for filler or hedging ("Sure!", "I think", "Hope this helps"),
//	   minus 1 for verbosity (more than 12 characters longer than the reference answer);
//	   capped at 2 when the answer is not fully correct; at least 1 for an attempt.
func JudgeHelpfulness(m Meta, response string) int {
	s := strings.TrimSpace(response)
	if s == "" || refusalRE.MatchString(s) || !attempts(m, s) {
		return 0
	}
	h := 4
	if fillerRE.MatchString(s) {
		h--
	}
	if len(s) > len(Render(m.Type, m.Format, m.Expected))+12 {
		h--
	}
	if JudgeCorrectness(m, s) < 4 {
		h = min(h, 2)
	}
	return max(h, 1)
}

// attempts reports whether the response holds an answer of the right type.
func attempts(m Meta, s string) bool {
	switch m.Type {
	case Number:
		return integerRE.MatchString(s)
	case List:
		return len(listItems(m, s)) > 0
	case Word:
		for _, w := range wordRE.FindAllString(s, -1) {
			if !fillerRE.MatchString(w) && !strings.EqualFold(w, "answer") {
				return true
			}
		}
	}
	return false
}

// listItems returns the words of the response that are items of the question, lowercased.
func listItems(m Meta, s string) []string {
	var out []string
	for _, w := range wordRE.FindAllString(s, -1) {
		if isItem(m, w) {
			out = append(out, strings.ToLower(w))
		}
	}
	return out
}

func isItem(m Meta, w string) bool {
	for _, it := range m.Items {
		if strings.EqualFold(it, w) {
			return true
		}
	}
	return false
}

func sortedLetters(s string) string {
	b := []byte(s)
	sort.Slice(b, func(i, j int) bool { return b[i] < b[j] })
	return string(b)
}

func equalStrings(a, b []string) bool {
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

// lcs is the length of the longest common subsequence.
func lcs(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			switch {
			case a[i-1] == b[j-1]:
				cur[j] = prev[j-1] + 1
			default:
				cur[j] = max(prev[j], cur[j-1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
