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
//
// # Limits
//
// The request is read from stdin up to DefaultMaxBody bytes (16 MiB: a pair of 4
// dimensions with 100,000 tokens per response fits); --max-body raises it. A longer input
// is refused without being read to its end, so a runaway pipe cannot exhaust memory.
//
// # Numbers
//
// An answer is right or refused: a value that overflows float64 (beta near
// math.MaxFloat64, log-probs whose sum is not representable) is an error that names the
// field, the dimension and the inputs, never a 0 in the JSON.
package main

import (
	"bytes"
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

// DefaultMaxBody is the largest request read from stdin unless --max-body says otherwise.
const DefaultMaxBody = 16 << 20

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
	maxBody := flags.Int64("max-body", DefaultMaxBody, "largest request read from stdin, in bytes")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "loss: %v\n", oneLine(err))
		return 2
	}
	if flags.NArg() > 0 {
		return fail(fmt.Errorf("unexpected argument %q: the request is read from stdin", flags.Arg(0)))
	}
	if *maxBody < 1 {
		return fail(fmt.Errorf("--max-body: must be at least 1 byte, got %d", *maxBody))
	}
	body, err := readBounded(stdin, *maxBody)
	if err != nil {
		return fail(err)
	}
	p, pair, err := spec.DecodeRequest(bytes.NewReader(body))
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

// readBounded reads all of r if it holds at most limit bytes; it stops at limit+1 bytes
// otherwise, and says so.
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading stdin: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("stdin: the request is over the limit of %d bytes (--max-body raises it)", limit)
	}
	return body, nil
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
