package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/internal/pgtest"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/store"
	"github.com/tradeassure/tradeassure/trade"
	"github.com/tradeassure/tradeassure/webhook"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// env is the escrow and webhook services on one database and one manual clock.
type env struct {
	t        *testing.T
	ctx      context.Context
	db       *store.DB
	svc      *escrow.Service
	hooks    *webhook.Service
	clock    *escrow.ManualClock
	n        int
	admin    trade.Actor
	buyer    trade.Actor
	supplier trade.Actor
}

func databases(t *testing.T, f func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { f(t, newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "ta.db"))) })
	t.Run("postgres", func(t *testing.T) { f(t, newEnv(t, pgtest.NewDatabase(t))) })
}

func newEnv(t *testing.T, url string) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, ctx: ctx, db: db, clock: escrow.NewManualClock(t0)}
	e.svc = escrow.New(db, escrow.Options{Clock: e.clock, Config: trade.DefaultConfig()})
	e.hooks = webhook.New(db.Webhooks(), webhook.Options{Clock: e.clock, AllowPrivateNetworks: true})
	e.admin = trade.Actor{Role: trade.RoleAdmin, OrgID: ledger.Platform, UserID: "admin"}
	b := must(e.svc.CreateOrg(ctx, e.admin, e.key(), trade.KindBuyer, "Buyer Co", "US"))
	s := must(e.svc.CreateOrg(ctx, e.admin, e.key(), trade.KindSupplier, "Supplier Co", "CN"))
	must(e.svc.SetEligibility(ctx, e.admin, e.key(), s.ID, true, "Gold Supplier"))
	must(e.svc.SetCoverageLimit(ctx, e.admin, e.key(), s.ID, money.New(20_000_00, "USD")))
	e.buyer = trade.Actor{Role: trade.RoleBuyer, OrgID: b.ID, UserID: "b"}
	e.supplier = trade.Actor{Role: trade.RoleSupplier, OrgID: s.ID, UserID: "s"}
	return e
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func (e *env) key() string { e.n++; return fmt.Sprintf("k%d", e.n) }

// order places an order and has the supplier post messages: 1+msgs events in its stream.
func (e *env) order(msgs int) *trade.Order {
	e.t.Helper()
	o := must(e.svc.Place(e.ctx, e.buyer, e.key(), trade.Place{SupplierID: e.supplier.OrgID, Currency: "USD",
		ShipBy: trade.Day(t0).AddDate(0, 0, 30), ComplianceConfirmed: true}))
	for i := range msgs {
		must(e.svc.PostMessage(e.ctx, e.supplier, e.key(), o.ID, fmt.Sprintf("message %d", i+1), nil))
	}
	return o
}

// flakyReceiver answers with status() to each request and records (stream, seq, status).
type flakyReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	status int
	hits   []string
}

func newFlaky(t *testing.T, status int) *flakyReceiver {
	r := &flakyReceiver{status: status}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var m webhook.Message
		b, _ := io.ReadAll(req.Body)
		json.Unmarshal(b, &m)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.hits = append(r.hits, fmt.Sprintf("%d:%d", m.Data.Seq, r.status))
		w.WriteHeader(r.status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *flakyReceiver) set(status int) { r.mu.Lock(); r.status = status; r.mu.Unlock() }

func (r *flakyReceiver) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.hits
	r.hits = nil
	return out
}

// run runs the dispatcher until nothing is due.
func (e *env) run() {
	e.t.Helper()
	for range 100 {
		if n := must(e.hooks.RunOnce(e.ctx, "w1")); n == 0 {
			return
		}
	}
	e.t.Fatal("dispatcher does not settle")
}

func (e *env) states(endpointID string) string {
	e.t.Helper()
	var out []string
	for _, d := range must(e.hooks.Deliveries(e.ctx, e.buyer, webhook.DeliveryFilter{EndpointID: endpointID})) {
		out = append(out, fmt.Sprintf("%d:%s/%d", d.Seq, d.State, d.Attempts))
	}
	return strings.Join(out, " ")
}

