package store

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
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
		{"lifecycle", testPayoutLifecycle},
		{"claim_race", testPayoutClaimRace},
		{"account_flags", testPayoutAccountFlags},
		{"sandbox_answers", testSandboxPayoutAnswers},
		{"migration_00017", testPayoutMigration},
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
	p, _, err := trade.PlanPayout(trade.PayoutPlan{ID: id, SupplierID: sup, Currency: "USD", Payable: payable,
		Receivable: receivable, Trigger: trade.PayoutByAdmin, Now: at})
	if err != nil {
		panic(err)
	}
	return p
}

// testPayoutRecords: a payout is stored once, read back as written, listed newest first by
// supplier (or status) with a cursor, and its amounts can be neither changed nor deleted.
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
		if got.Netted != 20_00 || got.Sent != 280_00 || got.Status != trade.PayoutRequested || !got.CreatedAt.Equal(t0.Add(2*time.Hour)) ||
			got.Method != payment.TTWire || len(got.TransferIDs) != 2 || !got.NextAttemptAt.Equal(got.CreatedAt) {
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
		// Oldest first (the Operations page): po_1, then po_3 after it, ignoring Before.
		first, err := pr.Payouts(ctx, escrow.PayoutFilter{SupplierID: "sup_a", OldestFirst: true, Before: "po_1", Limit: 1})
		if err != nil {
			return err
		}
		later, err := pr.Payouts(ctx, escrow.PayoutFilter{SupplierID: "sup_a", OldestFirst: true, After: "po_1", Limit: 1})
		if err != nil {
			return err
		}
		if payoutIDs(first) != "po_1" || payoutIDs(later) != "po_3" {
			t.Errorf("oldest first: pages %s then %s, want po_1 then po_3", payoutIDs(first), payoutIDs(later))
		}
		netted, err := pr.Payouts(ctx, escrow.PayoutFilter{Status: trade.PayoutNetted})
		if err != nil {
			return err
		}
		if payoutIDs(netted) != "po_2" {
			t.Errorf("netted payouts %s, want po_2", payoutIDs(netted))
		}
		transit, err := pr.PayoutsInTransit(ctx, "sup_a")
		if err != nil {
			return err
		}
		if len(transit) != 1 || transit["USD"] != 100_00+280_00 {
			t.Errorf("in transit to sup_a %v", transit)
		}
		return nil
	})
	for _, q := range []string{`UPDATE payouts SET sent = 0`, `UPDATE payouts SET sandbox = 1`, `UPDATE payouts SET status = 'netted'`,
		`DELETE FROM payouts`} {
		if err := db.Write(ctx, func(etx escrow.Tx) error {
			_, err := etx.(*tx).q.ExecContext(ctx, q)
			return err
		}); err == nil || !strings.Contains(err.Error(), "payout") {
			t.Fatalf("%s: %v, want the trigger's refusal", q, err)
		}
	}
}

