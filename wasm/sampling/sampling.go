// Package sampling draws the AMoPO weights of one preference pair many times over, for
// the web page's live histograms and the edge worker's POST /weights. It uses the float64
// reference (package ref) and the shared seeded noise (spec.Noise), so draw i is exactly
// what `go run ./cmd/loss` answers for the same pair with "seed" and "step": Step+i.
//
// The JSON request (Request) gives, per dimension, either the token probabilities of the
// chosen and rejected responses (converted to log-probs with math.Log, as the loss takes
// them) or the Gaussian's mu and sigma directly:
//
//	{"policy": "gaussian", "seed": 1, "n": 1000,
//	 "chosen_probs": [[0.9, 0.8], [0.6]], "rejected_probs": [[0.2], [0.5, 0.4]]}
//	{"policy": "gaussian", "seed": 1, "n": 1000, "mu": [0.5, 0.7], "sigma": [0.1, 0.3]}
//
// and the answer (Response) every draw's raw weights and alpha, [n][K].
//
// It imports only the standard library, spec and ref, so the edge worker stays small.
package sampling

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/amopo-engine/amopo/amopo/ref"
	"github.com/amopo-engine/amopo/amopo/spec"
)

// Limits keep one request's answer to a few megabytes of JSON.
const (
	MaxDraws      = 20000
	MaxDimensions = 16
	MaxTokens     = 4096
)

// Request asks for N draws of the weights of one pair.
type Request struct {
	// Policy is a spec weight policy name; empty means gaussian.
	Policy string `json:"policy,omitempty"`
	// Dimensions name the K dimensions; omitted: the default 4 names when K = 4, else dim_1..dim_K.
	Dimensions []string `json:"dimensions,omitempty"`
	// ChosenProbs and RejectedProbs are [K][tokens] token probabilities in (0, 1].
	ChosenProbs   [][]float64 `json:"chosen_probs,omitempty"`
	RejectedProbs [][]float64 `json:"rejected_probs,omitempty"`
	// Mu and Sigma give each dimension's Gaussian directly, instead of probabilities
	// (gaussian, fixed and uniform only: gaussian-split needs one Gaussian per side).
	Mu    []float64 `json:"mu,omitempty"`
	Sigma []float64 `json:"sigma,omitempty"`
	// Weights are the fixed policy's ratios.
	Weights     []float64 `json:"weights,omitempty"`
	UnbiasedStd bool      `json:"unbiased_std,omitempty"`
	// Seed and Step select the noise: draw i uses spec.Noise(Seed, Step+i, 1, K).
	Seed uint64 `json:"seed"`
	Step uint64 `json:"step,omitempty"`
	// N is the number of draws, 1..MaxDraws.
	N int `json:"n"`
}

// Response holds the draws.
type Response struct {
	Policy     string   `json:"policy"`
	Dimensions []string `json:"dimensions"`
	// Mu and Sigma are each dimension's Gaussian (for gaussian-split, the law of the sum of
	// the two sides' draws, as spec reports it).
	Mu    []float64 `json:"mu"`
	Sigma []float64 `json:"sigma"`
	// Raw and Alpha are [N][K]: the weights before and after normalisation.
	Raw   [][]float64 `json:"raw"`
	Alpha [][]float64 `json:"alpha"`
	// MeanAlpha is the mean of Alpha over the draws.
	MeanAlpha        []float64 `json:"mean_alpha"`
	NonFiniteWeights int       `json:"nonfinite_weights"`
}

// Decode reads one Request, rejecting unknown fields and trailing data; the error is one
// line that names the problem.
func Decode(r io.Reader) (Request, error) {
	var req Request
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		if errors.Is(err, io.EOF) {
			return req, fmt.Errorf("request: empty body, expected one JSON object")
		}
		return req, fmt.Errorf("request: %w", err)
	}
	if dec.More() {
		return req, fmt.Errorf("request: more than one JSON value in the body")
	}
	return req, nil
}

// DecodeBytes is Decode on a byte slice.
func DecodeBytes(body []byte) (Request, error) { return Decode(bytes.NewReader(body)) }

