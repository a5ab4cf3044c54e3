package recipe

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/data/task"
	"github.com/amopo-engine/amopo/trainer"
)

// Dataset is what a data source gives the recipe; the stages see nothing else of it.
type Dataset struct {
	// Name says where the data come from, for the log.
	Name string
	// Templates are the K dimension templates (the loss's K axis).
	Templates data.Templates
	// Train are the SFT data: the chosen responses under the first template.
	Train []data.Pair
	// Preference are the preference pairs (the on-policy ones are added to them): a
	// prefix of Train, whose encoding they share.
	Preference []data.Pair
	// Eval are the held-out pairs: eval_ loss, accuracies and margins per dimension.
	Eval []data.Pair
	// Prompts are held-out prompts answered greedily at each evaluation point.
	Prompts []string
	// SkipBadRows is data.skip_bad_rows: bad rows of the files were skipped (and
	// counted in Notes) rather than stopping the run.
	SkipBadRows bool `json:",omitempty"`
	// Judged are the built-in task's held-out items, whose answers programs judge (and
	// from which on-policy pairs are built); nil for data without judges.
	Judged []task.Item `json:"-"`
	// Notes are lines for the log (rows skipped, pairs per dimension).
	Notes []string `json:"-"`
}

// source is one data.format: how its data load, and the keys it refuses.
type source struct {
	load func(cfg trainer.Config) (*Dataset, error)
	// only lists the keys (key path -> the field) this format needs at their default:
	// they belong to other formats.
	only func(c *trainer.DataConfig, o *trainer.OnPolicyConfig) map[string]any
	why  string
}

// builtinKeys are the built-in task's keys; fileKeys the data files'.
func builtinKeys(c *trainer.DataConfig, o *trainer.OnPolicyConfig) map[string]any {
	return map[string]any{"data.train_size": c.TrainSize, "data.generator_pairs": c.GeneratorPairs,
		"data.eval_size": c.EvalSize, "on_policy.prompts": o.Prompts, "on_policy.samples": o.Samples,
		"on_policy.temperature": o.Temperature, "on_policy.top_k": o.TopK, "on_policy.max_new_tokens": o.MaxNewTokens}
}

func fileKeys(c *trainer.DataConfig, _ *trainer.OnPolicyConfig) map[string]any {
	return map[string]any{"data.train": c.Train, "data.eval": c.Eval, "data.templates": c.Templates,
		"data.skip_bad_rows": c.SkipBadRows, "data.mapping": c.Mapping}
}

// sources are the data formats of data.format.
var sources = map[string]source{
	"builtin": {load: builtinData, only: fileKeys,
		why: "it applies to data files (data.format helpsteer2, helpsteer2-preference, amopo, mapped), not to the built-in task"},
	"helpsteer2":            fileSource(data.HelpSteer2),
	"helpsteer2-preference": fileSource(data.HelpSteer2Preference),
	"amopo":                 fileSource(data.AMoPO),
	"mapped":                fileSource(data.JSONL),
}

func fileSource(f data.Format) source {
	return source{load: func(cfg trainer.Config) (*Dataset, error) { return fileData(f, cfg) }, only: builtinKeys,
		why: "it applies to the built-in task (data.format builtin), whose program judges make on-policy pairs; these files have no judge"}
}