// testPayoutLifecycle: a requested payout is written along its lifecycle — sent, then returned —
// with the answer in its document and its lease cleared; the triggers refuse going back.
func testPayoutLifecycle(t *testing.T, db *DB) {
	p := testPayout("po_1", "sup_a", 100_00, 0, t0)
	write(t, db, func(tx escrow.Tx) error { return payoutTx(t, tx).InsertPayout(ctx, p) })
	admin := trade.Actor{Role: trade.RoleAdmin, OrgID: ledger.Platform, UserID: "ops"}
	sent, _, _, err := trade.ApplyPayoutResult(p, trade.PayoutResult{Outcome: trade.OutcomeSent, Amount: money.New(100_00, "USD"),
		BankReference: "FT1", ValueDate: t0}, admin, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	write(t, db, func(tx escrow.Tx) error {
		pt := payoutTx(t, tx)
		if _, err := pt.LockPayout(ctx, "po_1", "w1"); !errors.Is(err, escrow.ErrNotFound) {
			return fmt.Errorf("locked for a worker that holds no lease: %v", err)
		}
		if _, err := pt.LockPayout(ctx, "po_1", ""); err != nil {
			return err
		}
		return pt.UpdatePayout(ctx, sent)
	})
	read(t, db, func(r escrow.Reader) error {
		got, err := r.(escrow.PayoutReader).Payout(ctx, "po_1")
		if err != nil {
			return err
		}
		if got.Status != trade.PayoutSent || got.BankReference != "FT1" || got.ValueDate == nil || !got.ValueDate.Equal(trade.Day(t0)) ||
			got.RecordedBy != "admin:ops" || !got.NextAttemptAt.IsZero() || len(got.TransferIDs) != 2 {
			t.Errorf("sent %+v", got)
		}
		return nil
	})
	back := sent
	back.Status = trade.PayoutRequested
	if err := db.Write(ctx, func(tx escrow.Tx) error { return payoutTx(t, tx).UpdatePayout(ctx, back) }); err == nil ||
		!strings.Contains(err.Error(), "lifecycle") {
		t.Fatalf("a sent payout back to requested: %v", err)
	}
	ret, _, _, err := trade.ApplyPayoutResult(sent, trade.PayoutResult{Outcome: trade.OutcomeReturned, Amount: money.New(100_00, "USD"),
		ValueDate: t0.Add(48 * time.Hour), Reason: "AC04"}, admin, t0.Add(72*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	write(t, db, func(tx escrow.Tx) error { return payoutTx(t, tx).UpdatePayout(ctx, ret) })
	back = ret
	back.Status = trade.PayoutSent
	if err := db.Write(ctx, func(tx escrow.Tx) error { return payoutTx(t, tx).UpdatePayout(ctx, back) }); err == nil {
		t.Fatal("a returned payout changed again")
	}
}

// testPayoutClaimRace: workers claiming at once lease each due payout once, only the sandbox's
// or only the others, and not again while the lease runs.
func testPayoutClaimRace(t *testing.T, db *DB) {
	write(t, db, func(tx escrow.Tx) error {
		for i := range 6 {
			p := testPayout(fmt.Sprintf("po_%d", i), "sup_a", 100_00, 0, t0)
			p.Sandbox = i%3 == 0 // po_0 and po_3
			if err := payoutTx(t, tx).InsertPayout(ctx, p); err != nil {
				return err
			}
		}
		return payoutTx(t, tx).InsertPayout(ctx, testPayout("po_netted", "sup_a", 100_00, 100_00, t0))
	})
	var wg sync.WaitGroup
	got := make([][]trade.Payout, 3)
	errs := make([]error, 3)
	for i := range got {
		wg.Go(func() { got[i], errs[i] = db.ClaimPayouts(ctx, t0, fmt.Sprintf("w%d", i), time.Minute, 10, false) })
	}
	wg.Wait()
	seen := map[string]string{}
	for i := range got {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for _, p := range got[i] {
			if prev, ok := seen[p.ID]; ok || p.Sandbox || p.Attempts != 1 || p.LeaseOwner != fmt.Sprintf("w%d", i) {
				t.Fatalf("%s claimed by w%d (and %q): %+v", p.ID, i, prev, p)
			}
			seen[p.ID] = fmt.Sprintf("w%d", i)
		}
	}
	if len(seen) != 4 {
		t.Fatalf("claimed %v, want the 4 requested payouts of no sandbox", seen)
	}
	if again, err := db.ClaimPayouts(ctx, t0.Add(30*time.Second), "w9", time.Minute, 10, false); err != nil || len(again) != 0 {
		t.Fatalf("claimed %d while the leases run: %v", len(again), err)
	}
	sbx, err := db.ClaimPayouts(ctx, t0, "s", time.Minute, 10, true)
	if err != nil || payoutIDs(sbx) != "po_0 po_3" {
		t.Fatalf("sandbox claim %s: %v", payoutIDs(sbx), err)
	}
	if lapsed, err := db.ClaimPayouts(ctx, t0.Add(2*time.Minute), "w9", time.Minute, 10, false); err != nil || len(lapsed) != 4 || lapsed[0].Attempts != 2 {
		t.Fatalf("after the leases lapsed: %d claimed: %v", len(lapsed), err)
	}
}

// testPayoutAccountFlags: a supplier has at most one open flag; a second return keeps the first;
// a cleared flag is kept and a new return flags again.
func testPayoutAccountFlags(t *testing.T, db *DB) {
	write(t, db, func(tx escrow.Tx) error {
		pt := payoutTx(t, tx)
		if _, err := pt.OpenPayoutFlag(ctx, "sup_a"); !errors.Is(err, escrow.ErrNotFound) {
			return fmt.Errorf("a flag before any return: %v", err)
		}
		if err := pt.FlagPayoutAccount(ctx, trade.PayoutAccountFlag{SupplierID: "sup_a", PayoutID: "po_1", Reason: "AC01", FlaggedAt: t0}); err != nil {
			return err
		}
		return pt.FlagPayoutAccount(ctx, trade.PayoutAccountFlag{SupplierID: "sup_a", PayoutID: "po_2", Reason: "AC04", FlaggedAt: t0.Add(time.Hour)})
	})
	write(t, db, func(tx escrow.Tx) error {
		pt := payoutTx(t, tx)
		f, err := pt.LockPayoutFlag(ctx, "sup_a")
		if err != nil {
			return err
		}
		if f.PayoutID != "po_1" || f.Reason != "AC01" || !f.FlaggedAt.Equal(t0) || f.ClearedAt != nil {
			t.Errorf("open flag %+v", f)
		}
		at := t0.Add(2 * time.Hour)
		f.ClearedAt, f.ClearedBy = &at, "admin:ops"
		if err := pt.ClearPayoutFlag(ctx, f); err != nil {
			return err
		}
		if err := pt.ClearPayoutFlag(ctx, f); !errors.Is(err, escrow.ErrNotFound) {
			return fmt.Errorf("cleared twice: %v", err)
		}
		if _, err := pt.OpenPayoutFlag(ctx, "sup_a"); !errors.Is(err, escrow.ErrNotFound) {
			return fmt.Errorf("open after clearing: %v", err)
		}
		return pt.FlagPayoutAccount(ctx, trade.PayoutAccountFlag{SupplierID: "sup_a", PayoutID: "po_3", Reason: "AC06", FlaggedAt: at})
	})
	read(t, db, func(r escrow.Reader) error {
		f, err := r.(escrow.PayoutReader).OpenPayoutFlag(ctx, "sup_a")
		if err != nil || f.PayoutID != "po_3" {
			t.Errorf("flag after a new return %+v: %v", f, err)
		}
		return nil
	})
}

// testSandboxPayoutAnswers: the sandbox rail's first answer to a reference is kept: asked again,
// after the supplier's setting changed, it answers the same.
func testSandboxPayoutAnswers(t *testing.T, db *DB) {
	in := escrow.PayoutInstruction{Reference: "po_1", SupplierID: "sup_a", Amount: money.New(100_00, "USD"), Method: payment.TTWire}
	sent := trade.PayoutResult{Outcome: trade.OutcomeSent, Amount: in.Amount, BankReference: "SBX1", ValueDate: trade.Day(t0)}
	ret := trade.PayoutResult{Outcome: trade.OutcomeReturned, Amount: in.Amount, ValueDate: trade.Day(t0), Reason: "AC04"}
	first, err := db.SandboxPayoutAnswer(ctx, in, sent, ret, t0)
	if err != nil || first != sent {
		t.Fatalf("first answer %+v: %v", first, err)
	}
	if err := db.SetSandboxPayoutReturns(ctx, "sup_a", true, t0); err != nil {
		t.Fatal(err)
	}
	if on, err := db.SandboxPayoutReturns(ctx, "sup_a"); !on || err != nil {
		t.Fatalf("setting %v: %v", on, err)
	}
	if again, err := db.SandboxPayoutAnswer(ctx, in, sent, ret, t0.Add(time.Hour)); err != nil || again != sent {
		t.Fatalf("asked again %+v: %v", again, err)
	}
	in.Reference = "po_2"
	if other, err := db.SandboxPayoutAnswer(ctx, in, sent, ret, t0); err != nil || other != ret {
		t.Fatalf("a returned payout %+v: %v", other, err)
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

// testPayoutMigration: migration 00017 goes down and up again over a payout booked before
// payouts had a lifecycle, which keeps its status and amounts, answers as no sandbox payout,
// and is then guarded by the lifecycle trigger.
func testPayoutMigration(t *testing.T, db *DB) {
	legacy := testPayout("po_old", "sup_a", 100_00, 0, t0)
	legacy.Status, legacy.TransferIDs = trade.PayoutSent, []string{"tr_po_old_send"}
	fsys, err := fs.Sub(migrations, "migrations/"+db.d.name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(db.d.goose, db.w, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 16); err != nil {
		t.Fatalf("down to 16: %v", err)
	}
	doc, err := marshalDoc("payout", legacy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `INSERT INTO payouts (id, supplier_id, currency, payable_before, netted, sent, status, created_at, doc)
		VALUES ($1, 'sup_a', 'USD', 10000, 0, 10000, 'sent', $2, $3)`, legacy.ID, micros(t0), doc); err != nil {
		t.Fatalf("a payout at version 16: %v", err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	read(t, db, func(r escrow.Reader) error {
		got, err := r.(escrow.PayoutReader).Payout(ctx, legacy.ID)
		if err != nil {
			return err
		}
		if got.Status != trade.PayoutSent || got.Sent != 100_00 || got.Sandbox || got.Attempts != 0 || len(got.TransferIDs) != 1 {
			t.Errorf("after the migration %+v", got)
		}
		return nil
	})
	if _, err := db.w.ExecContext(ctx, `UPDATE payouts SET sent = 1, netted = 9999 WHERE id = 'po_old'`); err == nil {
		t.Fatal("the lifecycle trigger let a migrated payout's amounts change")
	}
}
