package store

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// TestPayoutsSQLite and TestPayoutsPostgres run the payout storage suite on both databases.
// R12 R14
func TestPayoutsSQLite(t *testing.T) { runPayoutConformance(t, openSQLiteT) }

func TestPayoutsPostgres(t *testing.T) {
	runPayoutConformance(t, func(tb testing.TB) *DB { return openPostgresT(tb, "") })
}

func runPayoutConformance(t *testing.T, open func(testing.TB) *DB) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, db *DB)
	}{
		{"records", testPayoutRecords},
		{"payable_credits", testPayableCredits},
		{"live_timer", testLiveTimer},
		{"balance_lock_race", testBalanceLockRace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

func payoutTx(t *testing.T, tx escrow.Tx) escrow.PayoutTx {
	t.Helper()
	pt, ok := tx.(escrow.PayoutTx)
	if !ok {
		t.Fatal("the store's transaction does not implement escrow.PayoutTx")
	}
	return pt
}

func testPayout(id, sup string, payable, receivable int64, at time.Time) trade.Payout {
	p, _, err := trade.PlanPayout(id, sup, "USD", payable, receivable, trade.PayoutByAdmin, at)
	if err != nil {
		panic(err)
	}
	return p
}

// testPayoutRecords: a payout is stored once, read back as written, listed newest first by
// supplier with a cursor, and can be neither changed nor deleted.
func testPayoutRecords(t *testing.T, db *DB) {
	write(t, db, func(tx escrow.Tx) error {
		pt := payoutTx(t, tx)
		for i, p := range []trade.Payout{
			testPayout("po_1", "sup_a", 100_00, 0, t0),
			testPayout("po_2", "sup_b", 50_00, 80_00, t0.Add(time.Hour)),
			testPayout("po_3", "sup_a", 300_00, 20_00, t0.Add(2*time.Hour)),
		} {
			if err := pt.InsertPayout(ctx, p); err != nil {
				return fmt.Errorf("payout %d: %w", i, err)
			}
		}
		return nil
	})
	err := db.Write(ctx, func(tx escrow.Tx) error {
		return payoutTx(t, tx).InsertPayout(ctx, testPayout("po_1", "sup_a", 1, 0, t0))
	})
	if !errors.Is(err, escrow.ErrDuplicate) {
		t.Fatalf("a payout stored twice: %v, want ErrDuplicate", err)
	}
	bad := testPayout("po_9", "sup_a", 100_00, 0, t0)
	bad.Sent = 99_00 // netted + sent ≠ payable
	if err := db.Write(ctx, func(tx escrow.Tx) error { return payoutTx(t, tx).InsertPayout(ctx, bad) }); err == nil {
		t.Fatal("a payout whose parts do not add up was stored")
	}
	read(t, db, func(r escrow.Reader) error {
		pr := r.(escrow.PayoutReader)
		got, err := pr.Payout(ctx, "po_3")
		if err != nil {
			return err
		}
		if got.Netted != 20_00 || got.Sent != 280_00 || got.Status != trade.PayoutSent || !got.CreatedAt.Equal(t0.Add(2*time.Hour)) ||
			got.Method != payment.TTWire || len(got.TransferIDs) != 2 {
			t.Errorf("read back %+v", got)
		}
		if _, err := pr.Payout(ctx, "po_none"); !errors.Is(err, escrow.ErrNotFound) {
			t.Errorf("a missing payout: %v", err)
		}
		all, err := pr.Payouts(ctx, escrow.PayoutFilter{Limit: 10})
		if err != nil {
			return err
		}
		if ids := payoutIDs(all); ids != "po_3 po_2 po_1" {
			t.Errorf("all payouts %s, want newest first", ids)
		}
		a, err := pr.Payouts(ctx, escrow.PayoutFilter{SupplierID: "sup_a", Limit: 1})
		if err != nil {
			return err
		}
		next, err := pr.Payouts(ctx, escrow.PayoutFilter{SupplierID: "sup_a", Before: a[0].ID, Limit: 1})
		if err != nil {
			return err
		}
		if payoutIDs(a) != "po_3" || payoutIDs(next) != "po_1" {
			t.Errorf("pages %s then %s, want po_3 then po_1", payoutIDs(a), payoutIDs(next))
		}
		return nil
	})
	for _, q := range []string{`UPDATE payouts SET sent = 0`, `DELETE FROM payouts`} {
		if err := db.Write(ctx, func(etx escrow.Tx) error {
			_, err := etx.(*tx).q.ExecContext(ctx, q)
			return err
		}); err == nil || !strings.Contains(err.Error(), "payouts are immutable") {
			t.Fatalf("%s: %v, want the trigger's refusal", q, err)
		}
	}
}

func payoutIDs(ps []trade.Payout) string {
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return strings.Join(ids, " ")
}

// testPayableCredits: the releases credited to a supplier's payable come back newest first, and
// only that supplier's payable and receivable balances are its own.
func testPayableCredits(t *testing.T, db *DB) {
	esc := func(o string) ledger.Account { return ledger.Account{Kind: ledger.Escrow, Owner: o, Currency: "USD"} }
	pay := trade.PayableAccount("sup_a", "USD")
	write(t, db, func(tx escrow.Tx) error {
		for i, tr := range []ledger.Transfer{
			paidIn("ord_1", 300_00), paidIn("ord_2", 700_00), paidIn("ord_3", 10_00),
			mustTransfer(ledger.NewTransfer("tr_1", "release_for_production", "USD", "ord_1", t0).Post(esc("ord_1"), pay, 300_00)),
			mustTransfer(ledger.NewTransfer("tr_2", "release", "USD", "ord_2", t0.Add(time.Hour)).Post(esc("ord_2"), pay, 700_00)),
			mustTransfer(ledger.NewTransfer("tr_3", "payout", "USD", "", t0.Add(2*time.Hour)).
				Post(pay, trade.RailAccount(payment.TTWire, "USD"), 500_00)),
			mustTransfer(ledger.NewTransfer("tr_4", "release", "USD", "ord_3", t0.Add(3*time.Hour)).
				Post(esc("ord_3"), trade.PayableAccount("sup_b", "USD"), 10_00)),
		} {
			if err := tx.PostTransfer(ctx, tr); err != nil {
				return fmt.Errorf("transfer %d: %w", i, err)
			}
		}
		return nil
	})
	read(t, db, func(r escrow.Reader) error {
		pr := r.(escrow.PayoutReader)
		cs, err := pr.PayableCredits(ctx, "sup_a", "USD", 10)
		if err != nil {
			return err
		}
		if len(cs) != 2 || cs[0].TransferID != "tr_2" || cs[0].Amount != 700_00 || cs[0].OrderID != "ord_2" ||
			cs[1].Code != "release_for_production" || !cs[1].At.Equal(t0) {
			t.Errorf("credits %+v", cs)
		}
		if comp := trade.PayableComposition(500_00, cs); len(comp) != 1 || comp[0].Unpaid != 500_00 {
			t.Errorf("composition %+v", comp)
		}
		bs, err := pr.SupplierBalances(ctx, "sup_a")
		if err != nil {
			return err
		}
		if len(bs) != 1 || ledger.Natural(ledger.SupplierPayable, bs[pay.ID()]) != 500_00 {
			t.Errorf("balances %v", bs)
		}
		return nil
	})
}

// paidIn is a buyer's payment arriving on the card rail into an order's escrow.
func paidIn(order string, amount int64) ledger.Transfer {
	return mustTransfer(ledger.NewTransfer("tr_paid_"+order, "payment_received", "USD", order, t0).
		Post(trade.RailAccount(payment.Card, "USD"), ledger.Account{Kind: ledger.Escrow, Owner: order, Currency: "USD"}, amount))
}

func mustTransfer(b *ledger.Builder) ledger.Transfer {
	tr, err := b.Build()
	if err != nil {
		panic(err)
	}
	return tr
}

// testLiveTimer: the live timer of a key is found (and locked) until it is replaced or fired.
func testLiveTimer(t *testing.T, db *DB) {
	key := trade.PayoutTimerKey("sup_a", "USD")
	write(t, db, func(tx escrow.Tx) error {
		if _, err := payoutTx(t, tx).LockLiveTimer(ctx, key); !errors.Is(err, escrow.ErrNotFound) {
			return fmt.Errorf("no timer yet: %v", err)
		}
		if err := tx.PutTimer(ctx, trade.Timer{Key: key, Kind: trade.TimerPayout, OrderID: "sup_a", DueAt: t0, Ref: "USD"}); err != nil {
			return err
		}
		return tx.PutTimer(ctx, trade.Timer{Key: key, Kind: trade.TimerPayout, OrderID: "sup_a", DueAt: t0.Add(time.Hour), Ref: "USD"})
	})
	write(t, db, func(tx escrow.Tx) error {
		st, err := payoutTx(t, tx).LockLiveTimer(ctx, key)
		if err != nil {
			return err
		}
		if !st.DueAt.Equal(t0.Add(time.Hour)) || st.State != escrow.TimerPending || st.Ref != "USD" {
			t.Errorf("live timer %+v", st)
		}
		return nil
	})
	claimed, err := db.ClaimTimers(ctx, t0.Add(2*time.Hour), "w", time.Minute, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %d", err, len(claimed))
	}
	write(t, db, func(tx escrow.Tx) error { return tx.FinishTimer(ctx, claimed[0].ID, escrow.TimerFired, "fired", t0) })
	read(t, db, func(r escrow.Reader) error {
		if _, err := r.(escrow.PayoutReader).LiveTimer(ctx, key); !errors.Is(err, escrow.ErrNotFound) {
			t.Errorf("a fired timer is still live: %v", err)
		}
		return nil
	})
}

// testBalanceLockRace: transactions that lock a balance, read it and take all of it out never
// take the same money twice: the first takes it, the others find nothing.
func testBalanceLockRace(t *testing.T, db *DB) {
	pay := trade.PayableAccount("sup_a", "USD")
	rail := trade.RailAccount(payment.TTWire, "USD")
	write(t, db, func(tx escrow.Tx) error {
		if err := tx.PostTransfer(ctx, paidIn("ord_1", 1_000_00)); err != nil {
			return err
		}
		return tx.PostTransfer(ctx, mustTransfer(ledger.NewTransfer("tr_in", "release", "USD", "ord_1", t0).
			Post(ledger.Account{Kind: ledger.Escrow, Owner: "ord_1", Currency: "USD"}, pay, 1_000_00)))
	})
	const racers = 4
	var wg sync.WaitGroup
	took := make([]int64, racers)
	errs := make([]error, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Write(ctx, func(tx escrow.Tx) error {
				took[i] = 0
				pt := payoutTx(t, tx)
				if _, err := pt.LockBalance(ctx, rail.ID()); err != nil {
					return err
				}
				signed, err := pt.LockBalance(ctx, pay.ID())
				if err != nil {
					return err
				}
				owed := ledger.Natural(ledger.SupplierPayable, signed)
				if owed == 0 {
					return nil
				}
				took[i] = owed
				return tx.PostTransfer(ctx, mustTransfer(ledger.NewTransfer(fmt.Sprintf("tr_out_%d", i), "payout", "USD", "", t0).
					Post(pay, rail, owed)))
			})
		}()
	}
	wg.Wait()
	total := int64(0)
	for i := range racers {
		if errs[i] != nil {
			t.Fatalf("racer %d: %v", i, errs[i])
		}
		total += took[i]
	}
	if total != 1_000_00 {
		t.Fatalf("the racers took %d in all, want the balance 100000 once (%v)", total, took)
	}
}
