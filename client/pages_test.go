package client

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tradeassure/tradeassure/api"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// TestListIterators ensures the client iterates every paginated list of the API over all its
// pages: an order's events and messages, the supplier directory, an organization's API keys and
// webhook endpoints, and money in suspense, each item once, in more than one request.
func TestListIterators(t *testing.T) {
	var pages atomic.Int64
	e := newEnv(t, api.RateLimit{Disabled: true}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("limit") == "2" {
				pages.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	})
	ctx := context.Background()
	for _, c := range e.clients {
		c.page = 2
	}
	buyer, admin := e.clients["buyer"], e.clients["admin"]
	o := e.place(ctx, "")
	for i := range 5 {
		if _, err := buyer.PostMessage(ctx, o.ID, fmt.Sprint("message ", i), nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	adminActor := trade.Actor{Role: trade.RoleAdmin, OrgID: "platform", UserID: "test"}
	for i := range 4 {
		s, err := e.svc.CreateOrg(ctx, adminActor, fmt.Sprint("sup-", i), trade.KindSupplier, fmt.Sprint("Supplier ", i), "CN")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SetEligibility(ctx, adminActor, fmt.Sprint("elig-", i), s.ID, i != 2, "audit"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if _, err := buyer.CreateWebhookEndpoint(ctx, fmt.Sprintf("https://hooks.example.com/%d", i), "", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ReceiveFunds(ctx, fmt.Sprint("stray-", i), escrow.Incoming{Method: payment.TTWire,
			Amount: money.New(int64(100+i), "USD"), Reference: "unknown"}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		e.client(e.acc, adminActor, e.ids["buyer"], trade.RoleBuyer)
	}

	check := func(name string, n int, want int, before int64) {
		t.Helper()
		if n != want {
			t.Errorf("%s: %d items, want %d", name, n, want)
		}
		if got := pages.Load() - before; got < 2 {
			t.Errorf("%s: %d requests of 2 items", name, got)
		}
	}
	count := func(seq iter.Seq2[string, error]) int {
		seen := map[string]bool{}
		for id, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			if seen[id] {
				t.Fatalf("%s twice", id)
			}
			seen[id] = true
		}
		return len(seen)
	}
	before := pages.Load()
	check("messages", count(ids(buyer.AllMessages(ctx, o.ID), func(m trade.Message) string { return m.ID })), 5, before)
	before = pages.Load()
	check("events", count(ids(buyer.AllOrderEvents(ctx, o.ID), func(a AuditEvent) string { return fmt.Sprint(a.Seq) })), 6, before)
	before = pages.Load()
	check("suppliers", count(ids(buyer.AllSuppliers(ctx), func(s Supplier) string { return s.ID })), 4, before)
	before = pages.Load()
	check("API keys", count(ids(buyer.AllAPIKeys(ctx, e.ids["buyer"]), func(k APIKey) string { return k.ID })), 3, before)
	before = pages.Load()
	check("endpoints", count(ids(buyer.AllWebhookEndpoints(ctx), func(w WebhookEndpoint) string { return w.ID })), 3, before)
	before = pages.Load()
	check("suspense", count(ids(admin.AllSuspense(ctx), func(s SuspenseItem) string { return s.ID })), 3, before)

	// The collecting helpers read every page too.
	if sups, err := buyer.Suppliers(ctx); err != nil || len(sups) != 4 {
		t.Fatalf("Suppliers: %d, %v", len(sups), err)
	}
	if evs, err := buyer.OrderEvents(ctx, o.ID); err != nil || len(evs) != 6 || !strings.HasPrefix(evs[0].Type, "order.") {
		t.Fatalf("OrderEvents: %d, %v", len(evs), err)
	}
	// An error is yielded, and ends the iteration.
	for _, err := range buyer.AllMessages(ctx, "ord_nope") {
		var p *Problem
		if !errors.As(err, &p) || p.Reason != "order_not_found" {
			t.Fatalf("a list of no order: %v", err)
		}
	}
}

// ids maps an iterator's items to their keys.
func ids[T any](seq iter.Seq2[T, error], key func(T) string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for it, err := range seq {
			if !yield(key(it), err) {
				return
			}
		}
	}
}