// TestGiveUpThenRedeliver ensures a delivery that keeps failing is attempted exactly
// AttemptsMax times, at the Backoff intervals, then dead; that later events of the same order
// wait behind it (per-order order) while another order's events flow; and that redelivering
// it, once the receiver recovers, sends it and then the events that waited, in order.
func TestGiveUpThenRedeliver(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		r := newFlaky(t, http.StatusServiceUnavailable)
		ep := must(e.hooks.CreateEndpoint(e.ctx, e.buyer, "ep-flaky", r.srv.URL, "flaky"))
		o := e.order(2) // seq 1, 2, 3
		var first webhook.Delivery
		for _, d := range must(e.hooks.Deliveries(e.ctx, e.buyer, webhook.DeliveryFilter{EndpointID: ep.ID})) {
			if d.Stream == o.ID && d.Seq == 1 {
				first = d
			}
		}
		for n := 1; n <= webhook.AttemptsMax; n++ {
			e.run()
			if got := r.take(); strings.Join(got, " ") != "1:503" {
				t.Fatalf("attempt %d: receiver got %v", n, got)
			}
			if n < webhook.AttemptsMax {
				// Not due a moment before its backoff ends; due at its end.
				e.clock.Advance(webhook.Backoff(first.ID, n) - time.Second)
				e.run()
				if got := r.take(); len(got) != 0 {
					t.Fatalf("attempt %d: retried %v before the backoff ended", n, got)
				}
				e.clock.Advance(time.Second)
			}
		}
		if got := e.states(ep.ID); got != fmt.Sprintf("1:dead/%d 2:pending/0 3:pending/0", webhook.AttemptsMax) {
			t.Fatalf("after giving up: %s", got)
		}

		// Another order's events are not held up by the dead one.
		r.set(http.StatusOK)
		other := e.order(1)
		e.clock.Advance(webhook.BackoffMax * 2)
		e.run()
		if got := strings.Join(r.take(), " "); got != "1:200 2:200" {
			t.Fatalf("the other order's events: %s", got)
		}
		_ = other

		d := must(e.hooks.Redeliver(e.ctx, e.buyer, "redeliver-1", first.ID))
		if d.State != webhook.Pending || d.Attempts != 0 {
			t.Fatalf("redelivered: %+v", d)
		}
		e.run()
		if got := strings.Join(r.take(), " "); got != "1:200 2:200 3:200" {
			t.Fatalf("after redelivery: %s", got)
		}
		_, err := e.hooks.Redeliver(e.ctx, e.supplier, "redeliver-2", first.ID)
		if !errors.Is(err, &fault.Error{Reason: "webhook_delivery_not_found"}) {
			t.Fatalf("redeliver by another organization: %v", err)
		}
	})
}

// TestDisabledEndpointGetsNothing ensures a disabled endpoint receives nothing more, pending
// deliveries included, and new events are not queued for it.
func TestDisabledEndpointGetsNothing(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		r := newFlaky(t, http.StatusOK)
		ep := must(e.hooks.CreateEndpoint(e.ctx, e.buyer, "ep-1", r.srv.URL, ""))
		e.order(1)
		if err := e.hooks.DisableEndpoint(e.ctx, e.buyer, ep.ID); err != nil {
			t.Fatal(err)
		}
		e.order(1)
		e.run()
		if got := r.take(); len(got) != 0 {
			t.Fatalf("a disabled endpoint got %v", got)
		}
		if got := e.states(ep.ID); got != "1:pending/0 2:pending/0" {
			t.Fatalf("deliveries: %s", got)
		}
	})
}

// TestBackoff ensures the retry schedule: BackoffBase doubling from the first failure, capped at
// BackoffMax, with at most a tenth of jitter, the same for the same delivery and attempt.
func TestBackoff(t *testing.T) {
	for n := 1; n <= webhook.AttemptsMax+5; n++ {
		want := webhook.BackoffMax
		if n < 20 && webhook.BackoffBase<<(n-1) < want {
			want = webhook.BackoffBase << (n - 1)
		}
		for id := int64(1); id < 50; id++ {
			got := webhook.Backoff(id, n)
			if got < want || got > want+want/10 || got != webhook.Backoff(id, n) {
				t.Fatalf("Backoff(%d, %d) = %v, want %v to %v", id, n, got, want, want+want/10)
			}
		}
	}
	if webhook.Backoff(1, 1) == webhook.Backoff(2, 1) && webhook.Backoff(2, 1) == webhook.Backoff(3, 1) {
		t.Error("no jitter between deliveries")
	}
}

