package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/trade"
)

var errRefused = errors.New("refused: already released")

// testRaceRelease runs two concurrent releases of one order's whole escrow: exactly one wins
// and the escrow ends at 0, never negative. The loser's error depends on what it checks:
//
//   - stale_version: it updates from the version it read before its transaction → ErrConflict;
//   - no_lock: the same without LockOrder, relying on UpdateOrder alone → ErrConflict;
//   - recheck_state: it locks, sees the order released and refuses cleanly;
//   - blind: it locks and updates from the version it locked, so only the ledger stops it →
//     a NegativeError.
func testRaceRelease(t *testing.T, db *DB) {
	const rounds = 8
	for _, mode := range []string{"stale_version", "no_lock", "recheck_state", "blind"} {
		for round := range rounds {
			id := fmt.Sprintf("ord_%s_%d", mode, round)
			o := testOrder(id, "org_b", "org_s", trade.Shipped)
			write(t, db, func(tx escrow.Tx) error {
				return errors.Join(tx.InsertOrder(ctx, o),
					tx.PostTransfer(ctx, transfer(t, "tr_pay_"+id, "payment_received", id, rail, escrowOf(id), 100)))
			})
			var errs [2]error
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 2 {
				wg.Go(func() {
					<-start
					errs[i] = db.Write(ctx, func(tx escrow.Tx) error { return release(tx, mode, id, i) })
				})
			}
			close(start)
			wg.Wait()
			checkRace(t, db, mode, id, errs)
		}
	}
}

// release is one contender: it marks the order released and moves the whole escrow.
func release(tx escrow.Tx, mode, id string, i int) error {
	var o *trade.Order
	var err error
	if mode == "no_lock" {
		o, err = tx.Order(ctx, id)
	} else {
		o, err = tx.LockOrder(ctx, id)
	}
	if err != nil {
		return err
	}
	prev := o.Version
	switch mode {
	case "stale_version", "no_lock":
		prev = 1 // what the caller read before this transaction
	case "recheck_state":
		if o.State == trade.Released {
			return errRefused
		}
	}
	o.State, o.Version = trade.Released, prev+1
	if err := tx.UpdateOrder(ctx, o, prev); err != nil {
		return err
	}
	tr, err := ledger.NewTransfer(fmt.Sprintf("tr_rel_%s_%d", id, i), "release", usd, id, t0).
		Post(escrowOf(id), payable, 100).Build()
	if err != nil {
		return err
	}
	return tx.PostTransfer(ctx, tr)
}

func checkRace(t *testing.T, db *DB, mode, id string, errs [2]error) {
	t.Helper()
	won, lost := errs[0] == nil, errs[1]
	if errs[0] != nil {
		won, lost = errs[1] == nil, errs[0]
	}
	if !won || lost == nil {
		t.Fatalf("%s: want exactly one success, got %v and %v", id, errs[0], errs[1])
	}
	var neg *ledger.NegativeError
	var ok bool
	switch mode {
	case "stale_version", "no_lock":
		ok = errors.Is(lost, escrow.ErrConflict)
	case "recheck_state":
		ok = errors.Is(lost, errRefused)
	case "blind":
		ok = errors.As(lost, &neg)
	}
	if !ok {
		t.Errorf("%s: the loser failed with %v", id, lost)
	}
	read(t, db, func(r escrow.Reader) error {
		b, err := r.Balance(ctx, escrowOf(id).ID())
		ts, err2 := r.OrderTransfers(ctx, id)
		o, err3 := r.Order(ctx, id)
		if b != 0 || len(ts) != 2 || o.Version != 2 {
			t.Errorf("%s: escrow %d (want 0), %d transfers (want 2), version %d (want 2)", id, b, len(ts), o.Version)
		}
		return errors.Join(err, err2, err3)
	})
}

// testRaceClaim runs two claimers over 20 due timers: together they claim each exactly once.
func testRaceClaim(t *testing.T, db *DB) {
	const timers = 20
	write(t, db, func(tx escrow.Tx) error {
		for i := range timers {
			err := tx.PutTimer(ctx, trade.Timer{Key: fmt.Sprintf("k%02d", i), Kind: trade.TimerRelease, OrderID: "ord_1", DueAt: t0})
			if err != nil {
				return err
			}
		}
		return nil
	})
	var claimed [2][]int64
	var errs [2]error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 2 {
		wg.Go(func() {
			<-start
			for range timers + 1 { // bounded: each round claims at least one timer or ends
				got, err := db.ClaimTimers(ctx, t0, fmt.Sprintf("w%d", i), time.Hour, 3)
				if err != nil || len(got) == 0 {
					errs[i] = err
					return
				}
				for _, g := range got {
					claimed[i] = append(claimed[i], g.ID)
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
	for _, id := range append(claimed[0], claimed[1]...) {
		if seen[id] {
			t.Errorf("timer %d claimed twice", id)
		}
		seen[id] = true
	}
	if len(seen) != timers {
		t.Errorf("claimed %d distinct timers (%d + %d), want %d", len(seen), len(claimed[0]), len(claimed[1]), timers)
	}
}

// testEventsTail ensures a reader tailing EventsAfter with a cursor misses no event while
// writers append concurrently: GlobalSeq order is commit order (on PostgreSQL identity values
// would otherwise commit out of order, and the cursor would step over a late one).
func testEventsTail(t *testing.T, db *DB) {
	const writers, perWriter = 4, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				err := db.Write(ctx, func(tx escrow.Tx) error {
					e := escrow.Event{Stream: fmt.Sprintf("s%d", w), Seq: int64(i + 1), Type: "t", Actor: trade.System, At: t0, Payload: []byte(`{}`)}
					if err := tx.AppendEvent(ctx, e); err != nil {
						return err
					}
					time.Sleep(time.Duration(i%3) * time.Millisecond) // commit late, sometimes
					return nil
				})
				if err != nil {
					t.Errorf("append: %v", err)
					return
				}
			}
		})
	}
	seen := map[string]bool{}
	var cursor int64
	deadline := time.Now().Add(10 * time.Second) // a bound, not a timing assertion
	for len(seen) < writers*perWriter && time.Now().Before(deadline) {
		var page []escrow.Event
		read(t, db, func(r escrow.Reader) (err error) { page, err = r.EventsAfter(ctx, cursor, 7); return err })
		for _, e := range page {
			seen[fmt.Sprintf("%s#%d", e.Stream, e.Seq)] = true
			cursor = e.GlobalSeq
		}
		if len(page) == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	wg.Wait()
	var all []escrow.Event
	read(t, db, func(r escrow.Reader) (err error) { all, err = r.EventsAfter(ctx, 0, escrow.PageSizeMax); return err })
	if len(seen) != len(all) || len(all) != writers*perWriter {
		t.Errorf("the tailing reader saw %d of %d events (%d appended)", len(seen), len(all), writers*perWriter)
	}
}
