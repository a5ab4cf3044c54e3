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
//
// # The gate every dimension shares
//
// A response is judged only when it gives one answer to this question (Answer): exactly
// one value of the asked type, stated once, close enough to the question to be an attempt
// at it. Everything else scores 0 on every dimension: an empty answer, a refusal, an echo
// of the prompt, a hedge that lists several candidates, a repeated answer, and a
// placeholder written in the requested format ("ANSWER: 0", "X,X,X"). So no dimension
// rewards form alone.
//
// # The dimensions
//
// Past the gate each dimension has rules of its own, and they disagree: "ANSWER: 41" for
// 42 obeys the format and is direct (instruction following 4, helpfulness 4) but wrong
// (correctness 2); "The answer is 42." is right but ignores the format and pads.
//
//	correctness:           the value (JudgeCorrectness);
//	instruction following: the requested format (JudgeInstructionFollowing);
//	helpfulness:           a direct, complete, unpadded answer (JudgeHelpfulness).
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

// frameWords are the words a response may wrap its answer in ("The answer is 42.", "Sure!
// I think ..."): they are not candidate answers. Other words are.
var frameWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields("the answer is it its this here a an word result sure of course certainly " +
		"i think hope helps maybe probably great question happy to help") {
		frameWords[w] = true
	}
}

// Answer is what the shared gate reads from a response.
type Answer struct {
	// Values are the candidate answers in order: the integers (number questions), the
	// words that are not frame words (word questions), the question's items named (list
	// questions), lowercased.
	Values []string
	// Extra is set when the response has words that are neither frame words nor
	// candidates (list questions: words that are not items).
	Extra bool
	// One is the gate: a single answer, stated once, that is an attempt at this question.
	One bool
}

// ReadAnswer reads a response for the gate.
func ReadAnswer(m Meta, response string) Answer {
	s := strings.TrimSpace(response)
	var a Answer
	if s == "" || refusalRE.MatchString(s) {
		return a
	}
	switch m.Type {
	case Number:
		a.Values = integerRE.FindAllString(s, -1)
		a.Extra = len(contentWords(s)) > 0
		a.One = len(a.Values) == 1 && nearNumber(m, a.Values[0])
	case Word:
		a.Values = contentWords(s)
		a.One = len(a.Values) == 1 && sortedLetters(a.Values[0]) == sortedLetters(strings.ToLower(m.Expected[0]))
	case List:
		seen := map[string]bool{}
		repeated := false
		for _, w := range contentWords(s) {
			if !isItem(m, w) {
				a.Extra = true
				continue
			}
			repeated = repeated || seen[w]
			seen[w] = true
			a.Values = append(a.Values, w)
		}
		// An attempt names all but at most one of the items, each once, and nothing else
		// that could be an answer: an echo of the question names other words.
		a.One = !repeated && !a.Extra && len(a.Values) >= len(m.Expected)-1 && len(a.Values) > 0 &&
			!integerRE.MatchString(s)
	}
	return a
}

// contentWords are the response's words that are not frame words, lowercased.
func contentWords(s string) []string {
	var out []string
	for _, w := range wordRE.FindAllString(s, -1) {
		if w = strings.ToLower(w); !frameWords[w] {
			out = append(out, w)
		}
	}
	return out
}

