// Package recipe is the job of cmd/train, written as stage functions that read top to
// bottom like nanoGPT's train.py (Job.Train):
//
//	plan := Resolve(cfg)       // config -> model, tokenizer, data, stages, loss (refusing keys that cannot apply)
//	job := Load(plan)          // backend, weights (preset init or model.dir), encoded data, the run
//	job.SFT()                  // chosen responses under the general template (sft.steps 0 skips it)
//	job.EvaluateAfterSFT()     // greedy answers: judged (built-in task) or printed (files)
//	job.OnPolicyPairs()        // the built-in task: samples of the SFT model, judged and paired
//	job.Preference(pairs)      // the preference loss, held-out eval_ metrics per dimension
//	job.Evaluate("after ...")
//	job.Export()               // Hugging Face folder with the tokenizer files and chat template
//
// # Data sources
//
// Every data.format is one source behind the same interface (data.go): the built-in
// verifiable task, whose program judges score answers and make on-policy pairs, and the
// file formats (helpsteer2, helpsteer2-preference, amopo, mapped), evaluated on held-out
// pairs. A key that belongs to another source than the chosen one is refused with the
// reason; TestEveryKeyChangesThePlanOrIsRefused holds every key to that.
//
// # Tokenizers
//
// The byte-level tokenizer (data.format builtin, and exports of such runs), or a
// Hugging Face folder (tokenizer.json or GPT-2 files, with tokenizer_config.json's
// special tokens and ChatML template), from data.tokenizer or model.dir.
package recipe
