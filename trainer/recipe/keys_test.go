package recipe

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/amopo-engine/amopo/data"
	"github.com/amopo-engine/amopo/gomlx/llm"
	"github.com/amopo-engine/amopo/trainer"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
)

// configKey is one key of trainer.Config: its path (as the flag) and its field.
type configKey struct {
	path  string
	index []int
}

// configKeys lists every key of the config as BindFlags does: one per leaf field.
func configKeys(t reflect.Type, prefix string, index []int) []configKey {
	var out []configKey
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := strings.Split(f.Tag.Get("json"), ",")[0]
		if key == "" || key == "-" {
			continue
		}
		idx := append(append([]int(nil), index...), i)
		if f.Type.Kind() == reflect.Struct {
			out = append(out, configKeys(f.Type, prefix+key+".", idx)...)
			continue
		}
		out = append(out, configKey{path: prefix + key, index: idx})
	}
	return out
}

// TestEveryKeyChangesThePlanOrIsRefused walks every key of the config: set away from
// its default, each must either be refused by Resolve (with a reason) or change the
// resolved plan, on the built-in task and on data files. A key added to the config and
// read by nothing leaves the plan unchanged and fails this test.
func TestEveryKeyChangesThePlanOrIsRefused(t *testing.T) {
	dir := t.TempDir()
	modelDir := filepath.Join(dir, "model")
	{
		cfg, err := trainer.PresetConfig("tiny", data.ByteVocabSize)
		require.NoError(t, err)
		cfg.HiddenSize, cfg.IntermediateSize, cfg.NumLayers = 32, 64, 1
		ctx := context.New().In("model")
		require.NoError(t, llm.InitRandom(ctx, cfg, 1, dtypes.Float32))
		require.NoError(t, llm.Save(ctx, cfg, modelDir).Done())
		require.NoError(t, data.ByteTokenizer{}.SaveHF(modelDir, 96))
	}
	train, other := filepath.Join(dir, "train.jsonl.gz"), filepath.Join(dir, "more.jsonl.gz")
	writeGzipLines(t, train, helpSteer2Rows(4, []string{"helpfulness", "correctness", "coherence"}))
	writeGzipLines(t, other, helpSteer2Rows(2, []string{"helpfulness"}))
	templates := filepath.Join(dir, "templates.json")
	require.NoError(t, os.WriteFile(templates, []byte(`[{"name": "general", "template": "{prompt}"}]`), 0o644))

	// A value away from the default, per kind; a few keys need a meaningful one.
	special := map[string]any{
		"backend": "webgpu", "out_dir": "elsewhere", "model.preset": "small", "model.dir": modelDir,
		"model.dtype": "bf16", "data.format": "amopo", "data.tokenizer": modelDir, "data.templates": templates,
		"data.mapping": "prompt=p,chosen=c,rejected=r", "data.train": []string{train, other}, "data.eval": []string{other},
		"loss.name": "simpo", "loss.policy": "uniform", "loss.weights": []float64{1, 2, 3, 4},
	}
	changed := func(key string, v reflect.Value) {
		if s, ok := special[key]; ok {
			v.Set(reflect.ValueOf(s))
			return
		}
		switch v.Kind() {
		case reflect.Bool:
			v.SetBool(!v.Bool())
		case reflect.Int:
			v.SetInt(v.Int() + 1)
		case reflect.Uint64:
			v.SetUint(v.Uint() + 1)
		case reflect.Float64:
			v.SetFloat(v.Float()*2 + 0.25)
		case reflect.Pointer:
			x := 0.5
			if !v.IsNil() {
				x = v.Elem().Float()*2 + 0.25
			}
			v.Set(reflect.ValueOf(&x))
		default:
			t.Fatalf("key %s: no non-default value for kind %s: add one to this test", key, v.Kind())
		}
	}
	builtin := trainer.Defaults()
	files := trainer.Defaults()
	files.Data.Format, files.Data.Train, files.Data.Eval = "helpsteer2", []string{train}, []string{train}
	keys := configKeys(reflect.TypeOf(trainer.Config{}), "", nil)
	require.Greater(t, len(keys), 40)
	for _, base := range []struct {
		name string
		cfg  trainer.Config
	}{{"builtin", builtin}, {"helpsteer2 files", files}} {
		plan, err := Resolve(base.cfg)
		require.NoError(t, err, base.name)
		want, err := plan.Fingerprint()
		require.NoError(t, err)
		for _, k := range keys {
			cfg := base.cfg
			cfg.Loss.Gamma, cfg.Loss.NLLWeight = clonePtr(cfg.Loss.Gamma), clonePtr(cfg.Loss.NLLWeight)
			changed(k.path, reflect.ValueOf(&cfg).Elem().FieldByIndex(k.index))
			plan, err := Resolve(cfg)
			if err != nil {
				require.NotEmpty(t, err.Error())
				t.Logf("%s: %s: refused: %v", base.name, k.path, err)
				continue
			}
			got, err := plan.Fingerprint()
			require.NoError(t, err)
			require.NotEqual(t, want, got, fmt.Sprintf("%s: key %s changes nothing in the run and is not refused", base.name, k.path))
		}
	}
}

func clonePtr(p *float64) *float64 {
	if p == nil {
		return nil
	}
	x := *p
	return &x
}