func sourceNames() string {
	names := make([]string, 0, len(sources))
	for n := range sources {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// refuse names the first key set away from its default that this format does not use.
func (s source) refuse(cfg trainer.Config) error {
	def := trainer.Defaults()
	got, want := s.only(&cfg.Data, &cfg.OnPolicy), s.only(&def.Data, &def.OnPolicy)
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !reflect.DeepEqual(got[k], want[k]) {
			return fmt.Errorf("%s: %s", k, s.why)
		}
	}
	if cfg.Data.Format != "mapped" && cfg.Data.Mapping != "" {
		return fmt.Errorf("data.mapping: it applies to data.format mapped only")
	}
	return nil
}

// builtinData generates the built-in verifiable task: its training pairs (of which the
// first data.generator_pairs are preference pairs), held-out pairs and held-out items
// with their judges, and its short templates.
func builtinData(cfg trainer.Config) (*Dataset, error) {
	ds, err := task.Generate(task.Config{Seed: cfg.Seed, Train: cfg.Data.TrainSize, Eval: cfg.Data.EvalSize})
	if err != nil {
		return nil, err
	}
	pref := ds.Train
	if n := cfg.Data.GeneratorPairs; n > 0 && n < len(pref) {
		pref = pref[:n]
	}
	return &Dataset{Name: "built-in task", Templates: task.Templates(), Train: ds.Train, Preference: pref,
		Eval: ds.EvalPairs, Prompts: Prompts(ds.Eval), Judged: ds.Eval}, nil
}

// helpSteer2Dimensions are the dimensions of HelpSteer2's K = 4 default templates (with
// the general one): the paper's three, with coherence in place of instruction following,
// which is no HelpSteer2 column (the paper's scores came from a GPT-4o judge).
var helpSteer2Dimensions = []string{"helpfulness", "correctness", "coherence"}

// fileData reads data.train and data.eval in one format. The templates are
// data.templates; else, for HelpSteer2, the authors' general template and their
// dimension template for helpfulness, correctness and coherence (K = 4); else the
// general template plus one per dimension of the data (HelpSteer2's preference file
// has none: K = 1).
func fileData(f data.Format, cfg trainer.Config) (*Dataset, error) {
	dc := cfg.Data
	if len(dc.Train) == 0 {
		return nil, fmt.Errorf("data.train: no file given for data.format %s", dc.Format)
	}
	opts := data.Options{Format: f, SkipBad: dc.SkipBadRows}
	if f == data.JSONL {
		if dc.Mapping == "" {
			return nil, fmt.Errorf("data.mapping: data.format mapped needs the columns (prompt=COL,chosen=COL,rejected=COL,...)")
		}
		m, err := data.ParseMapping(dc.Mapping)
		if err != nil {
			return nil, fmt.Errorf("data.mapping: %w", err)
		}
		opts.Mapping = m
	}
	ds := &Dataset{Name: fmt.Sprintf("%s files %s", dc.Format, strings.Join(dc.Train, ", ")), SkipBadRows: dc.SkipBadRows}
	read := func(key string, files []string, split string) ([]data.Pair, error) {
		o := opts
		if f == data.HelpSteer2Preference {
			o.Split = split // one preference file holds both splits
		}
		pairs, st, err := data.Load(files, o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		if len(pairs) == 0 {
			return nil, fmt.Errorf("%s: no pair in %s (%d rows read)", key, strings.Join(files, ", "), st.Rows)
		}
		ds.Notes = append(ds.Notes, fmt.Sprintf("%s: %d pairs from %d rows (%d bad rows skipped), per dimension %v",
			key, len(pairs), st.Rows, st.BadRows, st.PairsByDimension))
		return pairs, nil
	}
	var err error
	if ds.Train, err = read("data.train", dc.Train, "train"); err != nil {
		return nil, err
	}
	ds.Preference = ds.Train
	if len(dc.Eval) > 0 {
		if ds.Eval, err = read("data.eval", dc.Eval, "validation"); err != nil {
			return nil, err
		}
		for i := 0; i < len(ds.Eval) && len(ds.Prompts) < samplePrompts; i++ {
			if i == 0 || ds.Eval[i].Prompt != ds.Eval[i-1].Prompt {
				ds.Prompts = append(ds.Prompts, ds.Eval[i].Prompt)
			}
		}
	} else {
		ds.Notes = append(ds.Notes, "data.eval: no held-out file: no eval_ metrics, no samples")
	}
	switch {
	case dc.Templates != "":
		if ds.Templates, err = data.LoadTemplates(dc.Templates); err != nil {
			return nil, fmt.Errorf("data.templates: %w", err)
		}
	case f == data.HelpSteer2:
		ds.Templates = dimensionTemplates(helpSteer2Dimensions)
	default:
		ds.Templates = dimensionTemplates(ds.Train[0].Chosen.Scores.Names())
	}
	return ds, nil
}

// samplePrompts is how many held-out prompts are answered greedily at each evaluation
// point of data without judges: a few, for a person to look at.
const samplePrompts = 3

// dimensionTemplates are the authors' general template plus their dimension template
// for each dimension.
func dimensionTemplates(dims []string) data.Templates {
	def := data.DefaultTemplates()
	ts := data.Templates{def[0]}
	for _, d := range dims {
		ts = append(ts, data.Template{Name: d, Template: def[1].Template})
	}
	return ts
}
