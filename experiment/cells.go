package experiment

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/amopo-engine/amopo/trainer"
)

// cellStore keeps each finished (seed, method) cell of a run in OutDir/cells, written
// atomically (temporary file, then rename) as soon as the cell is judged, so that a run
// that stops (Ctrl-C, kill -9, a full disk) resumes where it stopped: a rerun with the
// same config loads the cells it finds and trains only the others. A seed's SFT
// evaluation and pair counts are a cell of their own (seed-N/sft.json).
//
// The config the cells were made with is kept beside them (config.json, without the keys
// that do not change a cell's numbers: seeds, folders, report name, logging, keep_runs), and
// a rerun with another config is refused rather than mixing cells of two protocols. Seeds
// may be added between sittings.
type cellStore struct {
	dir string
}

// cellsFingerprint is the part of cfg that a cell's numbers depend on.
func cellsFingerprint(cfg Config) ([]byte, error) {
	cfg.Seeds, cfg.OutDir, cfg.RunsDir, cfg.Report, cfg.LogEvery, cfg.KeepRuns, cfg.Preset = nil, "", "", "", 0, false, ""
	cfg.Claims = nil // the claims change the report, not a cell
	return json.MarshalIndent(cfg, "", " ")
}

// openCells opens (or starts) the cells of cfg.OutDir, refusing cells of another config.
func openCells(cfg Config) (*cellStore, error) {
	c := &cellStore{dir: filepath.Join(cfg.OutDir, "cells")}
	want, err := cellsFingerprint(cfg)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(c.dir, "config.json")
	have, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return c, trainer.WriteFileAtomic(path, want)
	case err != nil:
		return nil, err
	case string(have) != string(want):
		return nil, fmt.Errorf("%s: the finished cells in %s were made with another config; use another out_dir, "+
			"or delete %s to start over", path, c.dir, c.dir)
	}
	return c, nil
}

func (c *cellStore) path(seed uint64, name string) string {
	return filepath.Join(c.dir, fmt.Sprintf("seed-%d", seed), name+".json")
}

// read loads one cell into v; found is false when the cell is not there.
func (c *cellStore) read(path string, v any) (found bool, err error) {
	text, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(text, v); err != nil {
		return false, fmt.Errorf("%s: %w (delete the file to recompute the cell)", path, err)
	}
	return true, nil
}

// method returns the finished cell of (seed, method), or nil.
func (c *cellStore) method(seed uint64, name string) (*MethodRun, error) {
	mr := &MethodRun{}
	ok, err := c.read(c.path(seed, name), mr)
	if !ok || err != nil {
		return nil, err
	}
	if mr.Method != name || mr.Seed != seed {
		return nil, fmt.Errorf("%s: holds method %q seed %d", c.path(seed, name), mr.Method, mr.Seed)
	}
	return mr, nil
}

// seed returns the seed's SFT cell (no methods), or nil.
func (c *cellStore) seed(seed uint64) (*SeedRun, error) {
	sr := &SeedRun{}
	ok, err := c.read(c.path(seed, SFT), sr)
	if !ok || err != nil {
		return nil, err
	}
	if sr.Seed != seed {
		return nil, fmt.Errorf("%s: holds seed %d", c.path(seed, SFT), sr.Seed)
	}
	sr.Methods = map[string]*MethodRun{}
	return sr, nil
}

func (c *cellStore) saveSeed(sr *SeedRun) error {
	head := *sr
	head.Methods = nil
	return c.write(c.path(sr.Seed, SFT), &head)
}

func (c *cellStore) saveMethod(mr *MethodRun) error { return c.write(c.path(mr.Seed, mr.Method), mr) }

func (c *cellStore) write(path string, v any) error {
	text, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return trainer.WriteFileAtomic(path, text)
}
