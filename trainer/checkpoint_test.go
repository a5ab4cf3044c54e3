package trainer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amopo-engine/amopo/gomlx/safetensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/stretchr/testify/require"
)

// smallContext holds a model variable and an optimizer variable, as a training context.
func smallContext(t *testing.T, scale float32) *context.Context {
	ctx := context.New()
	ctx.In("model").VariableWithValue("w", []float32{1 * scale, 2 * scale, 3 * scale})
	ctx.InAbsPath("/optimizer/sft").VariableWithValue("step", int64(scale))
	return ctx
}

// requireLatestIntact checks that LATEST names an existing checkpoint that verifies.
func requireLatestIntact(t *testing.T, outDir string) string {
	t.Helper()
	dir, err := LatestCheckpoint(outDir)
	require.NoError(t, err, "LATEST names an existing checkpoint")
	require.NotEmpty(t, dir)
	require.NoError(t, VerifyCheckpoint(dir))
	return filepath.Base(dir)
}

// TestCheckpointNamesSortByStep: names compare as (stage order, step) numbers. As strings
// "1-preference-1000000" < "1-preference-999999", and the newest checkpoint was pruned as
// soon as it was written.
func TestCheckpointNamesSortByStep(t *testing.T) {
	out := t.TempDir()
	ctx := smallContext(t, 1)
	for _, c := range []struct {
		stage string
		step  int
	}{{"sft", 5}, {"sft", 1000000}, {"preference", 999999}, {"preference", 1000000}} {
		require.NoError(t, SaveCheckpoint(ctx, out, checkpointName(c.stage, c.step), State{Stage: c.stage, StageStep: c.step}, 1))
		require.Equal(t, checkpointName(c.stage, c.step), requireLatestIntact(t, out))
		names, err := listCheckpoints(filepath.Join(out, checkpointsDir))
		require.NoError(t, err)
		require.Equal(t, []string{checkpointName(c.stage, c.step)}, names, "keep 1: the newest stays")
	}
	names := []string{checkpointName("sft", 1000000), checkpointName("sft", 7), checkpointName("preference", 1000000), checkpointName("preference", 999999)}
	for _, n := range names {
		require.NoError(t, os.MkdirAll(filepath.Join(out, "sorted", n), 0o755))
	}
	got, err := listCheckpoints(filepath.Join(out, "sorted"))
	require.NoError(t, err)
	require.Equal(t, []string{names[1], names[0], names[3], names[2]}, got)
}

// fsEvents records the checkpoint's syncs and renames, with paths relative to root.
type fsEvents struct {
	root   string
	events []string
	failAt int // the call (1-based) that fails; 0: none
	calls  int
}

var errInjected = errors.New("injected failure")

func (e *fsEvents) install(t *testing.T) {
	old := checkpointFS
	t.Cleanup(func() { checkpointFS = old })
	rel := func(p string) string {
		r, err := filepath.Rel(e.root, p)
		require.NoError(t, err)
		// Temporary names carry random suffixes: keep their role.
		parts := strings.Split(r, string(filepath.Separator))
		for i, part := range parts {
			if strings.HasPrefix(part, ".tmp-") {
				parts[i] = ".tmp"
			}
		}
		return strings.Join(parts, "/")
	}
	checkpointFS.Sync = func(f *os.File) error {
		if e.calls++; e.calls == e.failAt {
			return errInjected
		}
		e.events = append(e.events, "sync "+rel(f.Name()))
		return f.Sync()
	}
	checkpointFS.Rename = func(from, to string) error {
		if e.calls++; e.calls == e.failAt {
			return errInjected
		}
		e.events = append(e.events, "rename "+rel(from)+" "+rel(to))
		return os.Rename(from, to)
	}
}

func (e *fsEvents) index(t *testing.T, event string) int {
	t.Helper()
	for i, ev := range e.events {
		if ev == event {
			return i
		}
	}
	t.Fatalf("no %q in %v", event, e.events)
	return -1
}

