package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/api"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/store"
	"github.com/tradeassure/tradeassure/trade"
)

// limitedServer is the API on SQLite with the given rate limit on a manual clock, and n admin
// keys (admins may call anything without setting up organizations first).
func limitedServer(t *testing.T, rl api.RateLimit, n int) (*httptest.Server, *escrow.ManualClock, []string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "ta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := escrow.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	svc := escrow.New(db, escrow.Options{Clock: clock, Config: trade.DefaultConfig()})
	acc := access.New(db.Access(), svc, clock.Now, access.Argon2Params{Time: 1, Memory: 64, Threads: 1})
	rl.Now = clock.Now
	mux := http.NewServeMux()
	api.New(mux, svc, acc, api.Options{Version: "test", RateLimit: rl})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	admin := trade.Actor{Role: trade.RoleAdmin, OrgID: access.PlatformOrg, UserID: "bootstrap"}
	var keys []string
	for range n {
		tok, _, err := acc.CreateAPIKey(ctx, admin, access.PlatformOrg, trade.RoleAdmin, "k")
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok)
	}
	return srv, clock, keys
}

// get sends GET /v1/orders with token (none if empty) and returns the status, Retry-After
// and the problem's reason.
func get(t *testing.T, srv *httptest.Server, token string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+"/v1/orders", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var p struct{ Reason string }
	json.NewDecoder(res.Body).Decode(&p)
	return res.StatusCode, res.Header.Get("Retry-After"), p.Reason
}

// TestRateLimitPerKey ensures a burst beyond a key's limit gets 429 rate_limited with
// Retry-After, another key is unaffected, and requests pass again once the clock moves.
func TestRateLimitPerKey(t *testing.T) {
	srv, clock, keys := limitedServer(t, api.RateLimit{Burst: 5, PerSecond: 0.5}, 2)
	for i := range 5 {
		if st, _, _ := get(t, srv, keys[0]); st != 200 {
			t.Fatalf("request %d of the burst: %d", i+1, st)
		}
	}
	st, retry, reason := get(t, srv, keys[0])
	if st != 429 || reason != "rate_limited" || retry != "2" {
		t.Fatalf("beyond the burst: %d %q Retry-After %q, want 429 rate_limited 2", st, reason, retry)
	}
	if st, _, _ := get(t, srv, keys[1]); st != 200 {
		t.Fatalf("another key: %d", st)
	}
	clock.Advance(time.Second)
	if st, retry, _ := get(t, srv, keys[0]); st != 429 || retry != "1" {
		t.Fatalf("after 1 s (half a token): %d Retry-After %q", st, retry)
	}
	clock.Advance(time.Second)
	if st, _, _ := get(t, srv, keys[0]); st != 200 {
		t.Fatalf("after 2 s: %d", st)
	}
	if st, _, _ := get(t, srv, keys[0]); st != 429 {
		t.Fatalf("the refilled token is spent: %d", st)
	}
}

// TestRateLimitUnauthenticated ensures requests without a valid key are limited per client IP,
// and that failed keys count against the IP, not against the key they name: a stranger who
// knows a key ID cannot spend its budget.
func TestRateLimitUnauthenticated(t *testing.T) {
	srv, clock, keys := limitedServer(t, api.RateLimit{Burst: 3, PerSecond: 1}, 1)
	forged := keys[0] + "x" // the real key's ID with a wrong secret
	for i := range 2 {
		if st, _, reason := get(t, srv, forged); st != 401 || reason != "invalid_credentials" {
			t.Fatalf("forged request %d: %d %q", i+1, st, reason)
		}
	}
	for i := range 3 { // the key named by the forged token still has its whole burst
		if st, _, _ := get(t, srv, keys[0]); st != 200 {
			t.Fatalf("real key, request %d: %d", i+1, st)
		}
	}
	if st, _, _ := get(t, srv, keys[0]); st != 429 {
		t.Fatalf("real key beyond its burst: %d", st)
	}
	if st, _, _ := get(t, srv, ""); st != 401 {
		t.Fatalf("third failure from the IP: %d", st)
	}
	if st, retry, reason := get(t, srv, forged); st != 429 || reason != "rate_limited" || retry != "1" {
		t.Fatalf("after 3 failures from one IP: %d %q Retry-After %q", st, reason, retry)
	}
	if st, _, _ := get(t, srv, ""); st != 429 {
		t.Fatalf("no key, same IP: %d", st)
	}
	clock.Advance(time.Second)
	if st, _, _ := get(t, srv, ""); st != 401 {
		t.Fatalf("after 1 s, no key: %d, want 401 (limited no more)", st)
	}
}

// TestRateLimitBucketsBounded ensures the limiter keeps at most BucketsMax buckets: the least
// recently used one is dropped and comes back full.
func TestRateLimitBucketsBounded(t *testing.T) {
	srv, _, keys := limitedServer(t, api.RateLimit{Burst: 1, PerSecond: 0.001, BucketsMax: 2}, 3)
	get(t, srv, keys[0])
	if st, _, _ := get(t, srv, keys[0]); st != 429 {
		t.Fatalf("second request of a burst of 1: %d", st)
	}
	get(t, srv, keys[1]) // two buckets: keys[0], keys[1]
	get(t, srv, keys[2]) // a third evicts keys[0]'s, the least recently used
	if st, _, _ := get(t, srv, keys[0]); st != 200 {
		t.Fatalf("an evicted bucket comes back full: %d", st)
	}
}

// TestRateLimitDisabled ensures Disabled turns limiting off.
func TestRateLimitDisabled(t *testing.T) {
	srv, _, keys := limitedServer(t, api.RateLimit{Burst: 1, PerSecond: 0.001, Disabled: true}, 1)
	for i := range 3 {
		if st, _, _ := get(t, srv, keys[0]); st != 200 {
			t.Fatalf("request %d: %d", i+1, st)
		}
	}
}
