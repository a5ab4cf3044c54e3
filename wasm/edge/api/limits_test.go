package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEveryRouteAnswersJSON: unclean paths (//loss, /./loss, /loss/../loss) used to be
// redirected by http.ServeMux, which threw an uncaught exception in the worker (a plain
// text 500); unknown paths and methods answered plain text. All are JSON now.
func TestEveryRouteAnswersJSON(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	body := `{"loss":"simpo","chosen_logps":[[-1]],"rejected_logps":[[-2]]}`
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodGet, http.MethodPatch} {
		for path, want := range map[string]int{
			"//loss": http.StatusNotFound, "/./loss": http.StatusNotFound, "/loss/../loss": http.StatusNotFound,
			"/loss/": http.StatusNotFound, "//weights": http.StatusNotFound, "/nope": http.StatusNotFound,
			"/loss": http.StatusMethodNotAllowed, "/weights": http.StatusMethodNotAllowed,
		} {
			if method == http.MethodPost && (path == "/loss" || path == "/weights") {
				continue // the routes themselves
			}
			req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			require.NoError(t, err)
			require.Equal(t, path, req.URL.Path, "the client sends the path as written")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			require.Equal(t, want, resp.StatusCode, "%s %s: %s", method, path, got)
			require.Equal(t, "application/json", resp.Header.Get("Content-Type"), "%s %s", method, path)
			var e struct{ Error string }
			require.NoError(t, json.Unmarshal(got, &e), "%s %s: %s", method, path, got)
			require.NotEmpty(t, e.Error)
			if want == http.StatusMethodNotAllowed {
				require.Equal(t, http.MethodPost, resp.Header.Get("Allow"))
			}
		}
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	require.Equal(t, http.MethodGet, rec.Header().Get("Allow"))
	rec = httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/", nil))
	require.Equal(t, http.StatusOK, rec.Code)
}

// unknownLength hides a reader's length, so that the client sends it chunked.
type unknownLength struct{ io.Reader }

// paddedRequest is a valid /loss request of exactly n bytes: without the limit it would
// be answered 200, so a 413 can only come from the limit.
func paddedRequest(n int) string {
	body := `{"loss":"simpo","chosen_logps":[[-1]],"rejected_logps":[[-2]]}`
	return body + strings.Repeat(" ", n-len(body))
}

// TestBodyLimitWithAndWithoutLength: MaxBody bytes are accepted and MaxBody+1 refused,
// whether the client sends a Content-Length or a chunked body of unknown length (which
// only http.MaxBytesReader can stop).
func TestBodyLimitWithAndWithoutLength(t *testing.T) {
	type seen struct {
		length   int64
		encoding []string
	}
	var last seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last = seen{r.ContentLength, r.TransferEncoding}
		Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	for _, chunked := range []bool{false, true} {
		for n, want := range map[int]int{MaxBody: http.StatusOK, MaxBody + 1: http.StatusRequestEntityTooLarge, 3 * MaxBody: http.StatusRequestEntityTooLarge} {
			var body io.Reader = strings.NewReader(paddedRequest(n))
			if chunked {
				body = unknownLength{body}
			}
			resp, err := http.Post(srv.URL+"/loss", "application/json", body)
			require.NoError(t, err)
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			require.Equal(t, want, resp.StatusCode, "chunked %v, %d bytes: %s", chunked, n, got)
			if chunked {
				require.Equal(t, seen{-1, []string{"chunked"}}, last, "the body went chunked, of unknown length")
			} else {
				require.Equal(t, int64(n), last.length)
			}
			if want != http.StatusOK {
				require.Contains(t, string(got), fmt.Sprintf("limit of %d bytes", MaxBody))
			}
		}
	}
}

// TestWeightsAnswerIsBounded: n = 20,000 draws at K = 16 used to answer 12.6 MB (0.46 s
// of CPU per request); n*K and n*tokens are capped, with the largest n in the error.
func TestWeightsAnswerIsBounded(t *testing.T) {
	gaussians := func(n, k int) string {
		mu, sigma := strings.TrimSuffix(strings.Repeat("0.5,", k), ","), strings.TrimSuffix(strings.Repeat("0.1,", k), ",")
		return fmt.Sprintf(`{"n":%d,"mu":[%s],"sigma":[%s]}`, n, mu, sigma)
	}
	code, out := post(t, "/weights", gaussians(20000, 16))
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, out["error"], "n: 20000 draws of K = 16 dimensions is 320000 weights per answer, at most 65536: ask for n <= 4096")
	code, out = post(t, "/weights", gaussians(MaxWeightValues/16+1, 16))
	require.Equal(t, http.StatusBadRequest, code, "one draw over the cap")
	require.Contains(t, out["error"], "at most 65536")

	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/weights", strings.NewReader(gaussians(MaxWeightValues/16, 16))))
	require.Equal(t, http.StatusOK, rec.Code)
	var resp struct{ Alpha [][]float64 }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	require.Len(t, resp.Alpha, MaxWeightValues/16)
	t.Logf("the largest answer: %d bytes", rec.Body.Len())
	require.Less(t, rec.Body.Len(), 4<<20, "a few MB at most")

	// The work cap: K = 1, 4096 tokens per draw; 1024 draws are 1<<22 token visits.
	probs := strings.TrimSuffix(strings.Repeat("0.5,", 2048), ",")
	pair := func(n int) string {
		return fmt.Sprintf(`{"n":%d,"chosen_probs":[[%s]],"rejected_probs":[[%s]]}`, n, probs, probs)
	}
	code, _ = post(t, "/weights", pair(MaxWeightTokenDraws/4096))
	require.Equal(t, http.StatusOK, code)
	code, out = post(t, "/weights", pair(MaxWeightTokenDraws/4096+1))
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, out["error"], "n: 1025 draws over the pair's 4096 tokens is 4198400 token visits, at most 4194304: ask for n <= 1024")
}

