package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/webhook"
)

// TestWebhookCommandsSQLite runs the keyed endpoint and redelivery tests on SQLite.
func TestWebhookCommandsSQLite(t *testing.T) { runWebhookCommands(t, openSQLiteT) }

// TestWebhookCommandsPostgres runs the keyed endpoint and redelivery tests on PostgreSQL.
func TestWebhookCommandsPostgres(t *testing.T) {
	runWebhookCommands(t, func(t testing.TB) *DB { return openPostgresT(t, "") })
}

func runWebhookCommands(t *testing.T, open func(t testing.TB) *DB) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, db *DB)
	}{
		{"insert_endpoint_once", testInsertEndpointOnce},
		{"race_insert_endpoint_once", testRaceInsertEndpointOnce},
		{"redeliver_once", testRedeliverOnce},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

func cmdOf(org, key, hash string) escrow.CommandRecord {
	return escrow.CommandRecord{Scope: org, Key: key, RequestHash: hash, At: t0}
}

// testInsertEndpointOnce ensures a recorded key returns the endpoint it created (secret
// included) and inserts nothing, even at the limit; another request hash is ErrKeyReused; the
// key is recorded in the commands table the escrow commands use.
func testInsertEndpointOnce(t *testing.T, db *DB) {
	s := db.Webhooks()
	first, err := s.InsertEndpointOnce(ctx, endpoint("whe_1", "org_b"), 2, cmdOf("org_b", "k1", "h1"))
	if err != nil || first.ID != "whe_1" {
		t.Fatalf("first: %+v %v", first, err)
	}
	if err := s.InsertEndpoint(ctx, endpoint("whe_2", "org_b"), 2); err != nil {
		t.Fatal(err)
	}
	again, err := s.InsertEndpointOnce(ctx, endpoint("whe_3", "org_b"), 2, cmdOf("org_b", "k1", "h1"))
	if err != nil || again.ID != "whe_1" || again.Secret != "whsec_whe_1" || again.URL != first.URL {
		t.Fatalf("retry at the limit: %+v %v", again, err)
	}
	_, err = s.InsertEndpointOnce(ctx, endpoint("whe_4", "org_b"), 10, cmdOf("org_b", "k1", "h2"))
	wantIs(t, "the key for another request", err, webhook.ErrKeyReused)
	_, err = s.InsertEndpointOnce(ctx, endpoint("whe_5", "org_b"), 2, cmdOf("org_b", "k2", "h1"))
	wantIs(t, "a new key at the limit", err, webhook.ErrLimit)
	if es, _ := s.Endpoints(ctx, "org_b", 10); len(es) != 2 {
		t.Fatalf("%d endpoints, want 2", len(es))
	}
	// The escrow side sees the key: the same scope and table.
	write(t, db, func(tx escrow.Tx) error {
		rec, err := tx.Command(ctx, "org_b", "k1")
		if err != nil || rec == nil || rec.RequestHash != "h1" || string(rec.Result) != `"whe_1"` {
			return fmt.Errorf("command record %+v, %v", rec, err)
		}
		return nil
	})
}

// testRaceInsertEndpointOnce ensures concurrent runs of one key register one endpoint and all
// answer it.
func testRaceInsertEndpointOnce(t *testing.T, db *DB) {
	const runs = 6
	var got [runs]webhook.Endpoint
	var errs [runs]error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range runs {
		wg.Go(func() {
			<-start
			e := endpoint(fmt.Sprintf("whe_%d", i), "org_b")
			got[i], errs[i] = db.Webhooks().InsertEndpointOnce(ctx, e, 10, cmdOf("org_b", "k", "h"))
			if errors.Is(errs[i], escrow.ErrDuplicate) { // as webhook.Service does
				got[i], errs[i] = db.Webhooks().InsertEndpointOnce(ctx, e, 10, cmdOf("org_b", "k", "h"))
			}
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		t.Fatal(err)
	}
	for i := range runs {
		if got[i].ID != got[0].ID {
			t.Errorf("run %d answered %s, run 0 %s", i, got[i].ID, got[0].ID)
		}
	}
	if es, _ := db.Webhooks().Endpoints(ctx, "org_b", 10); len(es) != 1 {
		t.Fatalf("%d endpoints after %d runs of one key", len(es), runs)
	}
}

// testRedeliverOnce ensures a recorded redelivery key changes nothing and answers the delivery
// as it is now, even while it is pending (not ErrConflict), concurrent runs included; the key
// for another delivery is ErrKeyReused.
func testRedeliverOnce(t *testing.T, db *DB) {
	s := db.Webhooks()
	if err := s.InsertEndpoint(ctx, endpoint("whe_a", "org_b"), 10); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, db, []string{"org_b"}, "ord_1#1", "ord_2#1")
	js := claimJobs(t, db, t0, "w1")
	if len(js) != 2 {
		t.Fatalf("claimed %v", jobKeys(js))
	}
	for _, j := range js {
		if err := s.FinishDelivery(ctx, j.ID, "w1", webhook.Outcome{State: webhook.Delivered, Status: 204, At: t0}); err != nil {
			t.Fatal(err)
		}
	}
	at := t0.Add(time.Hour)
	const runs = 4
	var got [runs]webhook.Delivery
	var errs [runs]error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range runs {
		wg.Go(func() {
			<-start
			got[i], errs[i] = s.RedeliverOnce(ctx, js[0].ID, at, cmdOf("org_b", "r1", "h1"))
			if errors.Is(errs[i], escrow.ErrDuplicate) {
				got[i], errs[i] = s.RedeliverOnce(ctx, js[0].ID, at, cmdOf("org_b", "r1", "h1"))
			}
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		t.Fatal(err)
	}
	for i, d := range got {
		if d.ID != js[0].ID || d.State != webhook.Pending || d.Attempts != 0 {
			t.Errorf("run %d: %+v", i, d)
		}
	}
	// It goes out (claimed, delivered); the retry then answers delivered and queues nothing.
	again := claimJobs(t, db, at, "w2")
	if len(again) != 1 || again[0].ID != js[0].ID {
		t.Fatalf("claimed after redelivery: %v", jobKeys(again))
	}
	if err := s.FinishDelivery(ctx, js[0].ID, "w2", webhook.Outcome{State: webhook.Delivered, Status: 204, At: at}); err != nil {
		t.Fatal(err)
	}
	d, err := s.RedeliverOnce(ctx, js[0].ID, at.Add(time.Hour), cmdOf("org_b", "r1", "h1"))
	if err != nil || d.State != webhook.Delivered || d.Attempts != 1 {
		t.Fatalf("retry after it went out: %+v %v", d, err)
	}
	if js := claimJobs(t, db, at.Add(2*time.Hour), "w3"); len(js) != 0 {
		t.Fatalf("a retry queued %v", jobKeys(js))
	}
	_, err = s.RedeliverOnce(ctx, js[1].ID, at, cmdOf("org_b", "r1", "h2"))
	wantIs(t, "the key for another delivery", err, webhook.ErrKeyReused)
	_, err = s.RedeliverOnce(ctx, 1<<40, at, cmdOf("org_b", "r2", "h3"))
	wantIs(t, "an unknown delivery", err, escrow.ErrNotFound)
}
