// Package web holds the static page (HTML, CSS, plain JS modules) that cmd/web serves
// beside the Go wasm of wasm/page. Embedding it makes the server a single binary that
// works offline; web/test holds the browser and edge test drivers (not embedded).
package web

import "embed"

// Files are the page's files: index.html, style.css, js/*.js and the example runs.
//
//go:embed index.html style.css js/*.js examples
var Files embed.FS
