package api_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
)

// TestIdempotencyKeyRetention ensures idempotency keys live for escrow.KeyRetention and no
// longer: a retry just before the retention ends replays the first answer, one after it is a new
// request; a purge never deletes a key younger than 24 hours (escrow.KeyRetentionMin), whatever
// retention it is given; the keys that book rail credits are kept forever; and several purgers
// may run at once.
func TestIdempotencyKeyRetention(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		shipBy := w.clock.Now().Truncate(24*time.Hour).AddDate(0, 0, 60).Format(time.RFC3339) // the same request every time
		place := func(key string) string {
			t.Helper()
			var o order
			w.ok(w.call("buyer", "POST", "/v1/orders", map[string]any{"supplier_id": w.ids["supplier"], "currency": "USD",
				"ship_by": shipBy, "compliance_confirmed": true}, &o, "Idempotency-Key", key), 201)
			return o.ID
		}
		credit := func() string {
			t.Helper()
			var al escrow.Allocation
			w.ok(w.call("admin", "POST", "/v1/rails/tt_wire/credits", map[string]any{"id": "stmt-2026-03-02-1",
				"amount": map[string]any{"minor": 12345, "currency": "USD"}, "reference": "unknown"}, &al,
				"Idempotency-Key", "stmt-2026-03-02-1"), 200)
			return al.SuspenseID
		}
		purge := func(retention time.Duration) {
			t.Helper()
			// Three purgers at once, as three servers would run them.
			var wg sync.WaitGroup
			errs := make(chan error, 3)
			for range 3 {
				wg.Go(func() {
					if _, err := w.svc.PurgeKeys(ctx, retention); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
		}
		first, sus := place("checkout-1"), credit()

		w.clock.Advance(escrow.KeyRetention - time.Minute)
		purge(escrow.KeyRetention)
		if got := place("checkout-1"); got != first {
			t.Fatalf("a minute before the retention ends the key made order %s, want the first, %s", got, first)
		}
		recent := place("checkout-2")

		w.clock.Advance(2 * time.Minute)
		purge(escrow.KeyRetention)
		second := place("checkout-1")
		if second == first {
			t.Fatal("a minute after the retention ended the key still replays")
		}
		if got := place("checkout-2"); got != recent {
			t.Fatalf("a key 2 minutes old was purged: order %s, want %s", got, recent)
		}
		if got := credit(); got != sus {
			t.Fatalf("the rail credit was booked again after the retention: %s, want %s", got, sus)
		}

		// A retention below 24 hours is raised to 24 hours: keys of 23 hours stay.
		w.clock.Advance(23 * time.Hour)
		purge(time.Minute)
		if got := place("checkout-2"); got != recent {
			t.Fatalf("a key 23 hours old was purged with a retention of a minute: %s, want %s", got, recent)
		}
		if got := place("checkout-1"); got != second {
			t.Fatalf("a key 23 hours old was purged: %s, want %s", got, second)
		}
		w.clock.Advance(2 * time.Hour)
		purge(time.Minute)
		if got := place("checkout-2"); got == recent {
			t.Fatal("a key 25 hours old outlived a retention of 24 hours")
		}
	})
}
