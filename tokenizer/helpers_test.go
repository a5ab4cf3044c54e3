package tokenizer

import (
	"github.com/amopo-engine/amopo/tokenizer/internal/corpus"
	"golang.org/x/text/unicode/norm"
)

func nfc(s string) string { return norm.NFC.String(s) }

// generateCorpus is the oracle corpus (tokenizer/internal/corpus), which
// go run ./tokenizer/internal/writecorpus writes for the JavaScript benchmark.
func generateCorpus(n int) []string { return corpus.Generate(n) }
