package tokenizer

import "testing"

// Throughput on the oracle corpus, reported as MB/s of UTF-8 input. Compare
// with the JavaScript tokenizers on the same text:
//
//	go run ./tokenizer/internal/writecorpus -out /tmp/corpus.jsonl
//	node tokenizer/testdata/js/bench.js qwen /tmp/corpus.jsonl
//	go test ./tokenizer -run '^$' -bench Encode

func BenchmarkEncodeQwen(b *testing.B) { benchmarkEncode(b, loadQwen(b), true) }
func BenchmarkEncodeGPT2(b *testing.B) { benchmarkEncode(b, loadGPT2(b), true) }

// The cold variants empty the word cache before every pass over the corpus.
func BenchmarkEncodeQwenCold(b *testing.B) { benchmarkEncode(b, loadQwen(b), false) }
func BenchmarkEncodeGPT2Cold(b *testing.B) { benchmarkEncode(b, loadGPT2(b), false) }

func benchmarkEncode(b *testing.B, tok *Tokenizer, warm bool) {
	lines := generateCorpus(corpusLines)
	size := 0
	for _, l := range lines {
		size += len(l)
		tok.Encode(l) // warm up as bench.js does
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if !warm {
			tok.model.cache.reset()
		}
		for _, l := range lines {
			tok.Encode(l)
		}
	}
}
