package trainer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/amopo-engine/amopo/gomlx/safetensors"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// State is the host-side training state saved with the variables: with it and the
// variables (model, optimizer moments and step, gradient accumulators), --resume
// continues bit-exactly.
type State struct {
	Stage     string  `json:"stage"`      // "sft" or "preference"
	StageStep int     `json:"stage_step"` // steps done in the stage
	Epoch     int     `json:"epoch"`      // data passes done in the stage
	Position  int     `json:"position"`   // batches consumed in the current pass
	Seed      uint64  `json:"seed"`
	Tokens    int64   `json:"tokens"` // tokens seen in the stage
	Loss      float64 `json:"loss"`   // last logged loss
	Config    string  `json:"config"` // the run's config, for a mismatch check on resume
	SavedAt   string  `json:"saved_at"`
}

const (
	checkpointsDir = "checkpoints"
	latestFile     = "LATEST"
	stateFile      = "trainer.json"
	variablesFile  = "variables.safetensors"
)

// testPauseInCheckpoint, when set (by a test, through the environment), makes
// SaveCheckpoint sleep between writing the files and publishing them, so that a test can
// kill the process in the middle of a checkpoint write.
var testPauseInCheckpoint = os.Getenv("AMOPO_TEST_CHECKPOINT_PAUSE")

// SaveCheckpoint writes every variable of ctx and the state to outDir/checkpoints/NAME,
// atomically: files go to a temporary directory that is renamed into place once complete
// and synced, then LATEST is replaced by rename. A crash at any point leaves the previous
// checkpoint intact and LATEST pointing at it. It keeps the newest `keep` checkpoints.
func SaveCheckpoint(ctx *context.Context, outDir, name string, st State, keep int) error {
	root := filepath.Join(outDir, checkpointsDir)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	tmp, err := os.MkdirTemp(root, ".tmp-"+name+"-")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	var named []safetensors.Named
	for v := range ctx.IterVariables() {
		value, err := v.Value()
		if err != nil {
			return fmt.Errorf("checkpoint: variable %s: %w", v.ScopeAndName(), err)
		}
		named = append(named, safetensors.Named{Name: v.ScopeAndName(), Tensor: value})
	}
	sort.Slice(named, func(i, j int) bool { return named[i].Name < named[j].Name })
	if err := safetensors.Write(filepath.Join(tmp, variablesFile), named, map[string]string{"stage": st.Stage}); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	st.SavedAt = time.Now().UTC().Format(time.RFC3339)
	stateJSON, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := writeSynced(filepath.Join(tmp, stateFile), stateJSON); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if testPauseInCheckpoint != "" {
		d, _ := time.ParseDuration(testPauseInCheckpoint)
		time.Sleep(d)
	}
	if err := syncDir(tmp); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	final := filepath.Join(root, name)
	if err := os.RemoveAll(final); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := writeAtomic(filepath.Join(root, latestFile), []byte(name+"\n")); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return prune(root, keep)
}

// LatestCheckpoint returns the directory LATEST points at, or "" when there is none.
func LatestCheckpoint(outDir string) (string, error) {
	root := filepath.Join(outDir, checkpointsDir)
	data, err := os.ReadFile(filepath.Join(root, latestFile))
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, strings.TrimSpace(string(data)))
	if _, err := os.Stat(filepath.Join(dir, stateFile)); err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	return dir, nil
}

// LoadCheckpoint reads a checkpoint's state and variables; the variables are set on ctx
// through a loader, so that they take their saved values when the graphs create them.
func LoadCheckpoint(ctx *context.Context, dir string) (State, error) {
	var st State
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return st, fmt.Errorf("checkpoint: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("checkpoint %s: %w", filepath.Join(dir, stateFile), err)
	}
	values, _, err := safetensors.ReadAll(filepath.Join(dir, variablesFile))
	if err != nil {
		return st, fmt.Errorf("checkpoint: %w", err)
	}
	for name, value := range values {
		if v := ctx.InspectVariable(splitScopeAndName(name)); v != nil {
			if err := v.SetValue(value); err != nil {
				return st, fmt.Errorf("checkpoint %s: variable %s: %w", dir, name, err)
			}
			delete(values, name)
		}
	}
	if len(values) > 0 {
		ctx.SetLoader(mapLoader(values))
	}
	return st, nil
}

// mapLoader gives variables created after loading their checkpointed values.
type mapLoader map[string]*tensors.Tensor

// LoadVariable implements context.Loader.
func (m mapLoader) LoadVariable(_ *context.Context, scope, name string) (*tensors.Tensor, bool) {
	t, ok := m[joinScopeAndName(scope, name)]
	return t, ok
}

// DeleteVariable implements context.Loader.
func (m mapLoader) DeleteVariable(_ *context.Context, scope, name string) error {
	delete(m, joinScopeAndName(scope, name))
	return nil
}

func joinScopeAndName(scope, name string) string {
	if scope == context.RootScope {
		return scope + name
	}
	return scope + context.ScopeSeparator + name
}

func splitScopeAndName(s string) (scope, name string) {
	i := strings.LastIndex(s, context.ScopeSeparator)
	if i <= 0 {
		return context.RootScope, s[i+1:]
	}
	return s[:i], s[i+1:]
}

// prune removes all but the newest `keep` checkpoints (names sort by step) and stale
// temporary directories.
func prune(root string, keep int) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), ".tmp-"):
			_ = os.RemoveAll(filepath.Join(root, e.Name()))
		case e.IsDir():
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for keep > 0 && len(names) > keep {
		if err := os.RemoveAll(filepath.Join(root, names[0])); err != nil {
			return err
		}
		names = names[1:]
	}
	return nil
}

func writeSynced(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeAtomic replaces path with data through a synced temporary file and a rename.
func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := writeSynced(tmp, data); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
