package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func post(t *testing.T, path, body string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	var out map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), rec.Body.String())
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	return rec.Code, out
}

func TestRoutes(t *testing.T) {
	code, out := post(t, "/loss", `{"loss":"simpo","chosen_logps":[[-1]],"rejected_logps":[[-2]]}`)
	require.Equal(t, http.StatusOK, code)
	require.InDelta(t, 0.8*(-1.0+2.0), out["margins"].([]any)[0], 1e-12)

	code, out = post(t, "/weights", `{"n":3,"mu":[0,1],"sigma":[1,0]}`)
	require.Equal(t, http.StatusOK, code)
	require.Len(t, out["alpha"], 3)

	code, out = post(t, "/loss", `{"loss":"amopo",`)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, out["error"], "truncated JSON")

	code, out = post(t, "/weights", `{"n":0,"mu":[0],"sigma":[1]}`)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, out["error"], "n: 0 draws")

	code, out = post(t, "/loss", `{"loss":"amopo","chosen_logps":[[`+strings.Repeat("-1,", MaxBody/3)+`-1]]}`)
	require.Equal(t, http.StatusRequestEntityTooLarge, code)
	require.Contains(t, out["error"], "limit")
}

func TestUnknownPathAndMethod(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/loss", nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	rec = httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/nope", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
}
