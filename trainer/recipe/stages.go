package recipe

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/amopo-engine/amopo/trainer"
)

// judgeMaxNewTokens bounds the greedy answers of each evaluation point.
const judgeMaxNewTokens = 32

// SFT trains on the chosen responses under the first (general) template; sft.steps 0
// skips it (the usual choice when starting from an instruct model).
func (j *Job) SFT() error {
	p := j.Plan
	if p.SFT.Steps == 0 {
		return nil
	}
	src, err := trainer.NewSFTSource(j.TrainEx, data.BatchConfig{BatchSize: p.SFT.BatchSize, Seed: p.Seed}, j.pad)
	if err != nil {
		return fmt.Errorf("sft: %w", err)
	}
	return j.Run.RunStage(trainer.Stage{Name: "sft", Kind: trainer.SFTStep, Config: p.SFT, Train: src})
}

// sftPoint names the evaluation point before the preference stage.
func (j *Job) sftPoint() string {
	if j.Plan.SFT.Steps == 0 {
		return "start"
	}
	return "after SFT"
}

// EvaluateAfterSFT evaluates the model the preference stage starts from, unless the run
// resumed past it (that evaluation is in the interrupted run's log and metrics).
func (j *Job) EvaluateAfterSFT() error {
	j.sftDone = j.Run.DoneBeforeResume("sft")
	if j.sftDone {
		fmt.Fprintf(j.Log, "%s: judged before the checkpoint (see metrics.jsonl)\n", j.sftPoint())
		return nil
	}
	return j.Evaluate(j.sftPoint())
}

// OnPolicyPairs samples on_policy.samples answers per fresh prompt from the SFT model,
// judges them and pairs the best with the worst (SimPO's recipe), saving them in out_dir;
// when the run resumed past SFT (the model is no longer the SFT one) it reads them back.
// Data without judges have none.
func (j *Job) OnPolicyPairs() ([]data.Pair, error) {
	p := j.Plan
	if p.Data.Judged == nil || p.OnPolicy.Prompts == 0 {
		return nil, nil
	}
	path := filepath.Join(p.OutDir, "onpolicy-pairs.jsonl")
	if j.sftDone {
		pairs, err := trainer.ReadPairs(path)
		if err != nil {
			return nil, fmt.Errorf("resume: the on-policy pairs of the interrupted run: %w", err)
		}
		fmt.Fprintf(j.Log, "on-policy: %d pairs read back from %s\n", len(pairs), path)
		return pairs, nil
	}
	t0 := time.Now()
	items, err := OnPolicyPrompts(p.Seed, p.OnPolicy.Prompts, p.Data.Judged)
	if err != nil {
		return nil, err
	}
	pairs, skipped, err := SampleOnPolicyPairs(j.Backend, j.ModelCtx, p.Model, j.Encoder, j.Tok, items, p.OnPolicy, p.Seed)
	if err != nil {
		return nil, err
	}
	if err := trainer.WritePairs(path, pairs); err != nil {
		return nil, err
	}
	fmt.Fprintf(j.Log, "on-policy: %d pairs from %d prompts x %d samples (%d skipped: tied samples) in %.0f s, saved to %s\n",
		len(pairs), len(items), p.OnPolicy.Samples, skipped, time.Since(t0).Seconds(), path)
	return pairs, nil
}