// fromProbs reports whether the request gives token probabilities (else mu and sigma).
func (req *Request) fromProbs() bool { return req.ChosenProbs != nil || req.RejectedProbs != nil }

// Params resolves the request into validated spec parameters (Step is the first draw's).
func (req *Request) Params() (spec.Params, error) {
	p := spec.Defaults(spec.AMoPO)
	if req.Policy != "" {
		policy, err := spec.ParsePolicy(req.Policy)
		if err != nil {
			return p, fmt.Errorf("policy: %w", err)
		}
		p.Policy = policy
	}
	k := len(req.Mu)
	if req.fromProbs() {
		if req.Mu != nil || req.Sigma != nil {
			return p, fmt.Errorf("give either chosen_probs/rejected_probs or mu/sigma, not both")
		}
		k = len(req.ChosenProbs)
	}
	if k == 0 {
		return p, fmt.Errorf("chosen_probs and rejected_probs (or mu and sigma): one entry per dimension needed")
	}
	if k > MaxDimensions {
		return p, fmt.Errorf("%d dimensions: at most %d", k, MaxDimensions)
	}
	switch {
	case len(req.Dimensions) > 0:
		p.Dimensions = req.Dimensions
	case k == len(spec.DefaultDimensions()):
		p.Dimensions = spec.DefaultDimensions()
	default:
		p.Dimensions = make([]string, k)
		for i := range p.Dimensions {
			p.Dimensions[i] = fmt.Sprintf("dim_%d", i+1)
		}
	}
	p.Weights, p.UnbiasedStd, p.Seed, p.Step = req.Weights, req.UnbiasedStd, req.Seed, req.Step
	if err := p.Validate(); err != nil {
		return p, err
	}
	if req.N < 1 || req.N > MaxDraws {
		return p, fmt.Errorf("n: %d draws asked, must be 1..%d", req.N, MaxDraws)
	}
	if req.fromProbs() {
		return p, req.checkProbs(&p)
	}
	return p, req.checkGaussians(&p)
}

func (req *Request) checkProbs(p *spec.Params) error {
	for _, side := range []struct {
		name  string
		probs [][]float64
	}{{"chosen_probs", req.ChosenProbs}, {"rejected_probs", req.RejectedProbs}} {
		if len(side.probs) != p.K() {
			return fmt.Errorf("%s: %d arrays for K = %d dimensions %v", side.name, len(side.probs), p.K(), p.Dimensions)
		}
		for d, tokens := range side.probs {
			if len(tokens) == 0 || len(tokens) > MaxTokens {
				return fmt.Errorf("%s[%d]: %d tokens, must be 1..%d", side.name, d, len(tokens), MaxTokens)
			}
			for t, v := range tokens {
				if !(v > 0 && v <= 1) { // also refuses NaN
					return fmt.Errorf("%s[%d][%d]: a probability must be in (0, 1], got %v", side.name, d, t, v)
				}
			}
		}
	}
	return nil
}

func (req *Request) checkGaussians(p *spec.Params) error {
	if p.Policy == spec.GaussianSplit {
		return fmt.Errorf("policy: gaussian-split draws one Gaussian per side: give chosen_probs and rejected_probs, not mu and sigma")
	}
	if len(req.Sigma) != p.K() {
		return fmt.Errorf("sigma: %d values for K = %d dimensions (mu has %d)", len(req.Sigma), p.K(), len(req.Mu))
	}
	for d := range req.Mu {
		if math.IsNaN(req.Mu[d]) || math.IsInf(req.Mu[d], 0) {
			return fmt.Errorf("mu[%d]: must be finite, got %v", d, req.Mu[d])
		}
		if !(req.Sigma[d] >= 0) || math.IsInf(req.Sigma[d], 0) {
			return fmt.Errorf("sigma[%d]: must be finite and >= 0, got %v", d, req.Sigma[d])
		}
	}
	return nil
}