// TestDecide ensures how an attempt ends: 2xx delivers, anything else (3xx included, or no
// answer) retries after the backoff until AttemptsMax attempts have failed, then dead.
func TestDecide(t *testing.T) {
	now := t0
	for _, tc := range []struct {
		name     string
		attempts int
		status   int
		err      error
		want     webhook.State
	}{
		{"200", 1, 200, nil, webhook.Delivered},
		{"204 on the last attempt", webhook.AttemptsMax, 204, nil, webhook.Delivered},
		{"500", 1, 500, nil, webhook.Pending},
		{"redirect", 1, 302, nil, webhook.Pending},
		{"no answer", 3, 0, errors.New("connection refused"), webhook.Pending},
		{"410 on the last attempt", webhook.AttemptsMax, 410, nil, webhook.Dead},
		{"timeout on the last attempt", webhook.AttemptsMax, 0, errors.New("timeout"), webhook.Dead},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := webhook.Decide(webhook.Delivery{ID: 7, Attempts: tc.attempts}, tc.status, tc.err, now)
			if o.State != tc.want || o.Status != tc.status || !o.At.Equal(now) {
				t.Fatalf("Decide = %+v, want %s", o, tc.want)
			}
			if tc.want == webhook.Pending && !o.NextAttemptAt.Equal(now.Add(webhook.Backoff(7, tc.attempts))) {
				t.Fatalf("next attempt at %v", o.NextAttemptAt)
			}
			if tc.want != webhook.Delivered && o.Error == "" {
				t.Fatal("no error recorded")
			}
		})
	}
	long := webhook.Decide(webhook.Delivery{Attempts: 1}, 0, errors.New(strings.Repeat("x", 10_000)), now)
	if len(long.Error) != webhook.ErrorTextMax {
		t.Fatalf("error text of %d bytes kept", len(long.Error))
	}
}

// TestValidateURL ensures the endpoint URL rule, case by case.
func TestValidateURL(t *testing.T) {
	for _, tc := range []struct {
		url, reason string
	}{
		{"https://hooks.example.com/tradeassure?x=1", ""},
		{"https://hooks.example.com:8443/", ""},
		{"http://127.0.0.1:8080/hooks", ""},
		{"http://localhost/hooks", ""},
		{"http://[::1]:9000/", ""},
		{"http://hooks.example.com/", "webhook_url_not_https"},
		{"http://192.168.1.10/", "webhook_url_not_https"},
		{"HTTPS://hooks.example.com/", ""}, // url.Parse lower-cases the scheme
		{"wss://hooks.example.com/", "webhook_url_not_https"},
		{"https://u:p@hooks.example.com/", "webhook_url_invalid"},
		{"https://hooks.example.com/#x", "webhook_url_invalid"},
		{"https://hooks.example.com/a b", "webhook_url_invalid"},
		{"hooks.example.com/x", "webhook_url_invalid"},
		{"mailto:a@example.com", "webhook_url_invalid"},
		{"", "webhook_url_invalid"},
		{"https://hooks.example.com/" + strings.Repeat("a", webhook.URLMax), "webhook_url_too_long"},
	} {
		err := webhook.ValidateURL(tc.url)
		if fault.ReasonOf(err) != tc.reason || (tc.reason == "") != (err == nil) {
			t.Errorf("ValidateURL(%.60q) = %v, want %q", tc.url, err, tc.reason)
		}
	}
}

// TestPrivateAddressRefused ensures the default client will not deliver to a loopback address
// unless AllowPrivateNetworks is set: a tenant cannot make the platform call its own services.
func TestPrivateAddressRefused(t *testing.T) {
	e := newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "ta.db"))
	r := newFlaky(t, http.StatusOK)
	strict := webhook.New(e.db.Webhooks(), webhook.Options{Clock: e.clock})
	ep := must(strict.CreateEndpoint(e.ctx, e.buyer, "ep-strict", r.srv.URL, ""))
	e.order(0)
	if n := must(strict.RunOnce(e.ctx, "w1")); n != 1 {
		t.Fatalf("attempted %d", n)
	}
	if len(r.take()) != 0 {
		t.Fatal("the receiver on 127.0.0.1 was called")
	}
	ds := must(strict.Deliveries(e.ctx, e.buyer, webhook.DeliveryFilter{EndpointID: ep.ID}))
	if len(ds) != 1 || ds[0].State != webhook.Pending || !strings.Contains(ds[0].LastError, "not a public address") {
		t.Fatalf("delivery %+v", ds)
	}
}
