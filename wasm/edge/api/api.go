// Package api is the edge worker's HTTP API, kept free of syscall/js so that it is tested
// natively (httptest) as well as under workerd:
//
//	POST /loss     body: spec.Request (cmd/loss's JSON)  -> spec.Response, computed with the
//	               float64 reference (the same as `go run ./cmd/loss --reference`)
//	POST /weights  body: sampling.Request                 -> sampling.Response (wasm/sampling)
//	GET  /         a one-line JSON description
//
// A bad request gets 400 and {"error": "<one line>"}, a body over MaxBody bytes 413, an
// unknown path 404, another method 405.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/amopo-engine/amopo/amopo/ref"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/wasm/sampling"
)

// MaxBody is the largest request body accepted: 1 MiB.
const MaxBody = 1 << 20

// Handler returns the worker's handler.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /loss", jsonHandler(computeLoss))
	mux.HandleFunc("POST /weights", jsonHandler(sampleWeights))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{
			"service": "amopo edge",
			"routes":  "POST /loss (spec.Request -> spec.Response, float64 reference); POST /weights (sampling.Request)",
		})
	})
	return mux
}

// badRequest marks an error as the client's.
type badRequest struct{ error }

func computeLoss(body []byte) (any, error) {
	p, pair, err := spec.DecodeRequest(bytes.NewReader(body))
	if err != nil {
		return nil, badRequest{err}
	}
	res, err := ref.Compute(&p, []spec.Pair{pair})
	if err != nil {
		return nil, badRequest{err}
	}
	resp := res.Response(&p)
	resp.Sanitize()
	return resp, nil
}

func sampleWeights(body []byte) (any, error) {
	req, err := sampling.DecodeBytes(body)
	if err != nil {
		return nil, badRequest{err}
	}
	resp, err := sampling.Sample(&req)
	if err != nil {
		return nil, badRequest{err}
	}
	return resp, nil
}

// jsonHandler reads a bounded body, runs fn and writes its answer or error as JSON.
func jsonHandler(fn func(body []byte) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBody {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("body of %d bytes: the limit is %d", r.ContentLength, MaxBody))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("body over the limit of %d bytes", MaxBody))
			return
		case err != nil:
			writeError(w, http.StatusBadRequest, fmt.Errorf("reading the body: %w", err))
			return
		}
		out, err := fn(body)
		var bad badRequest
		switch {
		case errors.As(err, &bad):
			writeError(w, http.StatusBadRequest, bad.error)
		case err != nil:
			writeError(w, http.StatusInternalServerError, err)
		default:
			writeJSON(w, http.StatusOK, out)
		}
	}
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": strings.ReplaceAll(err.Error(), "\n", " ")})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(body, '\n')) //nolint:errcheck // the client went away: nothing to do
}
