package store

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/trade"
)

func claim(t *testing.T, db *DB, now time.Time, owner string, limit int) []escrow.StoredTimer {
	t.Helper()
	got, err := db.ClaimTimers(ctx, now, owner, 5*time.Minute, limit)
	if err != nil {
		t.Fatalf("claim timers: %v", err)
	}
	return got
}

func keys(ts []escrow.StoredTimer) []string {
	var out []string
	for _, t := range ts {
		out = append(out, fmt.Sprintf("%s:%s", t.Key, t.State))
	}
	return out
}

// testTimers covers PutTimer's replace-by-key, ClaimTimers (due ones in due order, the limit,
// reclaiming after the lease), LockTimer's owner check, FinishTimer, and LiveTimers.
func testTimers(t *testing.T, db *DB) {
	tm := func(key string, due time.Duration) trade.Timer {
		return trade.Timer{Key: "ord_1/" + key, Kind: trade.TimerShippingDeadline, OrderID: "ord_1", DueAt: t0.Add(due), Ref: "ref_" + key}
	}
	write(t, db, func(tx escrow.Tx) error {
		return errors.Join(tx.PutTimer(ctx, tm("a", time.Hour)), tx.PutTimer(ctx, tm("b", 2*time.Hour)),
			tx.PutTimer(ctx, tm("c", 3*time.Hour)), tx.PutTimer(ctx, tm("a", 30*time.Minute))) // a moved earlier
	})
	var all []escrow.StoredTimer
	read(t, db, func(r escrow.Reader) (err error) { all, err = r.Timers(ctx, "ord_1"); return err })
	same(t, "timers", keys(all), []string{"ord_1/a:replaced", "ord_1/b:pending", "ord_1/c:pending", "ord_1/a:pending"})
	same(t, "pending timer", all[3], escrow.StoredTimer{ID: all[3].ID, Timer: tm("a", 30*time.Minute), State: escrow.TimerPending})

	now := t0.Add(time.Hour) // a is due (the replaced one would be too); b and c are not
	got := claim(t, db, now, "w1", 10)
	same(t, "claimed", got, []escrow.StoredTimer{{ID: all[3].ID, Timer: tm("a", 30*time.Minute), State: escrow.TimerClaimed,
		Owner: "w1", LeaseUntil: now.Add(5 * time.Minute), Attempts: 1}})
	if again := claim(t, db, now, "w2", 10); len(again) != 0 {
		t.Errorf("claimed again while leased: %v", keys(again))
	}
	id := got[0].ID
	write(t, db, func(tx escrow.Tx) error {
		_, err := tx.LockTimer(ctx, id, "w2")
		wantIs(t, "lock by another owner", err, escrow.ErrNotFound)
		locked, err := tx.LockTimer(ctx, id, "w1")
		same(t, "locked timer", locked, got[0])
		return err
	})
	// The lease of w1 expires: w2 reclaims the timer, and w1 can no longer lock it.
	later := now.Add(6 * time.Minute)
	re := claim(t, db, later, "w2", 10)
	if len(re) != 1 || re[0].ID != id || re[0].Owner != "w2" || re[0].Attempts != 2 || !re[0].LeaseUntil.Equal(later.Add(5*time.Minute)) {
		t.Fatalf("reclaim after the lease: %+v", re)
	}
	fired := later.Add(time.Second)
	write(t, db, func(tx escrow.Tx) error {
		_, err := tx.LockTimer(ctx, id, "w1")
		wantIs(t, "lock after losing the lease", err, escrow.ErrNotFound)
		if _, err := tx.LockTimer(ctx, id, "w2"); err != nil {
			return err
		}
		wantIs(t, "finish a missing timer", tx.FinishTimer(ctx, 1<<40, escrow.TimerFired, "fired", fired), escrow.ErrNotFound)
		return tx.FinishTimer(ctx, id, escrow.TimerFired, "fired", fired)
	})
	write(t, db, func(tx escrow.Tx) error {
		_, err := tx.LockTimer(ctx, id, "w2")
		wantIs(t, "lock a finished timer", err, escrow.ErrNotFound)
		return nil
	})
	// Far in the future: the limit and the due order hold, and finished timers never return.
	if got := claim(t, db, t0.Add(10*time.Hour), "w3", 1); len(got) != 1 || got[0].Key != "ord_1/b" {
		t.Errorf("first due: %v", keys(got))
	}
	got = claim(t, db, t0.Add(10*time.Hour), "w3", 10)
	same(t, "next due", keys(got), []string{"ord_1/c:claimed"})
	write(t, db, func(tx escrow.Tx) error {
		return tx.FinishTimer(ctx, got[0].ID, escrow.TimerDead, "failed 5 times", fired)
	})
	read(t, db, func(r escrow.Reader) (err error) { all, err = r.Timers(ctx, "ord_1"); return err })
	same(t, "final timers", keys(all), []string{"ord_1/a:replaced", "ord_1/b:claimed", "ord_1/c:dead", "ord_1/a:fired"})
	if f := all[3]; f.FiredAt == nil || !f.FiredAt.Equal(fired) || f.Outcome != "fired" || f.FiredAt.Location() != time.UTC {
		t.Errorf("fired timer: %+v", f)
	}

	// LiveTimers reads the live (pending or claimed) timers of several orders at once, by
	// order and ID: not those replaced, dead or fired, nor another order's.
	other := func(order, key string) trade.Timer {
		return trade.Timer{Key: order + "/" + key, Kind: trade.TimerPaymentExpiry, OrderID: order, DueAt: t0.Add(time.Hour), Ref: "pay_" + key}
	}
	write(t, db, func(tx escrow.Tx) error {
		return errors.Join(tx.PutTimer(ctx, other("ord_2", "x")), tx.PutTimer(ctx, other("ord_2", "y")), tx.PutTimer(ctx, other("ord_3", "z")))
	})
	var live []escrow.StoredTimer
	read(t, db, func(r escrow.Reader) (err error) {
		live, err = r.LiveTimers(ctx, []string{"ord_2", "ord_1", "ord_missing"})
		return err
	})
	same(t, "live timers", keys(live), []string{"ord_1/b:claimed", "ord_2/x:pending", "ord_2/y:pending"})
	read(t, db, func(r escrow.Reader) (err error) { live, err = r.LiveTimers(ctx, nil); return err })
	if len(live) != 0 {
		t.Errorf("live timers of no order: %v", keys(live))
	}
}

// testTimerReplaceClaimed ensures a timer replaced while claimed cannot be locked by its
// claimer, so a moved deadline never fires at its old time.
func testTimerReplaceClaimed(t *testing.T, db *DB) {
	timer := trade.Timer{Key: "ord_1/deadline", Kind: trade.TimerShippingDeadline, OrderID: "ord_1", DueAt: t0}
	write(t, db, func(tx escrow.Tx) error { return tx.PutTimer(ctx, timer) })
	got := claim(t, db, t0, "w1", 10)
	if len(got) != 1 {
		t.Fatalf("claimed %v", keys(got))
	}
	timer.DueAt = t0.Add(24 * time.Hour)
	write(t, db, func(tx escrow.Tx) error { return tx.PutTimer(ctx, timer) })
	write(t, db, func(tx escrow.Tx) error {
		_, err := tx.LockTimer(ctx, got[0].ID, "w1")
		wantIs(t, "lock a replaced timer", err, escrow.ErrNotFound)
		return nil
	})
	if again := claim(t, db, t0.Add(time.Hour), "w2", 10); len(again) != 0 {
		t.Errorf("the moved deadline fired early: %v", keys(again))
	}
}
