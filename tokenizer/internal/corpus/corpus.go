// Package corpus generates the text the tokenizer is checked and timed on.
//
// # Why a generator
//
// The lines are built deterministically (fixed seed), so the Go tokenizer
// and the JavaScript oracles see exactly the same text without a
// megabyte-sized file in the repository.
package corpus

import (
	"bufio"
	"encoding/json"
	"io"
	"math/rand/v2"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

var (
	latinWords = strings.Fields(`the quick brown fox jumps over lazy dog when where because
		Straße Müller größer über Äpfel naïve café résumé déjà vu façade crème brûlée où
		señor niño mañana corazón pingüino São Paulo ação coração Kraków żółć źdźbło łódź
		Tiếng Việt người phở đường İstanbul ılık şeker ğüzel Ångström Øresund Þingvellir
		ça Œuvre ŒIL fjörður HELLO World CamelCase snake_case ALLCAPS x y z a I`)
	cyrillicWords = strings.Fields(`Привет мир съешь же ещё этих мягких французских булок
		да выпей чаю Москва Київ ґанок Беларусь ЁЛКА ёжик щука`)
	greekWords = strings.Fields(`Γειά σου κόσμε ξεσκεπάζω την ψυχοφθόρα βδελυγμία Αθήνα
		ΕΛΛΑΔΑ ἀρχή ὕδωρ φιλοσοφία`)
	cjkPhrases = strings.Fields(`你好世界 我爱自然语言处理 今天天气很好，我们去公园吧。
		机器学习模型 東京タワー こんにちは世界 カタカナとひらがな 漢字かな交じり文
		안녕하세요 세계 한국어 토크나이저 中文，日本語、한국어！ 「引用」『書名』`)
	arabicWords = strings.Fields(`مرحبا بالعالم اللغة العربية جميلة كِتَابٌ مُحَمَّد السَّلَامُ عَلَيْكُم
		שלום עולם עִבְרִית`)
	hindiWords = strings.Fields(`नमस्ते दुनिया हिन्दी भाषा क्षत्रिय ज्ञान प्रकृति संस्कृतम् বাংলা ภาษาไทย สวัสดี`)
	codeLines  = []string{
		"func main() {\n\tfmt.Println(\"hello\")\n}",
		"def f(x):\n    return x ** 2  # square\n",
		"for (let i = 0; i < n; i++) { sum += a[i]; }",
		"if err != nil {\r\n\t\treturn fmt.Errorf(\"read %s: %w\", path, err)\r\n\t}",
		"SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC;",
		"<div class=\"row\"><span id='x'>&nbsp;</span></div>",
		`{"key": [1, 2.5, -3e10, null, true], "nested": {"a": "b"}}`,
		"#include <stdio.h>\nint main(void){printf(\"%d\\n\", 42);}",
		"    x = [i*i for i in range(10) if i % 2 == 0]",
		"$ ls -la /usr/local/bin | grep -v '^d' && echo \"done\"",
		"a,,b,,,c;;d::e==f!==g=>h->i<<=j>>>k",
		"/* comment */ // another\t\t// tabs",
		"lambda x: x['key'] or x[\"other\"]",
		"std::vector<std::string> v{\"a\", \"b\"};",
		"@media (max-width: 600px) { .a { margin: 0 auto; } }",
	}
	emojis = []string{
		"😀", "🎉", "🚀", "❤️", "👍🏽", "👋🏿", "👨‍👩‍👧‍👦", "👩🏽‍💻", "🏳️‍🌈", "🇫🇷", "🇯🇵",
		"1️⃣", "☕", "✨", "🧑🏻‍🤝‍🧑🏾", "🤷‍♀️", "👁️‍🗨️", "🐈‍⬛", "©️", "™", "🫠",
	}
	numberFmts = []func(r *rand.Rand) string{
		func(r *rand.Rand) string { return itoa(r.Int64N(1_000_000_000_000)) },
		func(r *rand.Rand) string { return itoa(r.Int64N(1000)) + "." + itoa(r.Int64N(100000)) },
		func(r *rand.Rand) string { return "1,234,567.89" },
		func(r *rand.Rand) string { return "2024-0" + itoa(1+r.Int64N(9)) + "-1" + itoa(r.Int64N(10)) },
		func(r *rand.Rand) string {
			return "+1 (555) " + itoa(100+r.Int64N(900)) + "-" + itoa(1000+r.Int64N(9000))
		},
		func(r *rand.Rand) string { return "１２３４５" },
		func(r *rand.Rand) string { return "٠١٢٣٤٥٦٧٨٩" },
		func(r *rand.Rand) string { return "१२३४" },
		func(r *rand.Rand) string { return "x² + y³ = z¹⁰ ½ ¾ Ⅻ ⅷ ①②" },
		func(r *rand.Rand) string { return "v" + itoa(r.Int64N(10)) + "." + itoa(r.Int64N(30)) + ".0" },
		func(r *rand.Rand) string { return "0x" + strings.ToUpper(itoa(r.Int64N(1<<40))) + "ff" },
		func(r *rand.Rand) string {
			return "$" + itoa(r.Int64N(100)) + "k €" + itoa(r.Int64N(5000)) + " ¥" + itoa(r.Int64N(99))
		},
	}
	whitespace = []string{
		" ", "  ", "   ", "    ", "        ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r\n\r\n",
		" \n", "\n ", "  \n  ", "\t \t", "\u00a0", "\u3000", "\u2009", " \u00a0 ", "\r", "\v", "\f",
		"\u2028", "\u2003\u2003",
	}
	contractions = strings.Fields(`don't I'm they'll we've she'd it's IT'S DON'T We'Re You'LL
		y'all O'Reilly rock'n'roll 's 't 'll 're ''s '' l'homme aujourd'hui can’t it’s`)
	specials = []string{
		"<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>", "<tool_call>",
		"</tool_call>", "<|fim_prefix|>", "<|vision_pad|>", "<|im_start", "<|endoftext",
		"< |im_end|>", "<|im_start|><|im_start|>", "<|im_start|>user\n", "<|im_end|>\n",
		"<|<|endoftext|>|>", "<|im_start|>assistant\n<think>\n\n</think>\n\n",
	}
	// Blocks for random code points. Only long-assigned characters are kept
	// (see fuzzRune), so Go's and Node's Unicode tables agree on them.
	fuzzRanges = [][2]rune{
		{0x20, 0x7e}, {0xa0, 0x17e}, {0x180, 0x24f}, {0x250, 0x2af}, {0x300, 0x36f}, {0x370, 0x3ff},
		{0x400, 0x4ff}, {0x530, 0x58f}, {0x590, 0x5ff}, {0x600, 0x6ff}, {0x900, 0x97f},
		{0xe00, 0xe7f}, {0x10a0, 0x10ff}, {0x1e00, 0x1eff}, {0x2000, 0x206f}, {0x20a0, 0x20bf},
		{0x2100, 0x214f}, {0x2190, 0x21ff}, {0x2200, 0x22ff}, {0x2500, 0x257f}, {0x3000, 0x303f},
		{0x3040, 0x30ff}, {0x4e00, 0x9fff}, {0xac00, 0xd7a3}, {0xff00, 0xffef}, {0x1f300, 0x1f5ff},
		{0x1f600, 0x1f64f}, {0x1d400, 0x1d7ff},
	}
)

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// fuzzRune picks an assigned, stable code point. U+0085 and U+FEFF are left
// out: JavaScript's \s disagrees with Hugging Face's about them (see chars.go),
// and U+017F too, which Hugging Face's case-insensitive 's matches.
func fuzzRune(r *rand.Rand) rune {
	for {
		rg := fuzzRanges[r.IntN(len(fuzzRanges))]
		c := rg[0] + rune(r.IntN(int(rg[1]-rg[0]+1)))
		if c == 0x85 || c == 0xfeff || c == 0x17f {
			continue
		}
		if unicode.In(c, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z) {
			return c
		}
	}
}

func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

func words(r *rand.Rand, list []string, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(pick(r, []string{" ", " ", " ", ", ", ". ", "; ", " - ", "! ", "? ", "\n", "  "}))
		}
		b.WriteString(pick(r, list))
	}
	return b.String()
}

