//go:build js && wasm

// Command page is the web page's Go side, built with GOOS=js GOARCH=wasm and served by
// cmd/web. It registers globalThis.amopo, whose functions take one JSON string and return
// a Promise of a JSON string (rejected with an Error whose message is one line):
//
//	sample(sampling.Request)        -> sampling.Response (package wasm/sampling, float64 ref)
//	loss({sampling, loss, draw})     -> {request, evaluate, reference}: the spec.Request of
//	                                   that draw, and its spec.Response from amopo.Evaluate on
//	                                   GoMLX's pure-Go backend and from the float64 ref
//	trainInit({loss, policy, seed, webgpu}) -> {dimensions, backend, webgpu, webgpuError}: with
//	                                   webgpu true, the step runs on the webgpu backend (package
//	                                   engine over navigator.gpu, via wasm/toy) and falls
//	                                   back to the pure-Go backend if that fails (webgpuError)
//	trainStep()                      -> one step's metrics (cmd/amopo-demo's names)
//
// The work runs in a goroutine so that the page stays responsive between calls.
package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall/js"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/amopo/ref"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/engine"
	"github.com/amopo-engine/amopo/wasm/sampling"
	"github.com/amopo-engine/amopo/wasm/toy"
	"github.com/gomlx/gomlx/backends"
)

// lossBackend is what cmd/loss uses by default: the pure-Go backend.
const lossBackend = "go"

func main() {
	api := js.Global().Get("Object").New()
	api.Set("sample", promised(sample))
	api.Set("loss", promised(loss))
	api.Set("trainInit", promised(trainInit))
	api.Set("trainStep", promised(trainStep))
	api.Set("backend", "GoMLX pure-Go backend (simplego) in wasm, float64 for the loss")
	js.Global().Set("amopo", api)
	js.Global().Call("dispatchEvent", js.Global().Get("Event").New("amopo-ready"))
	select {} // keep the Go side alive for the callbacks
}

// promised wraps a JSON-in, JSON-out function as a JS function returning a Promise.
func promised(fn func(arg string) (any, error)) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) any {
		arg := ""
		if len(args) > 0 && args[0].Type() == js.TypeString {
			arg = args[0].String()
		}
		executor := js.FuncOf(func(_ js.Value, pargs []js.Value) any {
			resolve, reject := pargs[0], pargs[1]
			go func() {
				out, err := call(fn, arg)
				if err != nil {
					reject.Invoke(js.Global().Get("Error").New(strings.ReplaceAll(err.Error(), "\n", " ")))
					return
				}
				resolve.Invoke(out)
			}()
			return nil
		})
		defer executor.Release()
		return js.Global().Get("Promise").New(executor)
	})
}

// call runs fn, turning a panic (GoMLX reports graph errors so) into an error.
func call(fn func(string) (any, error), arg string) (out string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	v, err := fn(arg)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encoding the answer: %w", err)
	}
	return string(b), nil
}

func sample(arg string) (any, error) {
	req, err := sampling.DecodeBytes([]byte(arg))
	if err != nil {
		return nil, err
	}
	return sampling.Sample(&req)
}

// lossArgs asks for the loss of one draw of a sampling request.
type lossArgs struct {
	Sampling sampling.Request `json:"sampling"`
	Loss     string           `json:"loss"`
	Draw     int              `json:"draw"`
}

type lossAnswer struct {
	Request   spec.Request  `json:"request"`
	Evaluate  spec.Response `json:"evaluate"`
	Reference spec.Response `json:"reference"`
	Backend   string        `json:"backend"`
}

func loss(arg string) (any, error) {
	var a lossArgs
	if err := json.Unmarshal([]byte(arg), &a); err != nil {
		return nil, fmt.Errorf("loss arguments: %w", err)
	}
	req, err := a.Sampling.LossRequest(a.Loss, a.Draw)
	if err != nil {
		return nil, err
	}
	p, pair, err := req.Resolve()
	if err != nil {
		return nil, err
	}
	batch := []spec.Pair{pair}
	backend, err := backends.NewWithConfig(lossBackend)
	if err != nil {
		return nil, fmt.Errorf("backend %q: %w", lossBackend, err)
	}
	defer backend.Finalize()
	res, _, err := amopo.Evaluate(backend, &p, batch, false)
	if err != nil {
		return nil, err
	}
	want, err := ref.Compute(&p, batch)
	if err != nil {
		return nil, err
	}
	ans := lossAnswer{Request: req, Evaluate: res.Response(&p), Reference: want.Response(&p),
		Backend: "amopo.Evaluate on GoMLX's pure-Go backend (" + lossBackend + "), float64, in wasm"}
	ans.Evaluate.Sanitize()
	ans.Reference.Sanitize()
	return ans, nil
}

// trainer is the page's toy training run, on WebGPU or on the pure-Go backend.
var trainer *toy.Trainer

type trainArgs struct {
	Loss   string `json:"loss"`
	Policy string `json:"policy"`
	Seed   uint64 `json:"seed"`
	WebGPU bool   `json:"webgpu"`
}

func trainInit(arg string) (any, error) {
	var a trainArgs
	if err := json.Unmarshal([]byte(arg), &a); err != nil {
		return nil, fmt.Errorf("train arguments: %w", err)
	}
	if trainer != nil {
		trainer.Close()
		trainer = nil
	}
	ans := map[string]any{}
	if a.WebGPU {
		t, err := newWebGPUTrainer(a)
		if err == nil {
			trainer = t
			ans["dimensions"], ans["webgpu"] = t.Params.Dimensions, true
			ans["backend"] = "GoMLX webgpu backend (package engine) over navigator.gpu, in wasm"
			return ans, nil
		}
		ans["webgpuError"] = strings.ReplaceAll(err.Error(), "\n", " ")
	}
	b, err := backends.NewWithConfig(toy.Backend)
	if err != nil {
		return nil, err
	}
	t, err := toy.New(b, a.Loss, a.Policy, a.Seed)
	if err != nil {
		return nil, err
	}
	trainer = t
	ans["dimensions"], ans["webgpu"] = t.Params.Dimensions, false
	ans["backend"] = "GoMLX pure-Go backend (" + toy.Backend + ") in wasm"
	return ans, nil
}

// newWebGPUTrainer opens the webgpu backend over navigator.gpu (the trainer owns it).
func newWebGPUTrainer(a trainArgs) (*toy.Trainer, error) {
	b, err := engine.NewBackend("")
	if err != nil {
		return nil, err
	}
	return toy.New(b, a.Loss, a.Policy, a.Seed)
}

func trainStep(string) (any, error) {
	if trainer == nil {
		return nil, fmt.Errorf("trainStep: call trainInit first")
	}
	return trainer.Step()
}