// TestCheckpointWriteOrder: every file of a checkpoint is synced, then its folder, before
// the folder is renamed into place; the rename is made durable (the parent synced) before
// LATEST is replaced, itself through a synced temporary file and a rename. Without this
// order a power cut can leave LATEST naming a folder that is missing or holds empty files.
func TestCheckpointWriteOrder(t *testing.T) {
	out := t.TempDir()
	rec := &fsEvents{root: filepath.Join(out, checkpointsDir)}
	rec.install(t)
	name := checkpointName("sft", 3)
	require.NoError(t, SaveCheckpoint(smallContext(t, 1), out, name, State{Stage: "sft", StageStep: 3}, 2))
	folder := rec.index(t, "rename .tmp "+name)
	for _, f := range []string{variablesFile, stateFile, manifestFile, ""} {
		ev := strings.TrimSuffix("sync .tmp/"+f, "/")
		require.Less(t, rec.index(t, ev), folder, "%s synced before the folder is renamed into place", ev)
	}
	latest := rec.index(t, "rename LATEST.tmp LATEST")
	require.Less(t, folder, latest, "the folder is in place before LATEST names it")
	parent := -1
	for i := folder + 1; i < latest; i++ {
		if rec.events[i] == "sync ." {
			parent = i
		}
	}
	require.NotEqual(t, -1, parent, "the parent folder is synced between the two renames: %v", rec.events)
	require.Less(t, rec.index(t, "sync LATEST.tmp"), latest, "LATEST's content is synced before its rename")
	require.Equal(t, "sync .", rec.events[len(rec.events)-1], "LATEST's rename is made durable")
}

// TestLatestNeverDangles fails each sync and rename of a checkpoint write in turn, as a
// crash at that point would stop it: LATEST must still name an intact checkpoint, the
// old one or the new one.
func TestLatestNeverDangles(t *testing.T) {
	for failAt := 1; ; failAt++ {
		out := t.TempDir()
		require.NoError(t, SaveCheckpoint(smallContext(t, 1), out, checkpointName("sft", 2), State{Stage: "sft", StageStep: 2}, 1))
		rec := &fsEvents{root: filepath.Join(out, checkpointsDir), failAt: failAt}
		rec.install(t)
		err := SaveCheckpoint(smallContext(t, 2), out, checkpointName("sft", 4), State{Stage: "sft", StageStep: 4}, 1)
		checkpointFS.Sync, checkpointFS.Rename = (*os.File).Sync, os.Rename
		got := requireLatestIntact(t, out)
		if err == nil {
			require.Equal(t, checkpointName("sft", 4), got)
			require.Greater(t, failAt, 8, "every call was failed once")
			return
		}
		require.ErrorIs(t, err, errInjected)
		require.Contains(t, []string{checkpointName("sft", 2), checkpointName("sft", 4)}, got, "call %d failed", failAt)
	}
}

// saveTwo writes an older and a newer checkpoint of a small context, returning their
// folders.
func saveTwo(t *testing.T, out string) (older, newer string) {
	for i, step := range []int{2, 4} {
		require.NoError(t, SaveCheckpoint(smallContext(t, float32(i+1)), out, checkpointName("sft", step), State{Stage: "sft", StageStep: step}, 3))
	}
	root := filepath.Join(out, checkpointsDir)
	return filepath.Join(root, checkpointName("sft", 2)), filepath.Join(root, checkpointName("sft", 4))
}

func resumeSmall(out string) (*Run, bool, error) {
	var log bytes.Buffer
	r := &Run{Ctx: context.New(), OutDir: out, Log: &log}
	ok, err := r.Resume()
	return r, ok, err
}