// Preference trains the preference loss on the data's pairs plus the on-policy ones,
// evaluating on the held-out pairs every eval_every steps and at the end.
func (j *Job) Preference(onPolicy []data.Pair) error {
	p := j.Plan
	var prefEx []data.Example
	if p.Pref.Steps > 0 {
		onEx, err := j.Encoder.EncodeAll(onPolicy)
		if err != nil {
			return fmt.Errorf("on-policy %w", err)
		}
		prefEx = append(append([]data.Example(nil), j.TrainEx[:len(p.Data.Preference)]...), onEx...)
	}
	var train, eval trainer.Source
	var err error
	if p.Pref.Steps > 0 {
		if train, err = trainer.NewPairSource(prefEx, data.BatchConfig{BatchSize: p.Pref.BatchSize, Seed: p.Seed + 1}, j.pad); err != nil {
			return fmt.Errorf("preference: %w", err)
		}
		if len(j.EvalEx) > 0 {
			if eval, err = trainer.NewPairSource(j.EvalEx, data.BatchConfig{BatchSize: p.Pref.BatchSize, Seed: p.Seed + 2}, j.pad); err != nil {
				return fmt.Errorf("eval: %w", err)
			}
		}
	}
	if p.Pref.Steps > 0 && p.Loss.Loss.NeedsReference() {
		if err := j.attachReferences(train.(*trainer.PairSource), eval); err != nil {
			return err
		}
	}
	return j.Run.RunStage(trainer.Stage{Name: "preference", Kind: trainer.PreferenceStep, Config: p.Pref, Params: p.Loss,
		Train: train, Eval: eval, EvalEvery: p.EvalEvery, OnMetrics: j.record})
}

// references are the reference model's summed log-probs of the preference and held-out
// pairs, as saved in out_dir.
type references struct {
	Train [][]float32 `json:"train"`
	Eval  [][]float32 `json:"eval"`
}

