//go:build !js

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amopo-engine/amopo/amopo/ref"
	"github.com/amopo-engine/amopo/amopo/spec"
	"github.com/amopo-engine/amopo/wasm/edge/api"
	"github.com/amopo-engine/amopo/wasm/sampling"
	"github.com/amopo-engine/amopo/web/webtest"
	"github.com/stretchr/testify/require"
)

// TestWorkerUnderWorkerd builds the worker as for Cloudflare (wasm + syumai/workers'
// shim), serves it with workerd on 127.0.0.1 and checks its answers against the float64
// reference, and its 400, 404, 405 and 413 answers (a chunked body and the MaxBody boundary
// included).
func TestWorkerUnderWorkerd(t *testing.T) {
	workerd := filepath.Join(webtest.TestDir(t), "node_modules", ".bin", "workerd")
	root := webtest.Root(t)
	dir := t.TempDir()
	build := filepath.Join(dir, "build")
	gen := exec.Command("go", "run", "github.com/syumai/workers/cmd/workers-assets-gen", "-mode=go", "-o", build)
	gen.Dir = root
	out, err := gen.CombinedOutput()
	require.NoError(t, err, "workers-assets-gen: %s", out)
	wasm := exec.Command("go", "build", "-o", filepath.Join(build, "app.wasm"), "./wasm/edge")
	wasm.Dir, wasm.Env = root, append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err = wasm.CombinedOutput()
	require.NoError(t, err, "GOOS=js GOARCH=wasm go build ./wasm/edge: %s", out)
	config, err := os.ReadFile("workerd.capnp")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "workerd.capnp"), config, 0o644))

	base := startWorkerd(t, workerd, filepath.Join(dir, "workerd.capnp"))

	t.Run("loss equals the reference", func(t *testing.T) {
		for _, body := range []string{
			`{"loss":"amopo","seed":1,"chosen_logps":[[-1,-2],[-0.5],[-1],[-0.1]],"rejected_logps":[[-2,-2],[-3],[-1],[-0.3]]}`,
			`{"loss":"amopo","policy":"gaussian-split","seed":9,"step":4,"chosen_logps":[[-1,-2],[-0.5,-0.2]],"rejected_logps":[[-2],[-3,-1]]}`,
			`{"loss":"simpo","gamma":0.5,"chosen_logps":[[-1,-1.5]],"rejected_logps":[[-2]]}`,
			`{"loss":"cal-dpo","chosen_logps":[[-1]],"rejected_logps":[[-2]],"ref_chosen_logps":[[-1.2]],"ref_rejected_logps":[[-1.5]]}`,
		} {
			code, got := call(t, base+"/loss", body)
			require.Equal(t, http.StatusOK, code, "%s", got)
			p, pair, err := spec.DecodeRequest(strings.NewReader(body))
			require.NoError(t, err)
			want, err := ref.Compute(&p, []spec.Pair{pair})
			require.NoError(t, err)
			var resp spec.Response
			require.NoError(t, json.Unmarshal(got, &resp))
			wantResp := want.Response(&p)
			// wasm's math.Exp and math.Log are Go's portable code, amd64's partly assembly:
			// the last bits may differ.
			require.InEpsilon(t, wantResp.Loss, resp.Loss, 1e-12, body)
			for name, pair := range map[string][2][]float64{"alpha": {wantResp.Alpha, resp.Alpha},
				"mu": {wantResp.Mu, resp.Mu}, "margins": {wantResp.Margins, resp.Margins}, "losses": {wantResp.Losses, resp.Losses}} {
				require.InDeltaSlice(t, pair[0], pair[1], 1e-12, "%s of %s", name, body)
			}
		}
	})

	t.Run("weights equal the sampler", func(t *testing.T) {
		body := `{"policy":"gaussian","seed":3,"n":40,"chosen_probs":[[0.9,0.8],[0.5]],"rejected_probs":[[0.3],[0.6,0.1]]}`
		code, got := call(t, base+"/weights", body)
		require.Equal(t, http.StatusOK, code, "%s", got)
		req, err := sampling.DecodeBytes([]byte(body))
		require.NoError(t, err)
		want, err := sampling.Sample(&req)
		require.NoError(t, err)
		var resp sampling.Response
		require.NoError(t, json.Unmarshal(got, &resp))
		require.Len(t, resp.Alpha, 40)
		for i := range want.Alpha {
			require.InDeltaSlice(t, want.Alpha[i], resp.Alpha[i], 1e-12)
			require.InDeltaSlice(t, want.Raw[i], resp.Raw[i], 1e-12)
		}
	})

	t.Run("malformed requests get 400 and one line", func(t *testing.T) {
		for path, cases := range map[string]map[string]string{
			"/loss": {
				`{"loss":"amopo",`: "truncated JSON",
				`{"loss":"kto","chosen_logps":[[-1]],"rejected_logps":[[-2]]}`:    `unknown loss "kto"`,
				`{"loss":"amopo","chosen_logps":[[0.5]],"rejected_logps":[[-2]]}`: "log-prob must be <= 0",
				``: "empty body",
			},
			"/weights": {
				`{"n":5,"mu":[0.5]}`:       "sigma: 0 values",
				`{"n":5,"mu":[0.5],"x":1}`: `unknown field "x"`,
			},
		} {
			for body, want := range cases {
				code, got := call(t, base+path, body)
				require.Equal(t, http.StatusBadRequest, code, "%s %s: %s", path, body, got)
				var e struct{ Error string }
				require.NoError(t, json.Unmarshal(got, &e))
				require.Contains(t, e.Error, want)
				require.NotContains(t, e.Error, "\n")
			}
		}
	})

	t.Run("oversized bodies get 413", func(t *testing.T) {
		big := `{"loss":"amopo","chosen_logps":[[` + strings.Repeat("-1,", api.MaxBody/3+10) + `-1]]}`
		for _, path := range []string{"/loss", "/weights"} {
			code, got := call(t, base+path, big)
			require.Equal(t, http.StatusRequestEntityTooLarge, code, "%s: %s", path, got)
			require.Contains(t, string(got), `"error"`)
		}
	})

	t.Run("body limit, with and without a length", func(t *testing.T) {
		// A valid request padded with spaces: only the limit can refuse it.
		padded := func(n int) string {
			body := `{"loss":"simpo","chosen_logps":[[-1]],"rejected_logps":[[-2]]}`
			return body + strings.Repeat(" ", n-len(body))
		}
		for _, chunked := range []bool{false, true} {
			for n, want := range map[int]int{api.MaxBody: http.StatusOK, api.MaxBody + 1: http.StatusRequestEntityTooLarge} {
				var body io.Reader = strings.NewReader(padded(n))
				if chunked {
					body = io.MultiReader(body) // no length: the client sends it chunked
				}
				resp, err := http.Post(base+"/loss", "application/json", body)
				require.NoError(t, err)
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.NoError(t, err)
				require.Equal(t, want, resp.StatusCode, "chunked %v, %d bytes: %s", chunked, n, got)
				require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			}
		}
	})

	t.Run("unclean paths and other methods get JSON 404 and 405", func(t *testing.T) {
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
			for path, want := range map[string]int{"//loss": http.StatusNotFound, "/./loss": http.StatusNotFound,
				"/loss/../loss": http.StatusNotFound, "/nope": http.StatusNotFound, "/weights": http.StatusMethodNotAllowed} {
				if method == http.MethodPost && path == "/weights" {
					continue
				}
				req, err := http.NewRequest(method, base+path, strings.NewReader(`{"loss":"simpo"}`))
				require.NoError(t, err)
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.NoError(t, err)
				require.Equal(t, want, resp.StatusCode, "%s %s: %s", method, path, got)
				var e struct{ Error string }
				require.NoError(t, json.Unmarshal(got, &e), "%s %s: %s", method, path, got)
				require.NotEmpty(t, e.Error)
			}
		}
	})

	t.Run("bounded weights and overflowing losses get 400", func(t *testing.T) {
		mu, sigma := strings.TrimSuffix(strings.Repeat("0.5,", 16), ","), strings.TrimSuffix(strings.Repeat("0.1,", 16), ",")
		code, got := call(t, base+"/weights", fmt.Sprintf(`{"n":20000,"mu":[%s],"sigma":[%s]}`, mu, sigma))
		require.Equal(t, http.StatusBadRequest, code, "%s", got)
		var e struct{ Error string }
		require.NoError(t, json.Unmarshal(got, &e))
		require.Contains(t, e.Error, "at most 65536: ask for n <= 4096")
		code, got = call(t, base+"/loss", `{"loss":"simpo","beta":1e308,"chosen_logps":[[-1]],"rejected_logps":[[-2]]}`)
		require.Equal(t, http.StatusBadRequest, code, "%s", got)
		require.NoError(t, json.Unmarshal(got, &e))
		require.Contains(t, e.Error, `rejected_rewards[0] (dimension "dim_1") is -Inf`)
	})
}

func call(t *testing.T, url, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, got
}

// startWorkerd serves the config on a free port of 127.0.0.1 until the test ends.
func startWorkerd(t *testing.T, workerd, config string) string {
	port := webtest.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, workerd, "serve", config, "--socket-addr", fmt.Sprintf("http=127.0.0.1:%d", port))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		cmd.Wait() //nolint:errcheck // killed on purpose
		if t.Failed() {
			t.Logf("workerd's output:\n%s", logs.String())
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/")
		if err == nil {
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			return base
		}
		if time.Now().After(deadline) {
			t.Fatalf("workerd did not answer on %s within 30s: %v\n%s", base, err, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
