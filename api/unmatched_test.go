package api_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnmatchedPaths ensures a /v1 request that no operation serves is answered by the API with
// an RFC 9457 problem, not by whatever else the server mounts at /: 404 not_found for an
// unknown path, 405 method_not_allowed with Allow for a known path under another method,
// including operations registered after api.New (webhooks, notifications).
func TestUnmatchedPaths(t *testing.T) {
	w := newWorld(t, "sqlite:"+filepath.Join(t.TempDir(), "ta.db"))
	o := w.confirmed()
	cases := []struct {
		method, path string
		status       int
		reason       string
		allow        string
	}{
		{"GET", "/v1/nope", 404, "not_found", ""},
		{"GET", "/v1", 404, "not_found", ""},
		{"GET", "/v1/orders/", 404, "not_found", ""},
		{"POST", "/v1/orders/" + o.ID + "/teleport", 404, "not_found", ""},
		{"PUT", "/v1/orders", 405, "method_not_allowed", "GET, HEAD, POST"},
		{"DELETE", "/v1/orders/" + o.ID, 405, "method_not_allowed", "GET, HEAD"},
		{"PATCH", "/v1/webhook-endpoints", 405, "method_not_allowed", "GET, HEAD, POST"},
		{"GET", "/v1/notifications/7/read", 405, "method_not_allowed", "POST"},
	}
	for _, c := range cases {
		r := w.call("buyer", c.method, c.path, nil, nil) // call fails the test unless the answer is problem+json
		if r.status != c.status || r.problem.Reason != c.reason {
			t.Errorf("%s %s: got %d %q, want %d %q: %s", c.method, c.path, r.status, r.problem.Reason, c.status, c.reason, r.body)
		}
		if got := r.header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
		if !strings.Contains(string(r.body), `"type":"https://tradeassure.dev/problems/`+c.reason+`"`) {
			t.Errorf("%s %s: not our problem document: %s", c.method, c.path, r.body)
		}
	}
	// Without a key too: the path is wrong whoever asks.
	if r := w.call("", "PUT", "/v1/orders", nil, nil); r.status != http.StatusMethodNotAllowed {
		t.Errorf("anonymous PUT /v1/orders: %d", r.status)
	}
}
