package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/trade"
	"github.com/tradeassure/tradeassure/webhook"
)

// TestWebhooksSQLite runs the webhook store conformance suite on SQLite.
func TestWebhooksSQLite(t *testing.T) { runWebhookConformance(t, openSQLiteT) }

// TestWebhooksPostgres runs the webhook store conformance suite on PostgreSQL.
func TestWebhooksPostgres(t *testing.T) {
	runWebhookConformance(t, func(t testing.TB) *DB { return openPostgresT(t, "") })
}

// runWebhookConformance holds both databases to one contract for event audiences, the events
// feed, endpoints and the delivery outbox (a new, empty database per subtest).
func runWebhookConformance(t *testing.T, open func(t testing.TB) *DB) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, db *DB)
	}{
		{"audience_feed", testAudienceFeed},
		{"endpoints", testEndpoints},
		{"outbox", testOutbox},
		{"redeliver", testRedeliver},
		{"race_claim_deliveries", testRaceClaimDeliveries},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// appendEvents appends one event per "stream#seq" key, each visible to audience, and queues
// it for webhooks, in one transaction.
func appendEvents(t *testing.T, db *DB, audience []string, keys ...string) {
	t.Helper()
	write(t, db, func(tx escrow.Tx) error {
		for _, k := range keys {
			stream, seq, _ := strings.Cut(k, "#")
			var n int64
			fmt.Sscan(seq, &n)
			e := escrow.Event{Stream: stream, Seq: n, Type: "test." + k, Actor: trade.System, At: t0,
				Payload: json.RawMessage(`{"k":"` + k + `"}`), PrevHash: "p", Hash: "h", Audience: audience}
			if err := tx.AppendEvent(ctx, e); err != nil {
				return err
			}
			if err := tx.EnqueueDeliveries(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

func feedKeys(t *testing.T, db *DB, org string, after int64, limit int) ([]string, int64) {
	t.Helper()
	evs, err := db.Webhooks().OrgEvents(ctx, org, after, limit)
	if err != nil {
		t.Fatalf("OrgEvents(%s): %v", org, err)
	}
	var out []string
	last := after
	for _, e := range evs {
		if e.GlobalSeq <= last {
			t.Errorf("OrgEvents(%s) not ascending at %d", org, e.GlobalSeq)
		}
		last = e.GlobalSeq
		out = append(out, fmt.Sprintf("%s#%d", e.Stream, e.Seq))
		if want := `{"k":"` + out[len(out)-1] + `"}`; string(e.Payload) != want {
			t.Errorf("payload %s, want %s", e.Payload, want)
		}
	}
	return out, last
}

// testAudienceFeed covers the audience rows AppendEvent writes and OrgEvents: each organization
// reads exactly the events it is in the audience of, ascending, in pages.
func testAudienceFeed(t *testing.T, db *DB) {
	appendEvents(t, db, []string{"platform", "org_b", "org_s"}, "ord_1#1", "ord_1#2")
	appendEvents(t, db, []string{"platform", "org_b2", "org_s"}, "ord_2#1")
	appendEvents(t, db, []string{"platform", "org_b"}, "org_b#1")
	appendEvents(t, db, nil, "nobody#1")
	for org, want := range map[string][]string{
		"platform": {"ord_1#1", "ord_1#2", "ord_2#1", "org_b#1"},
		"org_b":    {"ord_1#1", "ord_1#2", "org_b#1"},
		"org_s":    {"ord_1#1", "ord_1#2", "ord_2#1"},
		"org_b2":   {"ord_2#1"},
		"org_x":    nil,
	} {
		got, _ := feedKeys(t, db, org, 0, 0)
		same(t, "feed of "+org, got, want)
	}
	// Pages of one: the cursor is the last global_seq seen.
	var paged []string
	after := int64(0)
	for range 10 {
		page, last := feedKeys(t, db, "org_b", after, 1)
		if len(page) == 0 {
			break
		}
		paged, after = append(paged, page...), last
	}
	same(t, "org_b in pages of one", paged, []string{"ord_1#1", "ord_1#2", "org_b#1"})
	// A duplicate event writes no audience rows and no deliveries.
	write(t, db, func(tx escrow.Tx) error {
		err := tx.AppendEvent(ctx, escrow.Event{Stream: "ord_1", Seq: 1, Type: "dup", At: t0, Payload: json.RawMessage(`{}`),
			Audience: []string{"org_x"}})
		wantIs(t, "duplicate event", err, escrow.ErrDuplicate)
		return nil
	})
	if got, _ := feedKeys(t, db, "org_x", 0, 0); len(got) != 0 {
		t.Errorf("a refused duplicate shows in org_x's feed: %v", got)
	}
}

func endpoint(id, org string) webhook.Endpoint {
	return webhook.Endpoint{ID: id, OrgID: org, URL: "https://hooks.example.com/" + id, Secret: "whsec_" + id,
		Description: "desc " + id, CreatedAt: t0}
}

// testEndpoints covers InsertEndpoint (duplicates, the per-organization limit, which disabled
// endpoints do not count against), Endpoint, Endpoints and DisableEndpoint.
func testEndpoints(t *testing.T, db *DB) {
	s := db.Webhooks()
	for _, id := range []string{"whe_1", "whe_2"} {
		if err := s.InsertEndpoint(ctx, endpoint(id, "org_b"), 2); err != nil {
			t.Fatal(err)
		}
	}
	wantIs(t, "third endpoint over a limit of 2", s.InsertEndpoint(ctx, endpoint("whe_3", "org_b"), 2), webhook.ErrLimit)
	wantIs(t, "duplicate ID", s.InsertEndpoint(ctx, endpoint("whe_1", "org_s"), 2), escrow.ErrDuplicate)
	if err := s.InsertEndpoint(ctx, endpoint("whe_4", "org_s"), 2); err != nil {
		t.Fatalf("another organization's endpoint: %v", err)
	}
	got, err := s.Endpoint(ctx, "whe_1")
	same(t, "endpoint", got, endpoint("whe_1", "org_b"))
	wantIs(t, "no error", err, nil)
	_, err = s.Endpoint(ctx, "whe_none")
	wantIs(t, "unknown endpoint", err, escrow.ErrNotFound)

	at := t0.Add(time.Hour)
	if err := s.DisableEndpoint(ctx, "whe_1", at); err != nil {
		t.Fatal(err)
	}
	wantIs(t, "disable twice", s.DisableEndpoint(ctx, "whe_1", at), escrow.ErrNotFound)
	wantIs(t, "disable unknown", s.DisableEndpoint(ctx, "whe_none", at), escrow.ErrNotFound)
	if err := s.InsertEndpoint(ctx, endpoint("whe_3", "org_b"), 2); err != nil {
		t.Fatalf("a disabled endpoint still counts against the limit: %v", err)
	}
	list, err := s.Endpoints(ctx, "org_b", 10)
	if err != nil {
		t.Fatal(err)
	}
	disabled := endpoint("whe_1", "org_b")
	disabled.DisabledAt = &at
	same(t, "endpoints of org_b", list, []webhook.Endpoint{disabled, endpoint("whe_2", "org_b"), endpoint("whe_3", "org_b")})
	if list, _ := s.Endpoints(ctx, "org_b", 1); len(list) != 1 {
		t.Errorf("limit 1 listed %d", len(list))
	}
}

// jobKeys names claimed jobs "endpoint:stream#seq/attempts".
func jobKeys(js []webhook.Job) []string {
	out := []string{}
	for _, j := range js {
		out = append(out, fmt.Sprintf("%s:%s#%d/%d", j.EndpointID, j.Stream, j.Seq, j.Attempts))
	}
	slices.Sort(out)
	return out
}

func claimJobs(t *testing.T, db *DB, now time.Time, owner string) []webhook.Job {
	t.Helper()
	js, err := db.Webhooks().ClaimDeliveries(ctx, now, owner, 2*time.Minute, 50)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	return js
}

func jobOf(t *testing.T, js []webhook.Job, endpointID, stream string, seq int64) webhook.Job {
	t.Helper()
	for _, j := range js {
		if j.EndpointID == endpointID && j.Stream == stream && j.Seq == seq {
			return j
		}
	}
	t.Fatalf("no job %s:%s#%d in %v", endpointID, stream, seq, jobKeys(js))
	return webhook.Job{}
}

// testOutbox covers EnqueueDeliveries (enabled endpoints of the audience only, once each),
// ClaimDeliveries (one delivery per endpoint and stream at a time, in seq order; leases; a
// dead delivery holds back its stream; disabled endpoints are skipped), FinishDelivery's owner
// check and Deliveries' pages.
func testOutbox(t *testing.T, db *DB) {
	s := db.Webhooks()
	for _, e := range []webhook.Endpoint{endpoint("whe_a", "org_b"), endpoint("whe_b", "org_s"), endpoint("whe_c", "org_b")} {
		if err := s.InsertEndpoint(ctx, e, 10); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DisableEndpoint(ctx, "whe_c", t0); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, db, []string{"platform", "org_b", "org_s"}, "ord_1#1", "ord_1#2", "ord_1#3")
	appendEvents(t, db, []string{"platform", "org_b"}, "ord_2#1")
	write(t, db, func(tx escrow.Tx) error { // a repeated enqueue changes nothing
		return tx.EnqueueDeliveries(ctx, escrow.Event{Stream: "ord_2", Seq: 1, At: t0, Audience: []string{"org_b"}})
	})
	logA, err := s.Deliveries(ctx, webhook.DeliveryFilter{EndpointID: "whe_a", Limit: 10})
	if err != nil || len(logA) != 4 {
		t.Fatalf("whe_a has %d deliveries (%v), want 4", len(logA), err)
	}
	if d := logA[0]; d.State != webhook.Pending || d.Attempts != 0 || !d.NextAttemptAt.Equal(t0) || d.OrgID != "org_b" ||
		d.EventID != webhook.EventID(d.GlobalSeq) || d.DeliveredAt != nil {
		t.Fatalf("a new delivery: %+v", d)
	}
	if page, _ := s.Deliveries(ctx, webhook.DeliveryFilter{EndpointID: "whe_a", After: logA[1].ID, Limit: 1}); len(page) != 1 || page[0].ID != logA[2].ID {
		t.Fatalf("second page of whe_a: %+v", page)
	}
	if c, _ := s.Deliveries(ctx, webhook.DeliveryFilter{EndpointID: "whe_c"}); len(c) != 0 {
		t.Fatalf("a disabled endpoint got %d deliveries", len(c))
	}

	// Only the head of each (endpoint, stream) is due; nothing before it is due.
	if js := claimJobs(t, db, t0.Add(-time.Second), "w1"); len(js) != 0 {
		t.Fatalf("claimed before due: %v", jobKeys(js))
	}
	js := claimJobs(t, db, t0, "w1")
	same(t, "first claim", jobKeys(js), []string{"whe_a:ord_1#1/1", "whe_a:ord_2#1/1", "whe_b:ord_1#1/1"})
	a1 := jobOf(t, js, "whe_a", "ord_1", 1)
	if a1.URL != "https://hooks.example.com/whe_a" || a1.Secret != "whsec_whe_a" || a1.Type != "test.ord_1#1" ||
		!a1.At.Equal(t0) || string(a1.Payload) != `{"k":"ord_1#1"}` || a1.LeaseOwner != "w1" || !a1.LeaseUntil.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("job %+v", a1)
	}
	if again := claimJobs(t, db, t0, "w2"); len(again) != 0 {
		t.Fatalf("claimed again while leased: %v", jobKeys(again))
	}
	ok := webhook.Outcome{State: webhook.Delivered, Status: 204, At: t0.Add(time.Second)}
	wantIs(t, "finish by another owner", s.FinishDelivery(ctx, a1.ID, "w2", ok), escrow.ErrNotFound)
	if err := s.FinishDelivery(ctx, a1.ID, "w1", ok); err != nil {
		t.Fatal(err)
	}
	wantIs(t, "finish twice", s.FinishDelivery(ctx, a1.ID, "w1", ok), escrow.ErrNotFound)
	b1 := jobOf(t, js, "whe_b", "ord_1", 1)
	retry := webhook.Outcome{State: webhook.Pending, NextAttemptAt: t0.Add(time.Minute), Status: 500, Error: "HTTP 500", At: t0}
	if err := s.FinishDelivery(ctx, b1.ID, "w1", retry); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Delivery(ctx, b1.ID)
	if got.State != webhook.Pending || got.LastStatus != 500 || got.LastError != "HTTP 500" || !got.NextAttemptAt.Equal(t0.Add(time.Minute)) ||
		got.LeaseOwner != "" || got.Attempts != 1 {
		t.Fatalf("after a failed attempt: %+v", got)
	}

	// whe_a's ord_1#2 is next; whe_b's ord_1#2 waits for its ord_1#1 to be delivered.
	js = claimJobs(t, db, t0.Add(2*time.Second), "w1")
	same(t, "second claim", jobKeys(js), []string{"whe_a:ord_1#2/1"})
	// w1's leases run out: w2 takes over what is due, and w1 can no longer finish it.
	later := t0.Add(3 * time.Minute)
	js2 := claimJobs(t, db, later, "w2")
	same(t, "claim after the leases", jobKeys(js2), []string{"whe_a:ord_1#2/2", "whe_a:ord_2#1/2", "whe_b:ord_1#1/2"})
	wantIs(t, "finish after losing the lease", s.FinishDelivery(ctx, js[0].ID, "w1", ok), escrow.ErrNotFound)
	for _, j := range js2 {
		o := ok
		if j.EndpointID == "whe_b" {
			o = webhook.Outcome{State: webhook.Dead, Status: 410, Error: "HTTP 410", At: later}
		}
		if err := s.FinishDelivery(ctx, j.ID, "w2", o); err != nil {
			t.Fatal(err)
		}
	}
	got, _ = s.Delivery(ctx, js2[0].ID)
	if got.State != webhook.Delivered || got.DeliveredAt == nil || !got.DeliveredAt.Equal(ok.At) || got.LastStatus != 204 {
		t.Fatalf("delivered: %+v", got)
	}
	// A dead delivery holds back the rest of its stream for that endpoint only.
	js = claimJobs(t, db, later.Add(time.Hour), "w3")
	same(t, "claim behind a dead delivery", jobKeys(js), []string{"whe_a:ord_1#3/1"})
	if err := s.FinishDelivery(ctx, js[0].ID, "w3", ok); err != nil {
		t.Fatal(err)
	}
	// A disabled endpoint's pending deliveries are never claimed.
	if err := s.DisableEndpoint(ctx, "whe_b", later); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Redeliver(ctx, b1.ID, later); err != nil {
		t.Fatal(err)
	}
	if js := claimJobs(t, db, later.Add(2*time.Hour), "w3"); len(js) != 0 {
		t.Fatalf("claimed for a disabled endpoint: %v", jobKeys(js))
	}
	if err := s.FinishDelivery(ctx, a1.ID, "w1", webhook.Outcome{State: "claimed"}); err == nil {
		t.Error("FinishDelivery accepts an unknown state")
	}
}

// testRedeliver covers Redeliver: dead and delivered deliveries become pending with no
// attempts; a pending one is a conflict; an unknown one is not found.
func testRedeliver(t *testing.T, db *DB) {
	s := db.Webhooks()
	if err := s.InsertEndpoint(ctx, endpoint("whe_a", "org_b"), 10); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, db, []string{"org_b"}, "ord_1#1", "ord_2#1")
	js := claimJobs(t, db, t0, "w1")
	if len(js) != 2 {
		t.Fatalf("claimed %v", jobKeys(js))
	}
	_, err := s.Redeliver(ctx, js[0].ID, t0)
	wantIs(t, "redeliver a pending delivery", err, escrow.ErrConflict)
	_, err = s.Redeliver(ctx, 1<<40, t0)
	wantIs(t, "redeliver an unknown delivery", err, escrow.ErrNotFound)
	for i, st := range []webhook.State{webhook.Delivered, webhook.Dead} {
		if err := s.FinishDelivery(ctx, js[i].ID, "w1", webhook.Outcome{State: st, Status: 200, Error: "e", At: t0}); err != nil {
			t.Fatal(err)
		}
		at := t0.Add(time.Hour)
		d, err := s.Redeliver(ctx, js[i].ID, at)
		if err != nil || d.State != webhook.Pending || d.Attempts != 0 || !d.NextAttemptAt.Equal(at) || d.DeliveredAt != nil ||
			d.LastStatus != 200 || d.LastError != "e" {
			t.Fatalf("redeliver a %s delivery: %+v, %v", st, d, err)
		}
	}
	same(t, "claim after redelivery", jobKeys(claimJobs(t, db, t0.Add(time.Hour), "w2")),
		[]string{"whe_a:ord_1#1/1", "whe_a:ord_2#1/1"})
}

// testRaceClaimDeliveries ensures concurrent dispatchers never claim the same delivery.
func testRaceClaimDeliveries(t *testing.T, db *DB) {
	const streams = 30
	if err := db.Webhooks().InsertEndpoint(ctx, endpoint("whe_a", "org_b"), 10); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := range streams {
		keys = append(keys, fmt.Sprintf("ord_%02d#1", i))
	}
	appendEvents(t, db, []string{"org_b"}, keys...)
	const workers = 3
	var claimed [workers][]int64
	var errs [workers]error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range workers {
		wg.Go(func() {
			<-start
			for range streams + 1 { // bounded: each round claims at least one delivery or ends
				js, err := db.Webhooks().ClaimDeliveries(ctx, t0, fmt.Sprintf("w%d", i), time.Hour, 4)
				if err != nil || len(js) == 0 {
					errs[i] = err
					return
				}
				for _, j := range js {
					claimed[i] = append(claimed[i], j.ID)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, ids := range claimed {
		for _, id := range ids {
			if seen[id] {
				t.Errorf("delivery %d claimed twice", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != streams {
		t.Errorf("claimed %d of %d deliveries", len(seen), streams)
	}
}