// attachReferences gives the losses that need a reference model (DPO, Cal-DPO) the
// summed log-probs of the model the preference stage starts from, computed once and
// saved in out_dir; a run resumed past SFT (whose model is no longer the reference)
// reads them back.
func (j *Job) attachReferences(train *trainer.PairSource, eval trainer.Source) error {
	path := filepath.Join(j.Plan.OutDir, "reference-logps.json")
	var refs references
	if j.sftDone {
		text, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("resume: the reference log-probs of the interrupted run: %w", err)
		}
		if err := json.Unmarshal(text, &refs); err != nil {
			return fmt.Errorf("resume: %s: %w", path, err)
		}
	} else {
		batch := max(j.Plan.Pref.BatchSize, 8)
		var err error
		if refs.Train, err = trainer.ReferenceSums(j.Backend, j.Ctx, j.Plan.Model, train.Examples, j.pad, batch); err != nil {
			return err
		}
		if refs.Eval, err = trainer.ReferenceSums(j.Backend, j.Ctx, j.Plan.Model, j.EvalEx, j.pad, batch); err != nil {
			return err
		}
		text, err := json.Marshal(refs)
		if err != nil {
			return err
		}
		if err := trainer.WriteFileAtomic(path, text); err != nil {
			return err
		}
		fmt.Fprintf(j.Log, "reference log-probs of %d preference and %d held-out pairs saved to %s\n", len(refs.Train), len(refs.Eval), path)
	}
	if err := train.SetReferences(refs.Train); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if eval != nil {
		if err := eval.(*trainer.PairSource).SetReferences(refs.Eval); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// record keeps the preference stage's metrics in the report.
func (j *Job) record(_ int, m map[string]float64) {
	if _, ok := m["eval_loss"]; ok {
		j.Report.Eval = m
		return
	}
	j.Report.Preference = append(j.Report.Preference, m)
}

// Evaluate answers the held-out prompts greedily: with the built-in task's judges it
// scores every answer and logs the means; for data without judges it prints a few
// answers to look at. The answers go to out_dir/answers-<point>.jsonl.
func (j *Job) Evaluate(point string) error {
	p := j.Plan
	if len(p.Data.Prompts) == 0 {
		return nil
	}
	t0 := time.Now()
	answers, err := trainer.Answers(j.Backend, j.ModelCtx, p.Model, j.Encoder, j.Tok, p.Data.Prompts,
		trainer.Sampling{MaxNewTokens: judgeMaxNewTokens})
	if err != nil {
		return fmt.Errorf("%s: %w", point, err)
	}
	j.Report.Samples[point] = answers
	var per []data.Scores
	if p.Data.Judged != nil {
		var scores JudgeScores
		scores, per = JudgeAnswers(p.Data.Judged, answers)
		j.Report.Judge[point], j.Report.JudgeItems[point] = scores, per
		j.Report.Dimensions = judgeDimensions()
		fmt.Fprintf(j.Log, "%s: judge scores %s (e.g. %q -> %q) [%d prompts in %.0f s]\n", point, formatScores(j.Report.Dimensions, scores),
			p.Data.Prompts[0], answers[0], len(answers), time.Since(t0).Seconds())
	} else {
		for i, a := range answers {
			fmt.Fprintf(j.Log, "%s: sample %d: %q -> %q\n", point, i+1, p.Data.Prompts[i], a)
		}
	}
	if err := j.writeAnswers(filepath.Join(p.OutDir, "answers-"+strings.ReplaceAll(point, " ", "-")+".jsonl"), answers, per); err != nil {
		return err
	}
	if per == nil {
		return nil
	}
	row := map[string]float64{}
	for d, s := range j.Report.Judge[point] {
		row["judge/"+d] = s
	}
	return j.Run.LogMetrics(point+"_judge", 0, row)
}

// PrintJudgeTable prints the judge scores of the evaluation points side by side, with
// the change from the first to the last (built-in task only).
func (j *Job) PrintJudgeTable() {
	var names []string
	var rows []JudgeScores
	for _, n := range []string{j.sftPoint(), "after " + string(j.Plan.Loss.Loss)} {
		if sc, ok := j.Report.Judge[n]; ok {
			names, rows = append(names, n), append(rows, sc)
		}
	}
	if len(names) == 0 {
		return
	}
	printJudgeTable(j.Log, j.Report.Dimensions, names, rows, j.Report.JudgeItems[names[0]], j.Report.JudgeItems[names[len(names)-1]])
}

// Export writes the model in Hugging Face layout to out_dir/model, in the compute dtype,
// with the tokenizer files and chat template it was trained with, so that transformers
// reads the folder as a whole (AutoTokenizer + AutoModelForCausalLM, apply_chat_template).
func (j *Job) Export() error {
	dir := filepath.Join(j.Plan.OutDir, "model")
	if err := llm.Save(j.ModelCtx, j.Plan.Model, dir).DType(j.DType).SpecialTokens(j.Tok.BOSOrNone(), j.Tok.EOS(), j.Tok.Pad()).Done(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := j.Tok.save(dir, j.Plan.MaxLength); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(j.Log, "exported the model, its tokenizer and chat template in Hugging Face layout to %s; metrics in %s\n", dir, j.Run.MetricsPath())
	return nil
}

// writeAnswers saves the held-out prompts, the text the model read (the chat-formatted
// prompt, cut if longer than data.max_prompt_length; BOS not shown), the generated answers
// and, with judges, the reference and the scores, so that a person can read what the
// scores mean and reproduce them elsewhere (cmd/train/check_export.py).
func (j *Job) writeAnswers(path string, answers []string, scores []data.Scores) error {
	var b strings.Builder
	for i, prompt := range j.Plan.Data.Prompts {
		ids, err := j.Encoder.EncodePrompt(prompt, nil, 0)
		if err != nil {
			return err
		}
		input := make([]int, 0, len(ids))
		for k, id := range ids {
			if k == 0 && j.Tok.AddBOS && int(id) == j.Tok.BOS {
				continue
			}
			input = append(input, int(id))
		}
		row := map[string]any{"prompt": prompt, "input": j.Tok.Decode(input), "answer": answers[i]}
		if scores != nil {
			row["reference"], row["scores"] = j.Plan.Data.Judged[i].Reference, scores[i]
		}
		line, err := json.Marshal(row)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return trainer.WriteFileAtomic(path, []byte(b.String()))
}

func formatScores(dims []string, s JudgeScores) string {
	out := ""
	for _, d := range dims {
		out += fmt.Sprintf("%s %.2f  ", d, s[d])
	}
	return out
}
