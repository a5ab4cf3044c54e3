// Command loss computes the loss of the AMoPO family for token log-probs given as JSON,
// so that a user can inspect it without writing Go.
//
//	echo '{"loss":"amopo","seed":1,"chosen_logps":[[-1,-2],[-0.5],[-1],[-0.1]],
//	       "rejected_logps":[[-2,-2],[-3],[-1],[-0.3]]}' | go run ./cmd/loss
//
// The body is one spec.Request (amopo/spec/request.go); the answer one spec.Response:
// {"loss": x, "alpha": [...], "mu": [...], "sigma": [...], "margins": [...], ...}.
// The paper's baselines take more inputs (docs/loss.md): modpo its objective_weights and
// chosen_margin_rewards / rejected_margin_rewards, controllable-cpo the reference's
// log-probs on the control-token prompt as ref_chosen_logps / ref_rejected_logps.
// By default the loss runs as the GoMLX graph on the pure-Go backend, in float64;
// --reference uses the float64 reference instead (they agree: a test holds them to it).
// A bad request prints one line on stderr and exits with status 2.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/amopo-engine/amopo/amopo"
	"github.com/amopo-engine/amopo/amopo/ref"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("loss", flag.ContinueOnError)
	flags.SetOutput(stderr)
	useRef := flags.Bool("reference", false, "compute with the float64 reference instead of the GoMLX graph")
	withGrad := flags.Bool("gradient", false, "add dLoss/d(token log-prob) to the answer")
	backendName := flags.String("backend", "go", "GoMLX backend for the graph (go, or xla:... where built)")
	indent := flags.Bool("indent", false, "indent the JSON answer")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "loss: %v\n", oneLine(err))
		return 2
	}
	p, pair, err := spec.DecodeRequest(stdin)
	if err != nil {
		return fail(err)
	}
	batch := []spec.Pair{pair}
	var res *spec.Result
	var grads []spec.Pair
	if *useRef {
		out, err := ref.Compute(&p, batch)
		if err != nil {
			return fail(err)
		}
		res = out
		if *withGrad {
			if grads, err = ref.Gradient(&p, batch, out.Alpha); err != nil {
				return fail(err)
			}
		}
	} else {
		backend, err := newBackend(*backendName)
		if err != nil {
			return fail(fmt.Errorf("backend %q: %w", *backendName, err))
		}
		defer backend.Finalize()
		if res, grads, err = amopo.Evaluate(backend, &p, batch, *withGrad); err != nil {
			return fail(err)
		}
	}
	if res.InvalidPairs > 0 {
		return fail(fmt.Errorf("the pair has a side with no token or a non-finite log-prob"))
	}
	resp := res.Response(&p)
	if grads != nil {
		resp.GradChosenLogps, resp.GradRejectedLogps = grads[0].Chosen, grads[0].Rejected
	}
	resp.Sanitize()
	enc := json.NewEncoder(stdout)
	if *indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(resp); err != nil {
		return fail(err)
	}
	return 0
}

// oneLine keeps an error on one line, as the contract promises.
func oneLine(err error) string {
	b := []byte(err.Error())
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}

// newBackend returns the GoMLX backend of that configuration; GoMLX v0.26 panics on an
// unknown name, which becomes an error listing the known ones here.
func newBackend(config string) (backend backends.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v (known backends: %v)", r, backends.List())
		}
	}()
	return backends.NewWithConfig(config)
}
