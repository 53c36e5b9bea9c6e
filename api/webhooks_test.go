package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/tradeassure/tradeassure/api"
	"github.com/tradeassure/tradeassure/internal/pgtest"
	"github.com/tradeassure/tradeassure/webhook"
)

// hookWorld is a world whose API also serves the events feed and webhooks, with the dispatcher
// a server process would run beside the timer worker.
type hookWorld struct {
	*world
	hooks *webhook.Service
}

func hookDatabases(t *testing.T, f func(t *testing.T, w *hookWorld)) {
	t.Run("sqlite", func(t *testing.T) { f(t, newHookWorld(t, "sqlite:"+filepath.Join(t.TempDir(), "ta.db"))) })
	t.Run("postgres", func(t *testing.T) { f(t, newHookWorld(t, pgtest.NewDatabase(t))) })
}

// newHookWorld is newWorld with the webhook service at hand.
func newHookWorld(t *testing.T, url string) *hookWorld {
	return buildWorld(t, url, api.Options{Version: "test"}, defaultOrgs, 2_000_000)
}

type feedEvent struct {
	GlobalSeq int64 `json:"global_seq"`
	Stream    string
	Seq       int64
	Type      string
}

type feed struct {
	Items      []feedEvent
	NextCursor int64 `json:"next_cursor"`
	HasMore    bool  `json:"has_more"`
}

// feed reads who's whole events feed after a cursor, limit events a page.
func (w *hookWorld) feed(who string, after int64, limit int) []feedEvent {
	w.t.Helper()
	var all []feedEvent
	for range 1000 {
		var p feed
		w.ok(w.call(who, "GET", fmt.Sprintf("/v1/events?after=%d&limit=%d", after, limit), nil, &p), 200)
		all = append(all, p.Items...)
		if len(p.Items) == 0 {
			if p.NextCursor != after || p.HasMore {
				w.t.Fatalf("empty page: next_cursor %d (after %d), has_more %v", p.NextCursor, after, p.HasMore)
			}
			return all
		}
		after = p.NextCursor
	}
	w.t.Fatal("feed does not end")
	return nil
}

type endpointOut struct {
	ID, URL, Secret string
	DisabledAt      *time.Time `json:"disabled_at"`
}

type deliveryOut struct {
	ID         int64
	EventID    string `json:"event_id"`
	Stream     string
	Seq        int64
	State      string
	Attempts   int
	LastStatus int `json:"last_status"`
}

// hit is one request a receiver got.
type hit struct {
	id     string
	stream string
	seq    int64
	status int
}

// receiver is a webhook endpoint that answers 500 to its first failFirst requests and 204 after,
// and checks every request's signature with the Standard Webhooks reference library.
type receiver struct {
	t         *testing.T
	srv       *httptest.Server
	failFirst int
	mu        sync.Mutex
	secret    string
	hits      []hit
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	r := &receiver{t: t, failFirst: failFirst}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	// The world's clock is years from the wall clock: the reference's timestamp check would fail.
	wh, err := standardwebhooks.NewWebhook(r.secret)
	if err == nil {
		err = wh.VerifyIgnoringTimestamp(body, req.Header)
	}
	if err != nil {
		r.t.Errorf("signature of %s: %v", req.Header.Get("webhook-id"), err)
	}
	var m webhook.Message
	if err := json.Unmarshal(body, &m); err != nil {
		r.t.Errorf("body: %v", err)
	}
	if id := req.Header.Get("webhook-id"); id != m.Data.EventID || id != webhook.EventID(m.Data.GlobalSeq) {
		r.t.Errorf("webhook-id %q, body event_id %q, global_seq %d", id, m.Data.EventID, m.Data.GlobalSeq)
	}
	status := http.StatusNoContent
	if len(r.hits) < r.failFirst {
		status = http.StatusInternalServerError
	}
	r.hits = append(r.hits, hit{id: m.Data.EventID, stream: m.Data.Stream, seq: m.Data.Seq, status: status})
	w.WriteHeader(status)
}

// endpoint registers r for who and returns the endpoint's ID.
func (w *hookWorld) endpoint(who string, r *receiver) string {
	w.t.Helper()
	var e endpointOut
	w.ok(w.call(who, "POST", "/v1/webhook-endpoints", map[string]any{"url": r.srv.URL + "/hooks", "description": who}, &e), 201)
	if !strings.HasPrefix(e.Secret, "whsec_") {
		w.t.Fatalf("no secret in the creation response: %+v", e)
	}
	r.mu.Lock()
	r.secret = e.Secret
	r.mu.Unlock()
	return e.ID
}

