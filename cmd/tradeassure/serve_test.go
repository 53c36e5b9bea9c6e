package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/internal/pgtest"
)

// startLog collects serve's stderr and hands over the listen address once it logs "serving".
type startLog struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	addr chan string
	sent bool
}

func (l *startLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if !l.sent {
		for line := range strings.Lines(l.buf.String()) {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "serving" {
				l.addr <- rec.Addr
				l.sent = true
				break
			}
		}
	}
	return len(p), nil
}

func (l *startLog) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

// TestServe starts `tradeassure serve` on each database and checks what an operator relies
// on: health and readiness, the metrics named by the issue, the API reference page, the
// rate-limit flags in force, and a clean stop when its context ends (SIGTERM in main).
func TestServe(t *testing.T) {
	for name, url := range map[string]string{
		"sqlite":   "sqlite:" + filepath.Join(t.TempDir(), "serve.db"),
		"postgres": pgtest.NewDatabase(t),
	} {
		t.Run(name, func(t *testing.T) {
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			log := &startLog{addr: make(chan string, 1)}
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, []string{"serve", "--db", url, "--blobs", filepath.Join(t.TempDir(), "blobs"),
					"--addr", "127.0.0.1:0", "--rate-burst", "3", "--rate-per-second", "0.001"}, io.Discard, log)
			}()
			var base string
			select {
			case addr := <-log.addr:
				base = "http://" + addr
			case err := <-done:
				t.Fatalf("serve stopped before serving: %v\n%s", err, log)
			case <-time.After(time.Minute):
				t.Fatalf("serve did not start:\n%s", log)
			}
			get := func(path string) (int, string) {
				t.Helper()
				res, err := http.Get(base + path)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return res.StatusCode, string(b)
			}
			for _, path := range []string{"/healthz", "/readyz", "/docs", "/login"} {
				if code, body := get(path); code != http.StatusOK {
					t.Errorf("GET %s: %d %s", path, code, body)
				}
			}
			// Three requests without a key use up the burst of this client's bucket; the fourth
			// is refused with a problem, not served.
			for i := range 4 {
				code, body := get("/v1/orders")
				want := http.StatusUnauthorized
				if i == 3 {
					want = http.StatusTooManyRequests
				}
				if code != want || !strings.Contains(body, `"reason"`) {
					t.Errorf("request %d: %d %s, want %d with a problem", i+1, code, body, want)
				}
			}
			_, m := get("/metrics")
			for _, name := range []string{"tradeassure_timers_due ", "tradeassure_timers_due_oldest_seconds ",
				"tradeassure_timers_dead ", "tradeassure_http_requests_total{", "tradeassure_metrics_scrape_error 0"} {
				if !strings.Contains(m, name) {
					t.Errorf("/metrics lacks %s", name)
				}
			}
			stop()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve: %v", err)
				}
			case <-time.After(time.Minute):
				t.Fatal("serve did not stop")
			}
			if !strings.Contains(log.String(), `"msg":"stopped"`) {
				t.Errorf("no clean stop in the log:\n%s", log)
			}
		})
	}
}

// TestServeBadFlags ensures rate limits that make no sense, and an idempotency-key retention
// below the 24 hours the IETF draft asks for, are refused before anything starts.
func TestServeBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--rate-burst", "0"}, {"--rate-per-second", "0"}, {"--rate-per-second", "-1"}, {"--rate-per-second", "NaN"},
		{"--idempotency-retention", "23h59m"}} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"serve"}, args...), &out, &errOut)
		if ee, ok := err.(exitError); !ok || ee.code != 2 {
			t.Errorf("%v: got %v, want exit 2", args, err)
		}
	}
}
