// Package api is the edge worker's HTTP API, kept free of syscall/js so that it is tested
// natively (httptest) as well as under workerd:
//
//	POST /loss     body: spec.Request (cmd/loss's JSON)  -> spec.Response, computed with the
//	               float64 reference (the same as `go run ./cmd/loss --reference`)
//	POST /weights  body: sampling.Request                 -> sampling.Response (wasm/sampling)
//	GET  /         a one-line JSON description
//
// # Errors
//
// Every answer is JSON. A bad request gets 400 and {"error": "<one line>"}, a body over
// MaxBody bytes 413 (with or without a Content-Length), any other path 404 (unclean paths
// such as //loss or /./loss included: they are not redirected), another method 405.
//
// # Limits
//
// A body is at most MaxBody bytes. POST /weights answers at most MaxWeightValues weights
// (n draws times K dimensions, about 40 bytes of JSON each) and does at most
// MaxWeightTokenDraws token visits (n times the tokens of the pair), so one request costs
// a few megabytes and a fraction of a second, not the 12.6 MB and 0.46 s CPU of n = 20,000
// at K = 16.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"

	"github.com/amopo-engine/amopo/amopo/ref"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/wasm/sampling"
)

// MaxBody is the largest request body accepted: 1 MiB.
const MaxBody = 1 << 20

// Limits of one POST /weights answer.
const (
	// MaxWeightValues bounds n*K, the number of raw weights (and as many alphas) answered.
	MaxWeightValues = 1 << 16
	// MaxWeightTokenDraws bounds n times the token count of the pair (both sides, every
	// dimension): each draw visits every token.
	MaxWeightTokenDraws = 1 << 22
)

// route is the one method a path answers, and its handler.
type route struct {
	method  string
	handler http.HandlerFunc
}

// Handler returns the worker's handler. It matches exact paths itself rather than with
// http.ServeMux, whose redirect of an unclean path (POST //loss -> 307 /loss) threw an
// uncaught exception in the worker instead of answering.
func Handler() http.Handler {
	routes := map[string]route{
		"/loss":    {http.MethodPost, jsonHandler(computeLoss)},
		"/weights": {http.MethodPost, jsonHandler(sampleWeights)},
		"/": {http.MethodGet, func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, map[string]string{
				"service": "amopo edge",
				"routes":  "POST /loss (spec.Request -> spec.Response, float64 reference); POST /weights (sampling.Request)",
			})
		}},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, ok := routes[r.URL.Path]
		if !ok {
			writeError(w, http.StatusNotFound, fmt.Errorf("no route %q (routes: GET /, POST /loss, POST /weights)", r.URL.Path))
			return
		}
		if r.Method != rt.method && (rt.method != http.MethodGet || r.Method != http.MethodHead) {
			w.Header().Set("Allow", rt.method)
			writeError(w, http.StatusMethodNotAllowed, fmt.Errorf("%s %s: only %s is allowed", r.Method, r.URL.Path, rt.method))
			return
		}
		rt.handler(w, r)
	})
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
	if err := checkWeightNulls(body); err != nil {
		return nil, badRequest{err}
	}
	if err := checkWeightCost(&req); err != nil {
		return nil, badRequest{err}
	}
	resp, err := sampling.Sample(&req)
	if err != nil {
		return nil, badRequest{err}
	}
	if err := checkWeightsFinite(resp); err != nil {
		return nil, badRequest{err}
	}
	return resp, nil
}

// weightNumbers mirrors sampling.Request's number arrays with pointers, to see JSON
// nulls, which encoding/json reads as 0 (a mu, a sigma or a weight of 0).
type weightNumbers struct {
	Mu            []*float64   `json:"mu"`
	Sigma         []*float64   `json:"sigma"`
	Weights       []*float64   `json:"weights"`
	ChosenProbs   [][]*float64 `json:"chosen_probs"`
	RejectedProbs [][]*float64 `json:"rejected_probs"`
}

// checkWeightNulls names the first null in a number array of a decoded /weights body.
func checkWeightNulls(body []byte) error {
	var n weightNumbers
	if err := json.Unmarshal(body, &n); err != nil {
		return fmt.Errorf("request: %w", err)
	}
	for name, xs := range map[string][]*float64{"mu": n.Mu, "sigma": n.Sigma, "weights": n.Weights} {
		for i, x := range xs {
			if x == nil {
				return fmt.Errorf("%s[%d]: null is not a number", name, i)
			}
		}
	}
	for name, rows := range map[string][][]*float64{"chosen_probs": n.ChosenProbs, "rejected_probs": n.RejectedProbs} {
		for d, row := range rows {
			for i, x := range row {
				if x == nil {
					return fmt.Errorf("%s[%d][%d]: null is not a probability", name, d, i)
				}
			}
		}
	}
	return nil
}

// checkWeightsFinite names the first draw that overflowed float64 (mu + sigma*z with mu
// and sigma near math.MaxFloat64): JSON cannot carry it, and 0 would be a wrong answer.
func checkWeightsFinite(resp *sampling.Response) error {
	for i := range resp.Raw {
		for d, dim := range resp.Dimensions {
			for _, f := range []struct {
				name string
				v    float64
			}{{"raw", resp.Raw[i][d]}, {"alpha", resp.Alpha[i][d]}} { // raw first: alpha follows from it
				if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
					return fmt.Errorf("%s[%d][%d] (draw %d, dimension %q) is %v: mu %v and sigma %v overflow float64",
						f.name, i, d, i, dim, f.v, resp.Mu[d], resp.Sigma[d])
				}
			}
		}
	}
	return nil
}

// checkWeightCost refuses a request whose answer or work is over the limits, before any
// draw. The request's own validation (sampling.Sample) follows.
func checkWeightCost(req *sampling.Request) error {
	k := max(len(req.Mu), len(req.ChosenProbs), len(req.RejectedProbs))
	if values := int64(req.N) * int64(k); values > MaxWeightValues {
		return fmt.Errorf("n: %d draws of K = %d dimensions is %d weights per answer, at most %d: ask for n <= %d",
			req.N, k, values, MaxWeightValues, MaxWeightValues/max(k, 1))
	}
	tokens := 0
	for _, side := range [][][]float64{req.ChosenProbs, req.RejectedProbs} {
		for _, probs := range side {
			tokens += len(probs)
		}
	}
	if work := int64(req.N) * int64(tokens); work > MaxWeightTokenDraws {
		return fmt.Errorf("n: %d draws over the pair's %d tokens is %d token visits, at most %d: ask for n <= %d",
			req.N, tokens, work, MaxWeightTokenDraws, MaxWeightTokenDraws/max(tokens, 1))
	}
	return nil
}

// jsonHandler reads a bounded body, runs fn and writes its answer or error as JSON.
func jsonHandler(fn func(body []byte) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBody {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("body of %d bytes: over the limit of %d bytes", r.ContentLength, MaxBody))
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
