package main

import (
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/amopo-engine/amopo/web"
)

// newHandler serves the embedded page, the wasm, Go's wasm_exec.js and the runs it
// follows (runAPI). Nothing is cached by the browser (no-cache: it revalidates), so a
// rebuilt wasm is picked up on reload. Text files and the wasm are gzipped for clients
// that accept it (the wasm shrinks about 4x).
func newHandler(wasmPath, wasmExecPath string, runs []runSource) (http.Handler, error) {
	for _, path := range []string{wasmPath, wasmExecPath} {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("serving the page: %w", err)
		}
	}
	if _, err := fs.Stat(web.Files, "index.html"); err != nil {
		return nil, fmt.Errorf("the embedded page has no index.html: %w", err)
	}
	gz := &compressed{}
	// Compress the wasm now (about a second for 11 MB), not when the first page asks for it.
	go gz.warm(os.DirFS(filepath.Dir(wasmPath)), filepath.Base(wasmPath))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		ctype, ok := contentTypes[path.Ext(name)]
		if !ok || !fs.ValidPath(name) {
			http.NotFound(w, r)
			return
		}
		gz.serve(w, r, web.Files, name, ctype)
	})
	mux.HandleFunc("GET /amopo.wasm", func(w http.ResponseWriter, r *http.Request) {
		gz.serve(w, r, os.DirFS(filepath.Dir(wasmPath)), filepath.Base(wasmPath), "application/wasm")
	})
	mux.HandleFunc("GET /wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		gz.serve(w, r, os.DirFS(filepath.Dir(wasmExecPath)), filepath.Base(wasmExecPath), "text/javascript; charset=utf-8")
	})
	(&runAPI{runs: runs}).register(mux)
	return noCache(mux), nil
}

// contentTypes are the kinds of file the page is made of; anything else is not served.
var contentTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".json":  "application/json",
	".jsonl": "application/jsonl; charset=utf-8",
}

func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

// timeouts bound how long a connection may hold the server without doing its part.
type timeouts struct {
	// ReadHeader: a client that opens a connection and never finishes its request
	// headers (a half-open or slow-loris connection) is dropped after this.
	ReadHeader, Read, Idle time.Duration
	// Write bounds each response; the run-following event stream lifts it for itself.
	Write time.Duration
}

// serverTimeouts are cmd/web's: generous for a 3 MB gzipped wasm on a slow link, short
// for a request that never arrives.
var serverTimeouts = timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Idle: 120 * time.Second, Write: 5 * time.Minute}

func newServer(h http.Handler, t timeouts) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read, IdleTimeout: t.Idle, WriteTimeout: t.Write}
}
