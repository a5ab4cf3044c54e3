package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// followPoll is how often a followed metrics file is looked at: new rows reach the page
// within about this much of being written.
const followPoll = 100 * time.Millisecond

// followHeartbeat keeps idle event streams alive through proxies and lets the server
// notice a closed page.
const followHeartbeat = 15 * time.Second

// tailer reads the complete lines appended to a file since its last look. A file that
// was replaced (cmd/train --resume rewrites metrics.jsonl atomically, keeping only the
// rows up to its checkpoint) or that shrank is read again from its start, with reset set,
// so the reader starts over rather than mixing two versions of the run.
type tailer struct {
	path   string
	info   os.FileInfo // the file read last time, to notice a replacement
	offset int64       // bytes consumed: up to the end of the last complete line
}

// poll returns what changed since the last call: reset when the reader must drop what it
// had, and the complete lines added. A missing file is no error (the run has not started,
// or is being replaced); it resets once it has been read before.
func (t *tailer) poll() (reset bool, lines []string, err error) {
	info, err := os.Stat(t.path)
	if os.IsNotExist(err) {
		if t.info != nil {
			t.info, t.offset = nil, 0
			return true, nil, nil
		}
		return false, nil, nil
	}
	if err != nil {
		return false, nil, err
	}
	if t.info != nil && (!os.SameFile(t.info, info) || info.Size() < t.offset) {
		reset, t.offset = true, 0
	}
	t.info = info
	if info.Size() == t.offset {
		return reset, nil, nil
	}
	f, err := os.Open(t.path)
	if err != nil {
		return reset, nil, err
	}
	defer f.Close()
	if _, err := f.Seek(t.offset, io.SeekStart); err != nil {
		return reset, nil, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return reset, nil, err
	}
	// A line still being written is left for the next poll.
	end := strings.LastIndexByte(string(data), '\n')
	if end < 0 {
		return reset, nil, nil
	}
	t.offset += int64(end + 1)
	for _, line := range strings.Split(string(data[:end]), "\n") {
		if strings.TrimSpace(line) != "" {
			lines = append(lines, line)
		}
	}
	return reset, lines, nil
}

// follow streams a run's metrics file as server-sent events: "reset" (drop every row
// read so far), "rows" (complete JSON lines, one per data line) and "problem" (the file
// cannot be read; following goes on). The first events carry the whole file.
func (a *runAPI) follow(w http.ResponseWriter, r *http.Request) {
	run, ok := a.run(w, r)
	if !ok {
		return
	}
	// The stream lasts as long as the page is open: lift the server's write timeout for it.
	rc := http.NewResponseController(w)
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		http.Error(w, "this connection cannot stream: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	t := &tailer{path: run.metrics}
	send := func(event string, lines []string) error {
		var b strings.Builder
		fmt.Fprintf(&b, "event: %s\n", event)
		if len(lines) == 0 {
			b.WriteString("data:\n")
		}
		for _, l := range lines {
			fmt.Fprintf(&b, "data: %s\n", l)
		}
		b.WriteString("\n")
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := send("hello", []string{run.Name}); err != nil {
		return
	}
	tick := time.NewTicker(followPoll)
	defer tick.Stop()
	lastProblem, lastWrite := "", time.Now()
	for {
		reset, lines, err := t.poll()
		switch {
		case err != nil && err.Error() != lastProblem:
			lastProblem = err.Error()
			if send("problem", []string{lastProblem}) != nil {
				return
			}
			lastWrite = time.Now()
		case err == nil:
			lastProblem = ""
		}
		if reset {
			if send("reset", nil) != nil {
				return
			}
			lastWrite = time.Now()
		}
		if len(lines) > 0 {
			if send("rows", lines) != nil {
				return
			}
			lastWrite = time.Now()
		}
		if time.Since(lastWrite) > followHeartbeat {
			if _, err := io.WriteString(w, ": still following\n\n"); err != nil || rc.Flush() != nil {
				return
			}
			lastWrite = time.Now()
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}
