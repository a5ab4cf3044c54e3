package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// serve starts h on a loopback port with the given timeouts and returns its base URL.
func serve(t *testing.T, h http.Handler, to timeouts) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := newServer(h, to)
	go srv.Serve(ln) //nolint:errcheck // closed below
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func fakeWasm(t *testing.T) (wasm, wasmExec string) {
	dir := t.TempDir()
	wasm, wasmExec = filepath.Join(dir, "a.wasm"), filepath.Join(dir, "wasm_exec.js")
	// Compressible like a real wasm: a repeated pattern.
	require.NoError(t, os.WriteFile(wasm, bytes.Repeat([]byte("\x00asm\x01\x00\x00\x00 go wasm "), 20000), 0o644))
	require.NoError(t, os.WriteFile(wasmExec, []byte("// go's wasm_exec.js"), 0o644))
	return wasm, wasmExec
}

// A client that opens a connection and never finishes its request headers is dropped
// after ReadHeaderTimeout (before: held until it went away, 500 of them forever).
func TestHalfOpenConnectionIsClosed(t *testing.T) {
	wasm, wasmExec := fakeWasm(t)
	h, err := newHandler(wasm, wasmExec, nil)
	require.NoError(t, err)
	to := timeouts{ReadHeader: 300 * time.Millisecond, Read: time.Second, Idle: time.Second, Write: 5 * time.Second}
	base := serve(t, h, to)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n")) // no blank line: the headers never end
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = io.ReadAll(conn) // returns when the server closes the connection
	require.NoError(t, err, "the server must close the connection itself, not leave it to the client's deadline")
	require.Less(t, time.Since(start), 5*time.Second)

	// cmd/web's own server has the timeouts set.
	srv := newServer(h, serverTimeouts)
	require.Positive(t, srv.ReadHeaderTimeout)
	require.Positive(t, srv.ReadTimeout)
	require.Positive(t, srv.IdleTimeout)
	require.Positive(t, srv.WriteTimeout)
}

// The wasm and the scripts are gzipped for a client that accepts it, and the same bytes
// come back decompressed; a client that does not gets them plain.
func TestServedCompressedWhenAccepted(t *testing.T) {
	wasm, wasmExec := fakeWasm(t)
	h, err := newHandler(wasm, wasmExec, nil)
	require.NoError(t, err)
	base := serve(t, h, serverTimeouts)
	plainWasm, err := os.ReadFile(wasm)
	require.NoError(t, err)
	for _, path := range []string{"/amopo.wasm", "/js/inspect.js", "/wasm_exec.js", "/", "/style.css"} {
		for _, accept := range []string{"gzip, deflate, br", "identity", "gzip;q=0"} {
			req, err := http.NewRequest("GET", base+path, nil)
			require.NoError(t, err)
			req.Header.Set("Accept-Encoding", accept)
			resp, err := http.DefaultTransport.RoundTrip(req) // no transparent decompression
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode, path)
			require.Contains(t, resp.Header.Get("Vary"), "Accept-Encoding")
			if accept != "gzip, deflate, br" {
				require.Empty(t, resp.Header.Get("Content-Encoding"), "%s with %q", path, accept)
				if path == "/amopo.wasm" {
					require.Equal(t, plainWasm, body)
				}
				continue
			}
			require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"), path)
			zr, err := gzip.NewReader(bytes.NewReader(body))
			require.NoError(t, err, path)
			plain, err := io.ReadAll(zr)
			require.NoError(t, err, path)
			if path == "/amopo.wasm" {
				require.Equal(t, plainWasm, plain)
				require.Less(t, len(body), len(plainWasm)/10, "compressed")
				require.Equal(t, "application/wasm", resp.Header.Get("Content-Type"))
			}
		}
	}
	// A rebuilt wasm is compressed again, not served from the cache.
	require.NoError(t, os.WriteFile(wasm, []byte("\x00asm rebuilt"), 0o644))
	future := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(wasm, future, future))
	req, _ := http.NewRequest("GET", base+"/amopo.wasm", nil)
	resp, err := http.DefaultClient.Do(req) // asks for gzip and decompresses
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, "\x00asm rebuilt", string(body))
}

func TestHelpExitsZero(t *testing.T) {
	require.NoError(t, run([]string{"--help"}))
	require.ErrorContains(t, run([]string{"serve"}), `unexpected argument "serve"`)
	require.ErrorContains(t, run([]string{"--run", "/no/such/run"}), "/no/such/run")
}

