package trainer

// Tokenizer is what the trainer needs of a tokenizer to generate and read answers: the
// byte-level one (tokenizer.Bytes) and the Hugging Face ones (tokenizer.Tokenizer, through
// the recipe's adapter) both provide it.
type Tokenizer interface {
	Encode(text string) []int
	// Decode turns ids into text; special tokens may decode to nothing.
	Decode(ids []int) string
	VocabSize() int
	// EOS ends every response; Pad fills the unused positions of a batch.
	EOS() int
	Pad() int
}
