package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/api"
	"github.com/tradeassure/tradeassure/blob"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/store"
	"github.com/tradeassure/tradeassure/trade"
	"github.com/tradeassure/tradeassure/webhook"
)

// env is the real API (orders, feed, webhooks) on SQLite behind an optional front that tests use
// to break it, with a client per role.
type env struct {
	t       *testing.T
	svc     *escrow.Service
	clock   *escrow.ManualClock
	url     string
	ids     map[string]string  // organization IDs: buyer, supplier, inspector
	clients map[string]*Client // by role: admin, buyer, supplier, inspector
	acc     *access.Service
}

func newEnv(t *testing.T, rl api.RateLimit, front func(http.Handler) http.Handler) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "ta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := escrow.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	files, err := blob.OpenDir(t.TempDir(), blob.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	svc := escrow.New(db, escrow.Options{Clock: clock, Config: trade.DefaultConfig(),
		Sandbox: escrow.Sandbox{Enabled: true, Delay: time.Hour}, Blobs: files})
	acc := access.New(db.Access(), svc, clock.Now, access.Argon2Params{Time: 1, Memory: 64, Threads: 1})
	hooks := webhook.New(db.Webhooks(), webhook.Options{Clock: clock, AllowPrivateNetworks: true})
	rl.Now = clock.Now
	mux := http.NewServeMux()
	api.RegisterWebhooks(api.New(mux, svc, acc, api.Options{Version: "test", RateLimit: rl}), hooks, nil)
	var h http.Handler = mux
	if front != nil {
		h = front(mux)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{t: t, svc: svc, clock: clock, url: srv.URL, ids: map[string]string{}, clients: map[string]*Client{}, acc: acc}

	admin := trade.Actor{Role: trade.RoleAdmin, OrgID: access.PlatformOrg, UserID: "bootstrap"}
	e.clients["admin"] = e.client(acc, admin, access.PlatformOrg, trade.RoleAdmin)
	for _, o := range []struct {
		kind    trade.OrgKind
		country string
	}{{trade.KindBuyer, "US"}, {trade.KindSupplier, "CN"}, {trade.KindInspector, "HK"}} {
		org, err := svc.CreateOrg(ctx, admin, "org-"+string(o.kind), o.kind, string(o.kind)+" Co", o.country)
		if err != nil {
			t.Fatal(err)
		}
		e.ids[string(o.kind)] = org.ID
		e.clients[string(o.kind)] = e.client(acc, admin, org.ID, trade.Role(o.kind))
	}
	if _, err := svc.SetEligibility(ctx, admin, "elig", e.ids["supplier"], true, "Gold Supplier"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetCoverageLimit(ctx, admin, "cov", e.ids["supplier"], money.New(20_000_000, "USD")); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) client(acc *access.Service, by trade.Actor, orgID string, role trade.Role) *Client {
	tok, _, err := acc.CreateAPIKey(context.Background(), by, orgID, role, string(role))
	if err != nil {
		e.t.Fatal(err)
	}
	c := New(e.url, tok, nil)
	c.sleep = func(context.Context, time.Duration) error { return nil } // tests never sleep
	return c
}

// tick is the timer worker: move time and fire what is due.
func (e *env) tick(d time.Duration) {
	e.clock.Advance(d)
	for {
		n, err := e.svc.RunTimers(context.Background(), "test-worker")
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func (e *env) contract() trade.Contract {
	return trade.Contract{Currency: "USD", Incoterm: "FOB", ShipBy: e.shipBy(),
		Terms:     trade.PaymentTerms{InitialBP: 3000},
		LineItems: []trade.LineItem{{Description: "Hoodie, organic cotton", Quantity: 1000, Unit: "pcs", UnitPrice: 1000}},
		Quality:   []trade.Requirement{{Attribute: "Fabric weight", Requirement: "200", Unit: "g/m²", Tolerance: "± 5%"}}}
}

func (e *env) shipBy() time.Time { return e.clock.Now().Truncate(24*time.Hour).AddDate(0, 0, 30) }

func (e *env) place(ctx context.Context, key string) *Order {
	e.t.Helper()
	o, err := e.clients["buyer"].PlaceOrder(ctx, PlaceOrder{SupplierID: e.ids["supplier"], Currency: "USD",
		ShipBy: e.shipBy(), ComplianceConfirmed: true}, key)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

// mustOf returns a check of a command's answer that fails t on an error.
func mustOf(t *testing.T) func(*Order, error) *Order {
	return func(o *Order, err error) *Order {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
}

// TestOrderToRelease drives an order from checkout to release and completion through the
// client only, as four organizations. R2 R4 R6 R12 R15 R16
func TestOrderToRelease(t *testing.T) {
	e := newEnv(t, api.RateLimit{Disabled: true}, nil)
	ctx := context.Background()
	buyer, supplier, inspector, admin := e.clients["buyer"], e.clients["supplier"], e.clients["inspector"], e.clients["admin"]
	must := mustOf(t)

	o := e.place(ctx, "")
	must(buyer.BookInspection(ctx, o.ID, e.ids["inspector"], trade.AQL{}, ""))
	o = must(supplier.ProposeContract(ctx, o.ID, e.contract(), ""))
	o = must(buyer.ConfirmContract(ctx, o.ID, o.Proposal.Hash, ""))
	if o.State != trade.Confirmed || o.Total != 1_000_000 {
		t.Fatalf("after confirming: %s, total %d", o, o.Total)
	}
	must(buyer.Pay(ctx, o.ID, trade.Initial, "card", ""))
	e.tick(2 * time.Hour) // the sandbox rail delivers
	must(inspector.InspectionReport(ctx, o.ID, trade.Report{Passed: true, SampleSize: 80, Summary: "level II",
		Findings: []trade.Finding{{Attribute: "Fabric weight", Measured: "201 g/m²", Pass: true}}}, ""))
	must(buyer.Pay(ctx, o.ID, trade.Balance, "tt_wire", ""))
	e.tick(2 * time.Hour)
	o = must(supplier.Ship(ctx, o.ID, e.clock.Now().Truncate(24*time.Hour), "COSCO", "COSU1", ""))
	if o.State != trade.Shipped {
		t.Fatalf("after shipping: %s", o)
	}
	o = must(admin.Release(ctx, o.ID, ""))
	if o.State != trade.Released || o.EscrowHeld != 0 {
		t.Fatalf("after release: %s, escrow %d", o, o.EscrowHeld)
	}
	o = must(buyer.Complete(ctx, o.ID, ""))
	if o.State != trade.Completed {
		t.Fatalf("after completing: %s", o)
	}
	evs, err := supplier.OrderEvents(ctx, o.ID)
	if err != nil || len(evs) == 0 || evs[len(evs)-1].Type != "order.completed" {
		t.Fatalf("audit log: %d events, %v", len(evs), err)
	}
}

// TestProblems ensures errors come back as *Problem with the API's reason, status and fields,
// and that the ETag guards a command.
func TestProblems(t *testing.T) {
	e := newEnv(t, api.RateLimit{Disabled: true}, nil)
	ctx := context.Background()
	buyer := e.clients["buyer"]
	var p *Problem
	if _, err := buyer.Order(ctx, "ord_nope"); !errors.As(err, &p) || p.Status != 404 || p.Reason != "order_not_found" {
		t.Fatalf("unknown order: %v", err)
	}
	_, err := buyer.PlaceOrder(ctx, PlaceOrder{SupplierID: e.ids["supplier"], Currency: "usd", ShipBy: e.shipBy(), ComplianceConfirmed: true}, "")
	if !errors.As(err, &p) || p.Status != 422 || p.Reason != "validation_failed" || len(p.Errors) == 0 || p.Errors[0].Location != "body.currency" {
		t.Fatalf("bad currency: %#v", err)
	}
	o := e.place(ctx, "")
	if _, err := buyer.Command(ctx, o.ID, "refund", nil, ""); !errors.As(err, &p) || p.Status != 409 || p.Reason != "transition_not_allowed" {
		t.Fatalf("refund of a draft: %v", err)
	}
	if _, err := e.clients["supplier"].Release(ctx, o.ID, ""); !errors.As(err, &p) || p.Reason != "role_not_allowed" {
		t.Fatalf("supplier releases: %v", err)
	}
	stale := o.ETag
	must := mustOf(t)
	must(buyer.BookInspection(ctx, o.ID, e.ids["inspector"], trade.AQL{}, ""))
	if _, err := buyer.CommandIfMatch(ctx, o.ID, "cancel", map[string]string{"reason": "x"}, "", stale); !errors.As(err, &p) || p.Reason != "version_mismatch" {
		t.Fatalf("stale If-Match: %v", err)
	}
	bad := New(e.url, "ta_key_nope.nope", nil)
	if _, err := bad.Orders(ctx, ListOrders{}); !errors.As(err, &p) || p.Status != 401 || p.Reason != "invalid_credentials" {
		t.Fatalf("bad key: %v", err)
	}
}

// TestIterationAndIdempotency ensures the cursor iterates over every order once, a repeated
// place with the same key returns the same order, and the feed iterates to its end.
func TestIterationAndIdempotency(t *testing.T) {
	e := newEnv(t, api.RateLimit{Disabled: true}, nil)
	ctx := context.Background()
	first := e.place(ctx, "place-1")
	if again := e.place(ctx, "place-1"); again.ID != first.ID {
		t.Fatalf("same key, another order: %s then %s", first.ID, again.ID)
	}
	for range 4 {
		e.place(ctx, "")
	}
	seen := map[string]bool{}
	for o, err := range e.clients["buyer"].AllOrders(ctx, ListOrders{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[o.ID] {
			t.Fatalf("%s twice", o.ID)
		}
		seen[o.ID] = true
	}
	if len(seen) != 5 {
		t.Fatalf("iterated over %d orders, want 5", len(seen))
	}
	n := 0
	for o, err := range e.clients["buyer"].AllOrders(ctx, ListOrders{Limit: 2}) {
		if err != nil || o == nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break // stopping early is fine
		}
	}
	var last int64
	count := 0
	for ev, err := range e.clients["buyer"].EventsSince(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.GlobalSeq <= last {
			t.Fatalf("feed out of order: %d after %d", ev.GlobalSeq, last)
		}
		last = ev.GlobalSeq
		if ev.Type == "order.placed" {
			count++
		}
	}
	if count != 5 {
		t.Fatalf("feed: %d orders placed", count)
	}
}

// TestWebhookEndpoints ensures endpoints are registered (secret shown once), listed, logged and
// deleted through the client.
func TestWebhookEndpoints(t *testing.T) {
	e := newEnv(t, api.RateLimit{Disabled: true}, nil)
	ctx := context.Background()
	buyer := e.clients["buyer"]
	ep, err := buyer.CreateWebhookEndpoint(ctx, "http://127.0.0.1:9/hooks", "orders", "ep-orders")
	if err != nil || ep.Secret == "" {
		t.Fatalf("create: %+v %v", ep, err)
	}
	again, err := buyer.CreateWebhookEndpoint(ctx, "http://127.0.0.1:9/hooks", "orders", "ep-orders")
	if err != nil || again.ID != ep.ID || again.Secret != ep.Secret {
		t.Fatalf("retry: %+v %v, want %s", again, err, ep.ID)
	}
	e.place(ctx, "")
	eps, err := buyer.WebhookEndpoints(ctx)
	if err != nil || len(eps) != 1 || eps[0].Secret != "" {
		t.Fatalf("list: %+v %v", eps, err)
	}
	page, err := buyer.WebhookDeliveries(ctx, ep.ID, 0, 10)
	if err != nil || len(page.Items) != 1 || page.Items[0].State != "pending" {
		t.Fatalf("deliveries: %+v %v", page, err)
	}
	var p *Problem
	if _, err := buyer.Redeliver(ctx, page.Items[0].ID, ""); !errors.As(err, &p) || p.Reason != "webhook_delivery_pending" {
		t.Fatalf("redeliver a pending one: %v", err)
	}
	if err := buyer.DeleteWebhookEndpoint(ctx, ep.ID); err != nil {
		t.Fatal(err)
	}
	if eps, _ := buyer.WebhookEndpoints(ctx); len(eps) != 1 || eps[0].DisabledAt == nil {
		t.Fatalf("after delete: %+v", eps)
	}
}

// flaky fails the first n requests matching match with status, then lets them through, and
// records the Idempotency-Key of every matching request.
type flaky struct {
	mu     sync.Mutex
	n      int
	status int
	match  func(*http.Request) bool
	keys   []string
}

func (f *flaky) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !f.match(r) {
			next.ServeHTTP(w, r)
			return
		}
		f.mu.Lock()
		f.keys = append(f.keys, r.Header.Get("Idempotency-Key"))
		fail := f.n > 0
		f.n--
		f.mu.Unlock()
		if !fail {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(f.status)
		fmt.Fprintf(w, `{"type":"https://tradeassure.dev/problems/internal","title":"x","status":%d,"reason":"internal"}`, f.status)
	})
}

// TestRetries ensures a command is retried after 5xx with the same idempotency key and applied
// once, that retries stop after AttemptsMax, that registering a webhook endpoint is retried
// under one key like a command, and that a 429 is waited out for Retry-After on the server's own limiter.
func TestRetries(t *testing.T) {
	ctx := context.Background()
	t.Run("5xx, same key", func(t *testing.T) {
		f := &flaky{n: 2, status: 503, match: func(r *http.Request) bool { return r.Method == "POST" && r.URL.Path == "/v1/orders" }}
		e := newEnv(t, api.RateLimit{Disabled: true}, f.wrap)
		var waits []time.Duration
		e.clients["buyer"].sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
		o := e.place(ctx, "")
		if len(f.keys) != 3 || f.keys[0] == "" || f.keys[1] != f.keys[0] || f.keys[2] != f.keys[0] {
			t.Fatalf("keys of the attempts: %q", f.keys)
		}
		if len(waits) != 2 || waits[0] > BackoffBase || waits[1] > 2*BackoffBase || waits[1] < BackoffBase {
			t.Fatalf("waits %v", waits)
		}
		page, err := e.clients["buyer"].Orders(ctx, ListOrders{})
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != o.ID {
			t.Fatalf("orders after the retries: %+v %v", page, err)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		f := &flaky{n: 100, status: 500, match: func(r *http.Request) bool { return r.URL.Path == "/v1/orders" }}
		e := newEnv(t, api.RateLimit{Disabled: true}, f.wrap)
		var p *Problem
		if _, err := e.clients["buyer"].Orders(ctx, ListOrders{}); !errors.As(err, &p) || p.Status != 500 {
			t.Fatalf("got %v", err)
		}
		if len(f.keys) != AttemptsMax {
			t.Fatalf("%d attempts, want %d", len(f.keys), AttemptsMax)
		}
	})
	t.Run("webhook endpoint, same key", func(t *testing.T) {
		f := &flaky{n: 1, status: 502, match: func(r *http.Request) bool { return r.URL.Path == "/v1/webhook-endpoints" }}
		e := newEnv(t, api.RateLimit{Disabled: true}, f.wrap)
		if _, err := e.clients["buyer"].CreateWebhookEndpoint(ctx, "http://127.0.0.1:9/h", "", ""); err != nil {
			t.Fatalf("got %v", err)
		}
		if len(f.keys) != 2 || f.keys[0] == "" || f.keys[0] != f.keys[1] {
			t.Fatalf("attempts with keys %q, want 2 with one key", f.keys)
		}
	})
	t.Run("429 Retry-After", func(t *testing.T) {
		e := newEnv(t, api.RateLimit{Burst: 2, PerSecond: 0.5}, nil)
		buyer := e.clients["buyer"]
		var waits []time.Duration
		buyer.sleep = func(_ context.Context, d time.Duration) error {
			waits = append(waits, d)
			e.clock.Advance(d) // the server's limiter runs on this clock
			return nil
		}
		for i := range 3 {
			if _, err := buyer.Orders(ctx, ListOrders{}); err != nil {
				t.Fatalf("request %d: %v", i+1, err)
			}
		}
		if len(waits) != 1 || waits[0] != 2*time.Second {
			t.Fatalf("waits %v, want [2s] (Retry-After)", waits)
		}
	})
}
