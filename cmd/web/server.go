package main

import (
	"fmt"
	"io/fs"
	"net/http"
	"os"

	"github.com/amopo-engine/amopo/web"
)

// newHandler serves the embedded page, the wasm and Go's wasm_exec.js. Nothing is cached
// by the browser (no-cache: it revalidates), so a rebuilt wasm is picked up on reload.
func newHandler(wasmPath, wasmExecPath string) (http.Handler, error) {
	for _, path := range []string{wasmPath, wasmExecPath} {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("serving the page: %w", err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServerFS(web.Files))
	mux.HandleFunc("/amopo.wasm", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm")
		http.ServeFile(w, r, wasmPath)
	})
	mux.HandleFunc("/wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, wasmExecPath)
	})
	if _, err := fs.Stat(web.Files, "index.html"); err != nil {
		return nil, fmt.Errorf("the embedded page has no index.html: %w", err)
	}
	return noCache(mux), nil
}

func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}
