package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// metricsFile is the name cmd/train gives a run's metrics in its out_dir.
const metricsFile = "metrics.jsonl"

// answersFile matches the per-item judge files cmd/train writes next to its metrics
// ("answers-after-SFT.jsonl", "answers-after-amopo.jsonl"): their scores give the judge
// table its intervals.
var answersFile = regexp.MustCompile(`^answers-[A-Za-z0-9_.-]+\.jsonl$`)

// runSource is one run the server follows: a metrics file and the folder of its answers.
type runSource struct {
	Name    string `json:"name"`
	metrics string
	dir     string
}

// findRuns resolves each --run argument: a metrics file; a run folder (it holds
// metrics.jsonl, or will: a run that has not written its first row yet is followed too);
// or a folder of runs (its subfolders, one or two levels down, that hold a metrics.jsonl:
// the experiment's runs/seed-N/<method>), one run each.
func findRuns(args []string) ([]runSource, error) {
	var runs []runSource
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil {
			return nil, fmt.Errorf("--run %q: %w", arg, err)
		}
		if !info.IsDir() {
			runs = append(runs, runSource{Name: runName(arg), metrics: arg, dir: filepath.Dir(arg)})
			continue
		}
		own := filepath.Join(arg, metricsFile)
		// The experiment's layout is runs/seed-N/<method>/metrics.jsonl: look two levels down.
		subs, err := filepath.Glob(filepath.Join(arg, "*", metricsFile))
		if err != nil {
			return nil, fmt.Errorf("--run %q: %w", arg, err)
		}
		deeper, err := filepath.Glob(filepath.Join(arg, "*", "*", metricsFile))
		if err != nil {
			return nil, fmt.Errorf("--run %q: %w", arg, err)
		}
		subs = append(subs, deeper...)
		if _, err := os.Stat(own); err == nil || len(subs) == 0 {
			runs = append(runs, runSource{Name: runName(own), metrics: own, dir: arg})
			continue
		}
		sort.Strings(subs)
		for _, m := range subs {
			// Named by their path under arg ("seed-1/amopo"): method names repeat across seeds.
			name, err := filepath.Rel(arg, filepath.Dir(m))
			if err != nil {
				name = runName(m)
			}
			runs = append(runs, runSource{Name: filepath.ToSlash(name), metrics: m, dir: filepath.Dir(m)})
		}
	}
	return runs, nil
}

// runName names a run after its folder (metrics.jsonl) or its file (anything else).
func runName(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	if filepath.Base(abs) == metricsFile {
		return filepath.Base(filepath.Dir(abs))
	}
	return strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))
}

// runAPI serves the followed runs:
//
//	GET /api/runs                 -> [{name, id}]
//	GET /api/runs/{id}/follow     -> server-sent events of the metrics file (see follow)
//	GET /api/runs/{id}/answers    -> {"answers-after-SFT.jsonl": [{dim: score}], ...}
type runAPI struct{ runs []runSource }

func (a *runAPI) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/runs", a.list)
	mux.HandleFunc("GET /api/runs/{id}/follow", a.follow)
	mux.HandleFunc("GET /api/runs/{id}/answers", a.answers)
}

func (a *runAPI) list(w http.ResponseWriter, r *http.Request) {
	type entry struct {
		Name string `json:"name"`
		ID   int    `json:"id"`
	}
	out := []entry{}
	for i, run := range a.runs {
		out = append(out, entry{run.Name, i})
	}
	writeJSON(w, out)
}

func (a *runAPI) run(w http.ResponseWriter, r *http.Request) (runSource, bool) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || id < 0 || id >= len(a.runs) {
		http.Error(w, fmt.Sprintf("no run %q (this server follows %d)", r.PathValue("id"), len(a.runs)), http.StatusNotFound)
		return runSource{}, false
	}
	return a.runs[id], true
}

// answers reads the per-item judge scores of each answers-*.jsonl in the run's folder.
func (a *runAPI) answers(w http.ResponseWriter, r *http.Request) {
	run, ok := a.run(w, r)
	if !ok {
		return
	}
	entries, err := os.ReadDir(run.dir)
	if err != nil {
		http.Error(w, fmt.Sprintf("reading run %s: %v", run.Name, err), http.StatusInternalServerError)
		return
	}
	out := map[string][]map[string]float64{}
	for _, e := range entries {
		if e.IsDir() || !answersFile.MatchString(e.Name()) {
			continue
		}
		scores, err := readScores(filepath.Join(run.dir, e.Name()))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out[e.Name()] = scores
	}
	writeJSON(w, out)
}

// readScores reads the "scores" object of every line of an answers file.
func readScores(path string) ([]map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []map[string]float64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var row struct {
			Scores map[string]float64 `json:"scores"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		out = append(out, row.Scores)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
