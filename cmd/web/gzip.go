package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"
)

// compressed keeps the gzip of each static file, keyed by its name, size and modification
// time: the 11 MB wasm is compressed once per build (about 1 s), not once per request.
type compressed struct {
	mu    sync.Mutex
	files map[string]gzEntry
}

type gzEntry struct {
	size    int64
	modTime time.Time
	gz      []byte
}

// get returns the gzip of the file read by open, compressing it when the cache has no
// entry for this size and modification time.
func (c *compressed) get(name string, size int64, modTime time.Time, open func() (io.ReadCloser, error)) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.files[name]; ok && e.size == size && e.modTime.Equal(modTime) {
		return e.gz, nil
	}
	f, err := open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(zw, f); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if c.files == nil {
		c.files = map[string]gzEntry{}
	}
	c.files[name] = gzEntry{size: size, modTime: modTime, gz: buf.Bytes()}
	return buf.Bytes(), nil
}

// warm compresses a file into the cache ahead of its first request; a request that comes
// meanwhile waits for it instead of compressing it a second time. Errors are left for the
// request to report.
func (c *compressed) warm(fsys fs.FS, name string) {
	info, err := fs.Stat(fsys, name)
	if err != nil {
		return
	}
	c.get(name, info.Size(), info.ModTime(), func() (io.ReadCloser, error) { return fsys.Open(name) }) //nolint:errcheck // see above
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip (q > 0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// serveCompressible serves one file of fsys (or of the disk, through an fs.FS rooted at
// its directory) with its content type, gzipped when the client accepts it. Range
// requests and conditional requests are answered by http.ServeContent on whichever
// representation is sent.
func (c *compressed) serve(w http.ResponseWriter, r *http.Request, fsys fs.FS, name, contentType string) {
	info, err := fs.Stat(fsys, name)
	if err != nil || info.IsDir() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Add("Vary", "Accept-Encoding")
	if !acceptsGzip(r) {
		f, err := fsys.Open(name)
		if err != nil {
			http.Error(w, "cannot open "+name, http.StatusInternalServerError)
			return
		}
		defer f.Close()
		http.ServeContent(w, r, name, info.ModTime(), f.(io.ReadSeeker))
		return
	}
	gz, err := c.get(name, info.Size(), info.ModTime(), func() (io.ReadCloser, error) { return fsys.Open(name) })
	if err != nil {
		http.Error(w, "compressing "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Encoding", "gzip")
	http.ServeContent(w, r, name, info.ModTime(), bytes.NewReader(gz))
}