// TestDamagedCheckpointIsRefused: a flipped bit in a tensor, a tensor gone, a damaged
// state file or a missing manifest stops the resume with an error that names the
// checkpoint and the tensor, and the older intact checkpoint to resume from.
func TestDamagedCheckpointIsRefused(t *testing.T) {
	for _, c := range []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{"flipped bit", func(t *testing.T, dir string) {
			path := filepath.Join(dir, variablesFile)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			sf, err := safetensors.Open(path)
			require.NoError(t, err)
			info := sf.Info("/model/w")
			require.NoError(t, sf.Close())
			dataAt := 8 + int64(binary.LittleEndian.Uint64(data))
			data[dataAt+info.Begin+5] ^= 0x10
			require.NoError(t, os.WriteFile(path, data, 0o644))
		}, "tensor /model/w is damaged"},
		{"missing tensor", func(t *testing.T, dir string) {
			path := filepath.Join(dir, variablesFile)
			values, meta, err := safetensors.ReadAll(path)
			require.NoError(t, err)
			require.NoError(t, safetensors.Write(path, []safetensors.Named{{Name: "/model/w", Tensor: values["/model/w"]}}, meta))
		}, "tensor /optimizer/sft/step is missing"},
		{"damaged state", func(t *testing.T, dir string) {
			path := filepath.Join(dir, stateFile)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, bytes.Replace(data, []byte(`"stage_step": 4`), []byte(`"stage_step": 6`), 1), 0o644))
		}, "trainer.json is damaged"},
		{"no manifest", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, manifestFile)))
		}, "no readable manifest.json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			older, newer := saveTwo(t, out)
			c.damage(t, newer)
			require.ErrorContains(t, VerifyCheckpoint(newer), c.want)
			_, ok, err := resumeSmall(out)
			require.False(t, ok)
			require.ErrorContains(t, err, "checkpoint "+newer+": ")
			require.ErrorContains(t, err, c.want)
			require.ErrorContains(t, err, fmt.Sprintf("the older checkpoint %s is intact", filepath.Base(older)))
			require.ErrorContains(t, err, "echo "+filepath.Base(older)+" > "+filepath.Join(out, checkpointsDir, latestFile))
			// Doing what the message says resumes.
			require.NoError(t, os.WriteFile(filepath.Join(out, checkpointsDir, latestFile), []byte(filepath.Base(older)+"\n"), 0o644))
			r, ok, err := resumeSmall(out)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, 2, r.resumed.StageStep)
		})
	}
	// With no older intact checkpoint, the error says to start over.
	out := t.TempDir()
	older, newer := saveTwo(t, out)
	require.NoError(t, os.Remove(filepath.Join(older, manifestFile)))
	require.NoError(t, os.Remove(filepath.Join(newer, manifestFile)))
	_, _, err := resumeSmall(out)
	require.ErrorContains(t, err, "no intact checkpoint to resume from (start over with --overwrite)")
}

// TestCheckpointMissingAModelVariable: a variable the model already holds must be in the
// checkpoint, with its shape, and a checkpoint inside a stage must hold that stage's
// optimizer state; nothing is loaded otherwise.
func TestCheckpointMissingAModelVariable(t *testing.T) {
	out := t.TempDir()
	saveTwo(t, out)
	dir, err := LatestCheckpoint(out)
	require.NoError(t, err)
	ctx := smallContext(t, 9)
	ctx.In("model").VariableWithValue("bias", []float32{0})
	_, err = LoadCheckpoint(ctx, dir)
	require.ErrorContains(t, err, "variable /model/bias of the model is missing")
	require.Equal(t, []float32{9, 18, 27}, ctx.InspectVariable("/model", "w").MustValue().Value(), "nothing was loaded")

	ctx = context.New()
	ctx.In("model").VariableWithValue("w", []float32{1, 2})
	_, err = LoadCheckpoint(ctx, dir)
	require.ErrorContains(t, err, "variable /model/w: saved as (Float32)[3], the model has (Float32)[2]")

	// A checkpoint 3 steps into the preference stage holds that stage's optimizer state.
	name := checkpointName("preference", 3)
	require.NoError(t, SaveCheckpoint(smallContext(t, 1), out, name, State{Stage: "preference", StageStep: 3}, 0))
	_, err = LoadCheckpoint(context.New(), filepath.Join(out, checkpointsDir, name))
	require.ErrorContains(t, err, "preference step 3 but no optimizer state (/optimizer/preference/step)")
}

// TestWriteAtomicCreatesTheFolder: with sft.steps 0 the first file a run writes is the
// judge's answers, before out_dir exists ("answers-after-SFT.jsonl.tmp: no such file").
func TestWriteAtomicCreatesTheFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "answers.jsonl")
	require.NoError(t, writeAtomic(path, []byte("x\n")))
	require.Equal(t, "x\n", readFile(t, path))
}
