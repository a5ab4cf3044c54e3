// Package tokenizer is a pure-Go byte-level BPE tokenizer for the models the
// engine trains: it reads a Hugging Face tokenizer.json (Qwen2/Qwen3, Llama-3
// style split regex, GPT-2 style ByteLevel) or GPT-2's vocab.json + merges.txt,
// and renders ChatML chat templates from tokenizer_config.json.
//
// Encoding follows the Hugging Face pipeline: added tokens (such as
// <|im_start|>) are found in the raw text first, the rest is normalized
// (NFC when the file asks for it), split by a hand-written pre-tokenizer
// (Go's regexp has no lookahead, which the split patterns need), mapped to
// bytes and merged by BPE rank. Encode adds no BOS/EOS: the caller decides.
package tokenizer