// TestLossOverflowIsAnError: the worker serves cmd/loss's contract, so an overflowing
// reward is a 400 that names it (it was a 200 with margins and rewards of 0), and huge
// fixed weights are still 1:1 (they were [0, 0]).
func TestLossOverflowIsAnError(t *testing.T) {
	code, out := post(t, "/loss", `{"loss":"simpo","beta":1e308,"chosen_logps":[[-1]],"rejected_logps":[[-2]]}`)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, out["error"], `rejected_rewards[0] (dimension "dim_1") is -Inf`)
	code, out = post(t, "/loss", `{"loss":"simpo","chosen_logps":[[null]],"rejected_logps":[[-2]]}`)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, out["error"], "chosen_logps[0][0]: null is not a log-prob")
	code, out = post(t, "/loss", `{"loss":"amopo","policy":"fixed","weights":[1e308,1e308],"chosen_logps":[[-1],[-1]],"rejected_logps":[[-2],[-2]]}`)
	require.Equal(t, http.StatusOK, code, "%v", out)
	require.Equal(t, []any{0.5, 0.5}, out["alpha"])
}

// TestWeightsRefuseNullAndOverflow: null mu or sigma used to be read as 0, and a draw of
// mu + sigma*z past math.MaxFloat64 failed as a 500 "encoding the answer failed".
func TestWeightsRefuseNullAndOverflow(t *testing.T) {
	for body, want := range map[string]string{
		`{"n":2,"mu":[null,1],"sigma":[1,1]}`:                                  "mu[0]: null is not a number",
		`{"n":2,"mu":[0,1],"sigma":[1,null]}`:                                  "sigma[1]: null is not a number",
		`{"n":2,"policy":"fixed","weights":[1,null],"mu":[0,1],"sigma":[1,1]}`: "weights[1]: null is not a number",
		`{"n":2,"chosen_probs":[[0.5,null]],"rejected_probs":[[0.5]]}`:         "chosen_probs[0][1]: null is not a probability",
	} {
		code, out := post(t, "/weights", body)
		require.Equal(t, http.StatusBadRequest, code, "%s: %v", body, out)
		require.Contains(t, out["error"], want, body)
	}
	code, out := post(t, "/weights", `{"n":3,"dimensions":["a","b"],"mu":[1e308,1e308],"sigma":[1e308,1e308]}`)
	require.Equal(t, http.StatusBadRequest, code, "%v", out)
	require.Regexp(t, `^(raw|alpha)\[0\]\[[01]\] \(draw 0, dimension "[ab]"\) is (NaN|[+-]Inf): mu 1e\+308 and sigma 1e\+308 overflow float64$`, out["error"])

	// Large but finite draws are answered.
	code, out = post(t, "/weights", `{"n":3,"mu":[-1e308,1e308],"sigma":[0,0]}`)
	require.Equal(t, http.StatusOK, code, "%v", out)
	require.Equal(t, []any{0.0, 1.0}, out["mean_alpha"])
}
