// Package data is the data side of an AMoPO trainer: streaming loaders for preference
// data, the per-dimension prompt templates x*_k = f(x, d_k), and the tokenised,
// length-bucketed batches of 2*K sequences per pair that the loss consumes.
//
// Every loader produces the same in-memory record, a Pair: a prompt, the chosen and the
// rejected response, and each response's per-dimension scores d_k. Four input formats
// are read, as .jsonl or gzip-compressed .jsonl (detected by magic bytes, whatever the
// file name):
//
//   - helpsteer2: HelpSteer2's raw rows (prompt, response, helpfulness, correctness,
//     coherence, complexity, verbosity; integers 0-4), two responses per prompt in
//     adjacent rows, paired per dimension as MODPO does;
//   - helpsteer2-preference: HelpSteer2's preference file (split, prompt, response_1,
//     response_2, preference_strength in -3..3, negative preferring response_1);
//   - amopo: the AMoPO record, {"prompt", "chosen": {"response", DIM: score, ...},
//     "rejected": {...}}, with any set of dimensions;
//   - jsonl: any JSON-lines file, through a user-given column Mapping.
//
// A parquet file (the hub's auto-converted form of a data set) is read too, told by its
// "PAR1" magic bytes, through github.com/parquet-go/parquet-go (pure Go): its top-level
// scalar columns go through the same decoders, row numbers standing for line numbers.
//
// A bad row is an error that names the file, the line and the field:
// "FILE:LINE: FIELD: reason" (a *RowError). Options.SkipBad skips and counts such rows
// instead of stopping at the first.
package data
