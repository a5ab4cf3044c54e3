//go:build js && wasm

// Command edge is the AMoPO loss as a Cloudflare Worker (github.com/syumai/workers): the
// routes of package api, computed with the float64 reference so that the wasm stays small
// (no GoMLX). See wasm/edge/README.md to run it under workerd or deploy it.
package main

import (
	"github.com/amopo-engine/amopo/wasm/edge/api"
	"github.com/syumai/workers"
)

func main() {
	workers.Serve(api.Handler())
}