// fragment returns one piece of text of a randomly chosen kind.
func fragment(r *rand.Rand) string {
	switch r.IntN(14) {
	case 0, 1:
		s := words(r, latinWords, 1+r.IntN(12))
		if r.IntN(4) == 0 {
			s = norm.NFD.String(s) // decomposed accents exercise the NFC normalizer
		}
		return s
	case 2:
		return words(r, cyrillicWords, 1+r.IntN(8))
	case 3:
		return words(r, greekWords, 1+r.IntN(8))
	case 4:
		return words(r, cjkPhrases, 1+r.IntN(4))
	case 5:
		return words(r, arabicWords, 1+r.IntN(6))
	case 6:
		return words(r, hindiWords, 1+r.IntN(6))
	case 7:
		return pick(r, codeLines)
	case 8:
		var b strings.Builder
		for n := 1 + r.IntN(5); n > 0; n-- {
			b.WriteString(pick(r, emojis))
			if r.IntN(2) == 0 {
				b.WriteString(pick(r, []string{" ", "", "!", "a", "\u200d"}))
			}
		}
		return b.String()
	case 9:
		return numberFmts[r.IntN(len(numberFmts))](r)
	case 10:
		return words(r, contractions, 1+r.IntN(6))
	case 11:
		return pick(r, specials)
	case 12:
		var b strings.Builder
		for n := 1 + r.IntN(20); n > 0; n-- {
			b.WriteRune(fuzzRune(r))
		}
		return b.String()
	default:
		return pick(r, whitespace)
	}
}

// Lines is the size of the corpus the oracle tests and benchmarks use.
const Lines = 10000

// Generate returns n lines; each joins a few fragments with random
// whitespace, and some lines get leading/trailing whitespace, are long, or
// are empty.
func Generate(n int) []string {
	r := rand.New(rand.NewPCG(20240601, 7))
	lines := make([]string, n)
	for i := range lines {
		var b strings.Builder
		if r.IntN(10) == 0 {
			b.WriteString(pick(r, whitespace))
		}
		parts := 1 + r.IntN(5)
		if r.IntN(100) == 0 {
			parts = 60 // a long line
		}
		for p := 0; p < parts; p++ {
			if p > 0 {
				b.WriteString(pick(r, []string{" ", " ", " ", "", "\n", "\t", "  ", "\r\n"}))
			}
			b.WriteString(fragment(r))
		}
		if r.IntN(8) == 0 {
			b.WriteString(pick(r, whitespace))
		}
		if r.IntN(200) == 0 {
			b.Reset()
		}
		lines[i] = b.String()
	}
	return lines
}

// WriteJSONLines writes one JSON string per line, the format the node
// scripts in tokenizer/testdata/js read.
func WriteJSONLines(w io.Writer, lines []string) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			return err
		}
	}
	return bw.Flush()
}