// findRuns: a run folder, its metrics file, a folder of runs, and a run folder whose
// metrics do not exist yet (a run about to start).
func TestFindRuns(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"exp/amopo", "exp/simpo", "exp/notes", "experiment/runs/seed-1/amopo", "experiment/runs/seed-2/amopo"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	for _, f := range []string{"exp/amopo/metrics.jsonl", "exp/simpo/metrics.jsonl", "experiment/runs/seed-1/amopo/metrics.jsonl", "experiment/runs/seed-2/amopo/metrics.jsonl"} {
		require.NoError(t, os.WriteFile(filepath.Join(root, f), []byte("{}\n"), 0o644))
	}
	fresh := filepath.Join(root, "fresh")
	require.NoError(t, os.MkdirAll(fresh, 0o755))
	runs, err := findRuns([]string{filepath.Join(root, "exp"), filepath.Join(root, "exp/amopo"),
		filepath.Join(root, "exp/simpo/metrics.jsonl"), fresh, filepath.Join(root, "experiment/runs")})
	require.NoError(t, err)
	var names, files []string
	for _, r := range runs {
		names = append(names, r.Name)
		rel, _ := filepath.Rel(root, r.metrics)
		files = append(files, rel)
	}
	require.Equal(t, []string{"amopo", "simpo", "amopo", "simpo", "fresh", "seed-1/amopo", "seed-2/amopo"}, names)
	require.Equal(t, []string{"exp/amopo/metrics.jsonl", "exp/simpo/metrics.jsonl", "exp/amopo/metrics.jsonl",
		"exp/simpo/metrics.jsonl", "fresh/metrics.jsonl", "experiment/runs/seed-1/amopo/metrics.jsonl",
		"experiment/runs/seed-2/amopo/metrics.jsonl"}, files)
}

// The tailer hands out complete lines once, keeps a half-written line for later, and
// starts over when the file is replaced (cmd/train --resume) or shrinks.
func TestTailerFollowsAppendsAndRewrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	tl := &tailer{path: path}
	reset, lines, err := tl.poll()
	require.NoError(t, err)
	require.False(t, reset)
	require.Empty(t, lines, "no file yet")

	require.NoError(t, os.WriteFile(path, []byte("{\"step\":1}\n{\"step\":2}\n{\"st"), 0o644))
	reset, lines, err = tl.poll()
	require.NoError(t, err)
	require.False(t, reset)
	require.Equal(t, []string{`{"step":1}`, `{"step":2}`}, lines)

	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("ep\":3}\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, lines, err = tl.poll()
	require.NoError(t, err)
	require.Equal(t, []string{`{"step":3}`}, lines)

	// --resume: the file is rewritten atomically (a new file renamed over it), longer or not.
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, []byte("{\"step\":1}\n{\"step\":2}\n{\"step\":9}\n{\"step\":10}\n"), 0o644))
	require.NoError(t, os.Rename(tmp, path))
	reset, lines, err = tl.poll()
	require.NoError(t, err)
	require.True(t, reset)
	require.Equal(t, []string{`{"step":1}`, `{"step":2}`, `{"step":9}`, `{"step":10}`}, lines)

	// Truncated in place.
	require.NoError(t, os.WriteFile(path, []byte("{\"step\":1}\n"), 0o644))
	reset, lines, err = tl.poll()
	require.NoError(t, err)
	require.True(t, reset)
	require.Equal(t, []string{`{"step":1}`}, lines)
}

// The event stream of a followed run: the whole file, then each appended row, a reset
// when the file is rewritten, and it outlives the server's write timeout.
func TestFollowStreamsRows(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, metricsFile)
	require.NoError(t, os.WriteFile(path, []byte("{\"step\":1}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "answers-after-SFT.jsonl"), []byte("{\"scores\":{\"a\":1}}\n{\"scores\":{\"a\":3}}\n"), 0o644))
	runs, err := findRuns([]string{dir})
	require.NoError(t, err)
	wasm, wasmExec := fakeWasm(t)
	h, err := newHandler(wasm, wasmExec, runs)
	require.NoError(t, err)
	to := serverTimeouts
	to.Write = 500 * time.Millisecond
	base := serve(t, h, to)

	resp, err := http.Get(base + "/api/runs/0/answers")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.JSONEq(t, `{"answers-after-SFT.jsonl": [{"a": 1}, {"a": 3}]}`, string(body))
	resp, err = http.Get(base + "/api/runs/7/follow")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	events := followEvents(t, base+"/api/runs/0/follow")
	next := func() [2]string {
		select {
		case e, ok := <-events:
			require.True(t, ok, "the stream ended")
			return e
		case <-time.After(5 * time.Second):
			t.Fatal("no event within 5 s")
		}
		return [2]string{}
	}
	require.Equal(t, [2]string{"hello", filepath.Base(dir)}, next())
	require.Equal(t, [2]string{"rows", `{"step":1}`}, next())
	time.Sleep(time.Second) // past the write timeout: the stream must still be open
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("{\"step\":2}\n{\"step\":3}\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Equal(t, [2]string{"rows", "{\"step\":2}\n{\"step\":3}"}, next())
	require.NoError(t, os.WriteFile(path+".tmp", []byte("{\"step\":1}\n"), 0o644))
	require.NoError(t, os.Rename(path+".tmp", path))
	require.Equal(t, "reset", next()[0])
	require.Equal(t, [2]string{"rows", `{"step":1}`}, next())

	// A page that reconnects (cmd/web restarted, or the network dropped) is sent the whole
	// file again after a hello, on which it starts over.
	events = followEvents(t, base+"/api/runs/0/follow")
	require.Equal(t, "hello", next()[0])
	require.Equal(t, [2]string{"rows", `{"step":1}`}, next())
}

// followEvents reads a server-sent event stream into (event, data) pairs.
func followEvents(t *testing.T, url string) chan [2]string {
	resp, err := http.Get(url)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	events := make(chan [2]string, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		var event string
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data:"):
				data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
			case line == "" && event != "":
				events <- [2]string{event, strings.Join(data, "\n")}
				event, data = "", nil
			}
		}
		close(events)
	}()
	return events
}