func (w *hookWorld) deliveries(who, endpointID string) []deliveryOut {
	w.t.Helper()
	var p struct{ Items []deliveryOut }
	w.ok(w.call(who, "GET", "/v1/webhook-deliveries?limit=100&endpoint_id="+endpointID, nil, &p), 200)
	return p.Items
}

// deliver runs the dispatcher until no delivery of the endpoints is pending, moving the clock a
// minute between rounds so that every backoff passes.
func (w *hookWorld) deliver(who string, endpointIDs ...string) {
	w.t.Helper()
	for range 300 {
		for {
			n, err := w.hooks.RunOnce(context.Background(), "test-dispatcher")
			if err != nil {
				w.t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		pending := 0
		for _, id := range endpointIDs {
			for _, d := range w.deliveries(who, id) {
				if d.State == "pending" {
					pending++
				}
			}
		}
		if pending == 0 {
			return
		}
		w.clock.Advance(time.Minute)
	}
	w.t.Fatal("deliveries still pending after 300 rounds")
}

// checkOrdered fails unless r acknowledged exactly the events want, each once, and got every
// stream's events in seq order: a request may repeat only the one before it (a retry of the
// same webhook-id), never go back to an earlier seq or skip one.
func checkOrdered(t *testing.T, r *receiver, want []feedEvent) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	last := map[string]hit{}
	acked := map[string]int{}
	for _, h := range r.hits {
		prev, seen := last[h.stream]
		switch {
		case seen && h.seq == prev.seq && h.id != prev.id:
			t.Errorf("stream %s seq %d came with two webhook-ids: %s, %s", h.stream, h.seq, prev.id, h.id)
		case seen && h.seq == prev.seq && prev.status < 300:
			t.Errorf("stream %s seq %d sent again after it was acknowledged", h.stream, h.seq)
		case seen && h.seq != prev.seq && (h.seq != prev.seq+1 || prev.status >= 300):
			t.Errorf("stream %s: seq %d (status %d) then seq %d", h.stream, prev.seq, prev.status, h.seq)
		case !seen && h.seq != 1:
			t.Errorf("stream %s starts at seq %d", h.stream, h.seq)
		}
		last[h.stream] = h
		if h.status < 300 {
			acked[h.id]++
		}
	}
	for _, e := range want {
		if id := webhook.EventID(e.GlobalSeq); acked[id] != 1 {
			t.Errorf("%s (%s #%d %s) acknowledged %d times", id, e.Stream, e.Seq, e.Type, acked[id])
		}
		delete(acked, webhook.EventID(e.GlobalSeq))
	}
	if len(acked) > 0 {
		t.Errorf("acknowledged events not in the feed: %v", acked)
	}
}

// TestWebhooksThroughHTTP ensures the done criterion: a receiver that fails its first 3
// requests and then recovers ends up acknowledging every event of its organization's feed once,
// each order's events in seq order, every request signed so that the Standard Webhooks
// reference library verifies it; the supplier's endpoint gets the same order events, another
// buyer's gets none. It also ensures the delivery log shows it and a redelivery resends an
// event under the same webhook-id.
func TestWebhooksThroughHTTP(t *testing.T) {
	hookDatabases(t, func(t *testing.T, w *hookWorld) {
		buyerHook, supplierHook, otherHook := newReceiver(t, 3), newReceiver(t, 0), newReceiver(t, 0)
		start := w.feed("admin", 0, 100)
		cursor := start[len(start)-1].GlobalSeq
		be, se, oe := w.endpoint("buyer", buyerHook), w.endpoint("supplier", supplierHook), w.endpoint("buyer2", otherHook)

		o := w.confirmed()
		d := w.confirmed()
		w.do("buyer", o.ID, "pay", map[string]any{"installment": "initial", "method": "card"})
		w.call("supplier", "POST", "/v1/orders/"+d.ID+"/messages", map[string]any{"body": "fabric arrived"}, nil)
		w.deliver("buyer", be) // a first batch, while the receiver fails
		w.tick(2 * time.Hour)  // the payment arrives
		w.report(o.ID, true)
		w.do("buyer", d.ID, "cancel", map[string]any{"reason": "changed plans"})
		w.deliver("buyer", be)
		w.deliver("supplier", se)
		w.deliver("buyer2", oe)

		want := w.feed("buyer", cursor, 3)
		if len(want) < 10 {
			t.Fatalf("only %d events in the buyer's feed", len(want))
		}
		checkOrdered(t, buyerHook, want)
		if failed := buyerHook.hits[:3]; failed[0].status != 500 || failed[2].status != 500 {
			t.Fatalf("the first requests did not fail: %+v", failed)
		}
		checkOrdered(t, supplierHook, w.feed("supplier", cursor, 100))
		if len(otherHook.hits) != 0 {
			t.Fatalf("another buyer's endpoint got %d events of these orders", len(otherHook.hits))
		}

		log := w.deliveries("buyer", be)
		if len(log) != len(want) {
			t.Fatalf("delivery log has %d entries, feed %d", len(log), len(want))
		}
		retried := 0
		for _, d := range log {
			if d.State != "delivered" || d.LastStatus != 204 {
				t.Fatalf("log entry %+v", d)
			}
			if d.Attempts > 1 {
				retried++
			}
		}
		if retried == 0 {
			t.Fatal("no delivery in the log was retried")
		}

		// Redelivery: the first event again, under its webhook-id; refused while pending and
		// for another organization.
		first := log[0]
		w.refused(w.call("buyer2", "POST", fmt.Sprintf("/v1/webhook-deliveries/%d/redeliver", first.ID), nil, nil), 404, "webhook_delivery_not_found")
		var again deliveryOut
		w.ok(w.call("buyer", "POST", fmt.Sprintf("/v1/webhook-deliveries/%d/redeliver", first.ID), nil, &again), 200)
		if again.State != "pending" || again.Attempts != 0 {
			t.Fatalf("redelivered: %+v", again)
		}
		w.refused(w.call("buyer", "POST", fmt.Sprintf("/v1/webhook-deliveries/%d/redeliver", first.ID), nil, nil), 409, "webhook_delivery_pending")
		n := len(buyerHook.hits)
		w.deliver("buyer", be)
		if got := buyerHook.hits[n:]; len(got) != 1 || got[0].id != first.EventID || got[0].status != 204 {
			t.Fatalf("after redelivery the receiver got %+v, want %s once", got, first.EventID)
		}
		w.refused(w.call("buyer2", "GET", "/v1/webhook-deliveries?endpoint_id="+be, nil, nil), 404, "webhook_endpoint_not_found")
	})
}

// TestEventsFeed ensures /v1/events pages through an organization's events in global_seq order
// without gaps or repeats, whatever the page size, and shows each organization only its own:
// an order's buyer and supplier see its events, another buyer sees none, the admin sees all.
func TestEventsFeed(t *testing.T) {
	hookDatabases(t, func(t *testing.T, w *hookWorld) {
		o := w.confirmed()
		w.do("buyer", o.ID, "pay", map[string]any{"installment": "initial", "method": "tt_wire"})
		all := w.feed("admin", 0, 100)
		for _, limit := range []int{1, 2, 7} {
			if got := w.feed("admin", 0, limit); fmt.Sprint(got) != fmt.Sprint(all) {
				t.Fatalf("pages of %d differ from one page", limit)
			}
		}
		for i := 1; i < len(all); i++ {
			if all[i].GlobalSeq <= all[i-1].GlobalSeq {
				t.Fatalf("feed not ascending at %d", i)
			}
		}
		var orderEvents []feedEvent
		for _, e := range all {
			if e.Stream == o.ID {
				orderEvents = append(orderEvents, e)
			}
		}
		if len(orderEvents) < 4 {
			t.Fatalf("%d events of the order in the admin's feed", len(orderEvents))
		}
		streams := func(who string) map[string]int {
			out := map[string]int{}
			for _, e := range w.feed(who, 0, 100) {
				out[e.Stream]++
			}
			return out
		}
		for _, who := range []string{"buyer", "supplier"} {
			got := streams(who)
			if got[o.ID] != len(orderEvents) || got[w.ids[who]] == 0 || len(got) != 2 {
				t.Fatalf("%s sees %v; the order has %d events", who, got, len(orderEvents))
			}
		}
		if got := streams("buyer2"); got[o.ID] != 0 || len(got) != 1 {
			t.Fatalf("another buyer sees %v", got)
		}
		if got := streams("admin"); got[o.ID] != len(orderEvents) || got[w.ids["buyer2"]] == 0 || got[w.ids["supplier"]] == 0 {
			t.Fatalf("the admin sees %v", got)
		}
		w.refused(w.call("buyer", "GET", "/v1/events?after=-1", nil, nil), 422, "validation_failed")
		w.refused(w.call("", "GET", "/v1/events", nil, nil), 401, "invalid_credentials")
	})
}

// TestWebhookEndpoints ensures the endpoint rules: https only (http to loopback allowed), no
// credentials, a length limit, at most webhook.EndpointsPerOrgMax enabled per organization, the
// secret shown once, and only the owner (or an admin) lists or deletes an endpoint.
func TestWebhookEndpoints(t *testing.T) {
	hookDatabases(t, func(t *testing.T, w *hookWorld) {
		for _, c := range []struct {
			url, reason string
		}{
			{"http://example.com/hooks", "webhook_url_not_https"},
			{"ftp://example.com/hooks", "webhook_url_not_https"},
			{"http://10.0.0.1/hooks", "webhook_url_not_https"},
			{"https://user:pw@example.com/hooks", "webhook_url_invalid"},
			{"https://example.com/hooks#frag", "webhook_url_invalid"},
			{"/hooks", "webhook_url_invalid"},
			{"https://", "webhook_url_invalid"},
			{"https://example.com/" + strings.Repeat("a", webhook.URLMax), "webhook_url_too_long"},
		} {
			w.refused(w.call("buyer", "POST", "/v1/webhook-endpoints", map[string]any{"url": c.url}, nil), 422, c.reason)
		}
		var ids []string
		for i := range webhook.EndpointsPerOrgMax {
			var e endpointOut
			url := fmt.Sprintf("https://hooks.example.com/%d", i)
			if i == 0 {
				url = "http://localhost:9/hooks"
			}
			w.ok(w.call("buyer", "POST", "/v1/webhook-endpoints", map[string]any{"url": url}, &e), 201)
			ids = append(ids, e.ID)
		}
		w.refused(w.call("buyer", "POST", "/v1/webhook-endpoints", map[string]any{"url": "https://hooks.example.com/x"}, nil), 409, "webhook_endpoints_limit")

		r := w.ok(w.call("buyer", "GET", "/v1/webhook-endpoints", nil, nil), 200)
		if strings.Contains(string(r.body), "whsec_") {
			t.Fatal("the list shows secrets")
		}
		var page struct{ Items []endpointOut }
		json.Unmarshal(r.body, &page)
		if list := page.Items; len(list) != len(ids) {
			t.Fatalf("listed %d endpoints", len(list))
		}
		var other struct{ Items []endpointOut }
		w.ok(w.call("buyer2", "GET", "/v1/webhook-endpoints", nil, &other), 200)
		if len(other.Items) != 0 {
			t.Fatalf("another buyer lists %d endpoints", len(other.Items))
		}
		w.refused(w.call("buyer2", "GET", "/v1/webhook-endpoints?org_id="+w.ids["buyer"], nil, nil), 404, "organization_not_found")
		w.ok(w.call("admin", "GET", "/v1/webhook-endpoints?org_id="+w.ids["buyer"], nil, &other), 200)
		if len(other.Items) != len(ids) {
			t.Fatalf("the admin lists %d endpoints", len(other.Items))
		}

		w.refused(w.call("buyer2", "DELETE", "/v1/webhook-endpoints/"+ids[0], nil, nil), 404, "webhook_endpoint_not_found")
		w.ok(w.call("buyer", "DELETE", "/v1/webhook-endpoints/"+ids[0], nil, nil), 204)
		w.ok(w.call("buyer", "DELETE", "/v1/webhook-endpoints/"+ids[0], nil, nil), 204)
		w.ok(w.call("buyer", "GET", "/v1/webhook-endpoints", nil, &page), 200)
		if list := page.Items; list[0].ID != ids[0] || list[0].DisabledAt == nil {
			t.Fatalf("the deleted endpoint: %+v", list[0])
		}
		// A disabled endpoint frees its place.
		w.ok(w.call("buyer", "POST", "/v1/webhook-endpoints", map[string]any{"url": "https://hooks.example.com/new"}, nil), 201)
	})
}
