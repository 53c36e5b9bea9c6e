package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeInFlightAndMetrics starts `tradeassure serve --demo` on SQLite and checks what an
// operator relies on beyond TestServe: a wrong /v1 method is the API's 405 problem, not the
// portal's page; after traffic /metrics exports the HTTP latency histogram and the webhook
// attempts counter; and a request in flight when serve is told to stop (SIGTERM in main) is
// answered in full before serve returns.
func TestServeInFlightAndMetrics(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	stdout, log := &syncBuffer{}, &startLog{addr: make(chan string, 1)}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--db", "sqlite:" + filepath.Join(t.TempDir(), "serve.db"),
			"--blobs", filepath.Join(t.TempDir(), "blobs"), "--addr", "127.0.0.1:0", "--worker-interval", "50ms"}, stdout, log)
	}()
	var addr string
	select {
	case addr = <-log.addr:
	case err := <-done:
		t.Fatalf("serve stopped before serving: %v\n%s", err, log)
	case <-time.After(3 * time.Minute):
		t.Fatalf("serve did not start:\n%s", log)
	}
	base := "http://" + addr
	key := regexp.MustCompile(`(?m)^\s+buyer\s+(ta_key_\S+)$`).FindStringSubmatch(stdout.String())
	if key == nil {
		t.Fatalf("no buyer key:\n%s", stdout)
	}
	call := func(method, path string, body any) (int, http.Header, []byte) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set("Authorization", "Bearer "+key[1])
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprint("inflight-", time.Now().UnixNano()))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, b
	}

	// The full server's mux: /v1 answers for itself.
	if code, h, b := call("PUT", "/v1/orders", nil); code != 405 || h.Get("Allow") != "GET, HEAD, POST" ||
		!strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") || !bytes.Contains(b, []byte("method_not_allowed")) {
		t.Fatalf("PUT /v1/orders: %d %v %s", code, h, b)
	}
	if code, h, _ := call("GET", "/v1/no-such-thing", nil); code != 404 || !strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("GET /v1/no-such-thing: %d %v", code, h)
	}

	// Traffic: a webhook endpoint, an order placed and cancelled, delivered to a receiver.
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer hooks.Close()
	var ep struct{ ID string }
	if code, _, b := call("POST", "/v1/webhook-endpoints", map[string]any{"url": hooks.URL + "/hooks"}); code != 201 || json.Unmarshal(b, &ep) != nil {
		t.Fatalf("register endpoint: %d %s", code, b)
	}
	var orders struct {
		Items []struct {
			SupplierID string `json:"supplier_id"`
		}
	}
	if code, _, b := call("GET", "/v1/orders?limit=1", nil); code != 200 || json.Unmarshal(b, &orders) != nil || len(orders.Items) == 0 {
		t.Fatalf("list orders: %d %s", code, b)
	}
	var o struct{ ID string }
	code, _, b := call("POST", "/v1/orders", map[string]any{"supplier_id": orders.Items[0].SupplierID, "currency": "USD",
		"ship_by": time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 30).Format(time.RFC3339), "compliance_confirmed": true})
	if code != 201 || json.Unmarshal(b, &o) != nil {
		t.Fatalf("place: %d %s", code, b)
	}
	metrics := ""
	for deadline := time.Now().Add(time.Minute); !strings.Contains(metrics, `tradeassure_webhook_attempts_total{outcome="delivered"}`); {
		if time.Now().After(deadline) {
			t.Fatalf("no delivered webhook attempt in /metrics:\n%s", grepLines(metrics, "tradeassure_webhook"))
		}
		time.Sleep(50 * time.Millisecond)
		res, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		m, _ := io.ReadAll(res.Body)
		res.Body.Close()
		metrics = string(m)
	}
	for _, want := range []string{`tradeassure_http_request_seconds_bucket{op="place_order",le="0.005"}`,
		`tradeassure_http_request_seconds_count{op="list_orders"} 1`, `tradeassure_http_request_seconds_sum{op="create_webhook_endpoint"}`,
		`tradeassure_http_requests_total{op="unmatched",status="405"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(metrics, "tradeassure_http"))
		}
	}

	// A request in flight when serve is told to stop: an upload whose handler is reading the body
	// (the server has sent 100 Continue, which it does only when the handler first reads it).
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	content := "a label: 100% organic cotton\n"
	fmt.Fprintf(conn, "POST /v1/files?name=label.txt HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nIdempotency-Key: inflight-upload\r\n"+
		"Content-Type: text/plain\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", addr, key[1], len(content))
	rd := bufio.NewReader(conn)
	line, err := rd.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("no 100 Continue: %q %v", line, err)
	}
	rd.ReadString('\n') // the blank line after it
	stop()              // SIGTERM: serve stops accepting and waits for this request
	select {
	case err := <-done:
		t.Fatalf("serve returned with a request in flight: %v", err)
	case <-time.After(100 * time.Millisecond): // it must still be waiting; the assertion below does not depend on this
	}
	io.WriteString(conn, content)
	res, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatalf("the in-flight request got no answer: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 201 || !bytes.Contains(body, []byte(`"name":"label.txt"`)) {
		t.Fatalf("the in-flight upload: %d %s", res.StatusCode, body)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop after the in-flight request")
	}
	if !strings.Contains(log.String(), `"msg":"stopped"`) {
		t.Fatalf("no clean stop in the log:\n%s", log)
	}
}

// grepLines keeps the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for l := range strings.Lines(s) {
		if strings.Contains(l, sub) {
			out = append(out, strings.TrimSuffix(l, "\n"))
		}
	}
	return strings.Join(out, "\n")
}
