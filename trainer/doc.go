// Package trainer is the generic training loop of the engine: stages, the step graph,
// the optimizer, checkpoints, batch sources and metrics. It knows nothing of a data set
// or a tokenizer format: trainer/recipe is the job built on it (load, SFT, on-policy
// pairs, preference, evaluate, export), which cmd/train and experiment/ run.
//
// # The loop
//
// A Run holds the backend, the model's variables and out_dir. Run.RunStage trains one
// Stage over a Source (batches addressed by (epoch, index), so a resumed run sees the
// very batches it would have seen), logs TRL-named metrics to metrics.jsonl, hands each
// step's metrics and each held-out evaluation's to Stage.OnMetrics, and saves atomic
// checkpoints (every checkpoint_every steps, at a stage's end, on Ctrl-C). Run.Resume
// continues bit-exactly from the latest one.
//
// # Why its own AdamW
//
// The optimizer (optim.go) is AdamW written as graph code rather than GoMLX's
// optimizers.Adam, for what GoMLX v0.26's does not do:
//   - clipping by the global norm of all gradients (PyTorch's clip_grad_norm_, what TRL
//     and the paper's recipe use); GoMLX clips each update by value only;
//   - float32 master weights and moments under bf16 compute (model.dtype bf16): GoMLX's
//     Adam updates a variable in its own dtype, and bf16 weights lose every update
//     below 1/256 of their size (TestMixedPrecisionKeepsSmallUpdates);
//   - the cosine schedule with linear warm-up of the host (LearningRate), checked
//     against the graph's, and gradient accumulation over micro-steps within one
//     optimizer step (TestGradientAccumulationEqualsOneBigBatch).
//
// # Memory: steps split by sequences
//
// A stage's micro_sequences (StageConfig.MicroSequences, Stepper.SplitSequences) computes
// a micro-batch's gradient a few sequences at a time, so that the model's activations
// exist for those only, not for the B·K·2 sequences of a preference batch. It is exact,
// not an approximation: every loss here is a function of the per-token log-probs (the
// Gaussian weights carry no gradient), so dL/dθ = Σ_n Σ_t dL/dlogp[n,t] · dlogp[n,t]/dθ;
// the step takes the log-probs forward only, dL/dlogp from the loss graph, then the
// gradient of Σ logp·dL/dlogp group by group into the accumulators (seqsplit.go). It costs
// one more forward pass over the batch and a parameter-sized accumulator.
//
// # Backends and tokenizers
//
// The trainer runs on the backend its caller picked (engine/backend) and reads text
// through the Tokenizer interface (tokenizer.Bytes-like or Hugging Face tokenizers).
package trainer