// Pair is the request's pair as the loss takes it: log-probs = math.Log(probabilities).
// It is what a spec.Request for cmd/loss carries for the same inputs.
func (req *Request) Pair() spec.Pair {
	logs := func(probs [][]float64) [][]float64 {
		out := make([][]float64, len(probs))
		for d, tokens := range probs {
			out[d] = make([]float64, len(tokens))
			for t, v := range tokens {
				out[d][t] = math.Log(v)
			}
		}
		return out
	}
	return spec.Pair{Chosen: logs(req.ChosenProbs), Rejected: logs(req.RejectedProbs)}
}

// Sample validates the request and draws the weights N times.
func Sample(req *Request) (*Response, error) {
	p, err := req.Params()
	if err != nil {
		return nil, err
	}
	k := p.K()
	resp := &Response{Policy: string(p.Policy), Dimensions: p.Dimensions, Raw: make([][]float64, req.N),
		Alpha: make([][]float64, req.N), MeanAlpha: make([]float64, k)}
	for i := range req.N {
		p.Step = req.Step + uint64(i)
		if req.fromProbs() {
			// The reference itself, one draw per noise step: exactly cmd/loss's weights.
			alpha, raw, mu, sigma, nonFinite, err := ref.Weights(&p, []spec.Pair{req.Pair()})
			if err != nil {
				return nil, err
			}
			resp.Raw[i], resp.Alpha[i], resp.Mu, resp.Sigma = raw[0], alpha[0], mu[0], sigma[0]
			resp.NonFiniteWeights += nonFinite
		} else {
			resp.Raw[i], resp.Alpha[i] = drawGaussians(&p, req.Mu, req.Sigma)
			resp.Mu, resp.Sigma = req.Mu, req.Sigma
		}
		for d, a := range resp.Alpha[i] {
			resp.MeanAlpha[d] += a / float64(req.N)
		}
	}
	sanitize(resp.Mu, resp.Sigma) // an unbiased sigma of one token is NaN, which JSON cannot carry
	return resp, nil
}

// drawGaussians is ref's weight policy for given mu and sigma: the same formula
// (raw = mu + sigma*z, softmax over the K dimensions), with the Gaussians given instead of
// estimated from token probabilities.
func drawGaussians(p *spec.Params, mu, sigma []float64) (raw, alpha []float64) {
	k := p.K()
	raw = make([]float64, k)
	switch p.Policy {
	case spec.Fixed:
		return p.NormalizedWeights(), p.NormalizedWeights()
	case spec.Uniform:
		for d := range raw {
			raw[d] = 1 / float64(k)
		}
		return raw, append([]float64(nil), raw...)
	}
	z := spec.Noise(p.Seed, p.Step, 1, k)
	for d := range raw {
		raw[d] = mu[d] + sigma[d]*z[d*spec.NoiseSlots]
	}
	return raw, ref.Softmax(raw)
}

func sanitize(slices ...[]float64) {
	for _, s := range slices {
		for i, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				s[i] = 0
			}
		}
	}
}

// LossRequest is the spec.Request (cmd/loss's JSON) of the request's pair at draw `draw`:
// the same policy, weights, seed and noise step, for the named loss with its defaults.
// It needs token probabilities (a loss needs log-probs) and a reference-free loss.
func (req *Request) LossRequest(loss string, draw int) (spec.Request, error) {
	if !req.fromProbs() {
		return spec.Request{}, fmt.Errorf("the loss needs token probabilities, not mu and sigma")
	}
	p, err := req.Params()
	if err != nil {
		return spec.Request{}, err
	}
	if draw < 0 || draw >= max(req.N, 1) {
		return spec.Request{}, fmt.Errorf("draw %d: out of range 0..%d", draw, max(req.N, 1)-1)
	}
	pair := req.Pair()
	out := spec.Request{
		Loss: loss, Policy: string(p.Policy), Weights: req.Weights, Seed: req.Seed, Step: req.Step + uint64(draw),
		Dimensions: p.Dimensions, UnbiasedStd: req.UnbiasedStd,
		ChosenLogps: pair.Chosen, RejectedLogps: pair.Rejected,
	}
	if _, _, err := out.Resolve(); err != nil {
		return out, err
	}
	return out, nil
}