// nearNumber reports whether got is close enough to the expected value to be an attempt
// at this question: within max(1, |expected|/5). A constant placeholder is not.
func nearNumber(m Meta, got string) bool {
	g, err1 := strconv.Atoi(got)
	w, err2 := strconv.Atoi(m.Expected[0])
	if err1 != nil || err2 != nil {
		return false
	}
	return abs(g-w) <= max(1, abs(w)/5)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// JudgeCorrectness scores the value, whatever the format (0 past the gate):
//
//	number: 4 right, 2 off by one (a slip), 1 further but within the gate's window;
//	word:   4 the asked word, 1 the same letters in another order (the gate's window);
//	list:   4 the items exactly, in order; otherwise floor(3 * LCS / n), at most 3 (LCS:
//	        the longest run of items in the right relative order, n: the answer's length).
func JudgeCorrectness(m Meta, response string) int {
	a := ReadAnswer(m, response)
	if !a.One {
		return 0
	}
	switch m.Type {
	case Number:
		g, _ := strconv.Atoi(a.Values[0])
		w, _ := strconv.Atoi(m.Expected[0])
		switch abs(g - w) {
		case 0:
			return 4
		case 1:
			return 2
		}
		return 1
	case Word:
		if a.Values[0] == strings.ToLower(m.Expected[0]) {
			return 4
		}
		return 1
	case List:
		if equalStrings(a.Values, m.Expected) {
			return 4
		}
		return min(3, 3*lcs(a.Values, m.Expected)/len(m.Expected))
	}
	return 0
}

// JudgeInstructionFollowing scores the requested format, whatever the value (0 past the
// gate). It starts at 4 and takes off per deviation, never below 0:
//
//	-2 the ANSWER: prefix is missing, or text comes before it (tagged formats);
//	-1 the prefix is malformed ("answer:", "ANSWER:42"), or given when not asked for;
//	-2 extra text besides the answer (a sentence, filler);
//	-1 trailing punctuation ("42.");
//	-1 the wrong case (uppercase or lowercase asked for);
//	-1 the wrong separator between list items.
func JudgeInstructionFollowing(m Meta, response string) int {
	if !ReadAnswer(m, response).One {
		return 0
	}
	s := strings.TrimSpace(response)
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
		shape = judgeShape(body, bareNumRE, numPunctRE)
	case Word:
		shape = judgeShape(body, bareWordRE, wordPunctRE)
		// Case is judged on a lone word only: with extra text around it the first word
		// need not be the answer, and the extra text is already paid for.
		if shape < 2 && m.Format == Upper {
			if w := wordRE.FindString(body); w != strings.ToUpper(w) {
				shape++
			}
		}
	case List:
		shape = judgeListShape(m, body)
	}
	return max(0, 4-dev-shape)
}

// judgeShape returns the deviations of a single-token answer that passed the gate: 0
// exact, 1 trailing punctuation, 2 extra text.
func judgeShape(body string, exact, punct *regexp.Regexp) int {
	switch {
	case exact.MatchString(body):
		return 0
	case punct.MatchString(body):
		return 1
	}
	return 2
}

// judgeListShape returns the deviations of a list answer that passed the gate.
func judgeListShape(m Meta, body string) int {
	locs := wordRE.FindAllStringIndex(body, -1)
	extra, badCase := false, false
	for _, l := range locs {
		w := body[l[0]:l[1]]
		if !isItem(m, w) {
			extra = true
			continue
		}
		if (m.Format == CSVUpper && w != strings.ToUpper(w)) || (m.Format == SpaceLower && w != strings.ToLower(w)) {
			badCase = true
		}
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
	if !extra && len(locs) > 0 && (locs[0][0] != 0 || locs[len(locs)-1][1] != len(body)) {
		dev++
	}
	return dev
}

// JudgeHelpfulness scores what a user gets from the answer, on rules of its own: not the
// value (correctness) nor the format (instruction following). Past the gate it starts at
// 4 and takes off, never below 1:
//
//	-1 filler or hedging ("Sure!", "I think", "Hope this helps");
//	-1 padding: more than 12 characters longer than the reference answer;
//	-1 incomplete: a list answer that leaves an item out.
func JudgeHelpfulness(m Meta, response string) int {
	a := ReadAnswer(m, response)
	if !a.One {
		return 0
	}
	s := strings.TrimSpace(response)
	h := 4
	if fillerRE.MatchString(s) {
		h--
	}
	if len(s) > len(Render(m.Type, m.Format, m.Expected))+12 {
		h--
	}
	if m.Type == List && len(a.Values) < len(m.Expected) {
		h--
	}
	return max(h, 1)
}

// isItem reports whether w is one of a list question's items.
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
