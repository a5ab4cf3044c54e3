package trainer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
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

// checkpointFS holds the file-system calls whose order makes a checkpoint crash-safe:
// every file synced before its folder is renamed into place, the folder renamed (and its
// parent synced) before LATEST names it. Tests replace them to record or fail the calls.
var checkpointFS = struct {
	Sync   func(f *os.File) error
	Rename func(from, to string) error
}{Sync: (*os.File).Sync, Rename: os.Rename}

// SaveCheckpoint writes every variable of ctx and the state to outDir/checkpoints/NAME,
// atomically: files go to a temporary directory that is renamed into place once complete
// and synced, then LATEST is replaced by rename. A crash at any point leaves the previous
// checkpoint intact and LATEST pointing at it. A manifest records a checksum of every
// file and tensor, verified on load. It keeps the newest `keep` checkpoints (0: all).
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
	have := map[string]bool{}
	for v := range ctx.IterVariables() {
		value, err := v.Value()
		if err != nil {
			return fmt.Errorf("checkpoint: variable %s: %w", v.ScopeAndName(), err)
		}
		named = append(named, safetensors.Named{Name: v.ScopeAndName(), Tensor: value})
		have[v.ScopeAndName()] = true
	}
	// Variables of a resumed checkpoint that no graph has created since (the optimizer
	// state of a stage done before the checkpoint) are carried over, not lost.
	if pending, ok := ctx.Loader().(mapLoader); ok {
		for name, value := range pending {
			if !have[name] {
				named = append(named, safetensors.Named{Name: name, Tensor: value})
			}
		}
	}
	sort.Slice(named, func(i, j int) bool { return named[i].Name < named[j].Name })
	man := manifest{Files: map[string]string{}, Tensors: map[string]tensorSum{}}
	for _, nt := range named {
		sum, err := sumTensor(nt.Tensor)
		if err != nil {
			return fmt.Errorf("checkpoint: variable %s: %w", nt.Name, err)
		}
		man.Tensors[nt.Name] = sum
	}
	varsPath := filepath.Join(tmp, variablesFile)
	if err := safetensors.Write(varsPath, named, map[string]string{"stage": st.Stage}); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := syncPath(varsPath); err != nil {
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
	man.Files[stateFile] = sha256Hex(stateJSON)
	manJSON, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return err
	}
	if err := writeSynced(filepath.Join(tmp, manifestFile), manJSON); err != nil {
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
	if err := checkpointFS.Rename(tmp, final); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := syncDir(root); err != nil { // the rename is durable before LATEST names it
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := writeAtomic(filepath.Join(root, latestFile), []byte(name+"\n")); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return prune(root, keep, name)
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
		return "", fmt.Errorf("checkpoint %s (named by %s): %w", dir, filepath.Join(root, latestFile), err)
	}
	return dir, nil
}

// LoadCheckpoint reads a checkpoint's state and variables after verifying them against
// its manifest (see VerifyCheckpoint) and against the variables ctx already holds (each
// must be in the checkpoint, with its shape). Nothing is set on ctx unless all of it
// checks out; the variables are then set on ctx, and those the graphs create later get
// their saved values through a loader.
func LoadCheckpoint(ctx *context.Context, dir string) (State, error) {
	st, values, err := readVerified(dir)
	if err != nil {
		return State{}, err
	}
	// Steps into a stage mean its optimizer ran: without its state the resume would restart
	// AdamW's moments and schedule.
	if step := "/" + optimizerScope + "/" + st.Stage + "/step"; st.StageStep > 0 && values[step] == nil {
		return State{}, fmt.Errorf("checkpoint %s: %s step %d but no optimizer state (%s) in %s", dir, st.Stage, st.StageStep, step, variablesFile)
	}
	for v := range ctx.IterVariables() {
		name := v.ScopeAndName()
		value, ok := values[name]
		if !ok {
			return State{}, fmt.Errorf("checkpoint %s: variable %s of the model is missing from %s", dir, name, variablesFile)
		}
		if !value.Shape().Equal(v.Shape()) {
			return State{}, fmt.Errorf("checkpoint %s: variable %s: saved as %s, the model has %s", dir, name, value.Shape(), v.Shape())
		}
	}
	for name, value := range values {
		if v := ctx.InspectVariable(splitScopeAndName(name)); v != nil {
			if err := v.SetValue(value); err != nil {
				return State{}, fmt.Errorf("checkpoint %s: variable %s: %w", dir, name, err)
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

// checkpointName is a checkpoint's folder name: the stage's order, the stage and the
// step. Names are ordered by parseCheckpointName, never as strings (step 1000000 sorts
// before 999999 as a string).
func checkpointName(stage string, step int) string {
	return fmt.Sprintf("%d-%s-%06d", stageOrder(stage), stage, step)
}

// parseCheckpointName reads back the stage order and step of a checkpointName.
func parseCheckpointName(name string) (order, step int, ok bool) {
	first, last := strings.Index(name, "-"), strings.LastIndex(name, "-")
	if first <= 0 || last <= first+1 {
		return 0, 0, false
	}
	order, err1 := strconv.Atoi(name[:first])
	step, err2 := strconv.Atoi(name[last+1:])
	return order, step, err1 == nil && err2 == nil && order >= 0 && step >= 0
}

// listCheckpoints returns the checkpoint folders of root, oldest first by (stage order,
// step). Other entries are ignored.
func listCheckpoints(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if _, _, ok := parseCheckpointName(e.Name()); ok && e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Slice(names, func(i, j int) bool {
		oi, si, _ := parseCheckpointName(names[i])
		oj, sj, _ := parseCheckpointName(names[j])
		if oi != oj {
			return oi < oj
		}
		return si < sj
	})
	return names, nil
}

// prune removes all but the newest `keep` checkpoints (by stage order and step, never
// `current`, the one LATEST names) and stale temporary directories.
func prune(root string, keep int, current string) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			_ = os.RemoveAll(filepath.Join(root, e.Name()))
		}
	}
	names, err := listCheckpoints(root)
	if err != nil {
		return err
	}
	for i := 0; keep > 0 && i < len(names)-keep; i++ {
		if names[i] == current {
			continue
		}
		if err := os.RemoveAll(filepath.Join(root, names[i])); err != nil {
			return err
		}
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
	if err := checkpointFS.Sync(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeAtomic replaces path with data through a synced temporary file and a rename,
// creating its folder if needed (a run whose first file is not the metrics).
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := writeSynced(tmp, data); err != nil {
		return err
	}
	if err := checkpointFS.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncPath syncs a file or directory by name.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return checkpointFS.Sync(f)
}

func syncDir(dir string) error { return syncPath(dir) }
