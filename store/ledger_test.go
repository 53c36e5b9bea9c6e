package store

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

var (
	usd      money.Currency = "USD"
	rail                    = trade.RailAccount(payment.TTWire, usd)
	fee                     = trade.FeeAccount(payment.TTWire, usd)
	payable                 = ledger.Account{Kind: ledger.SupplierPayable, Owner: "org_s", Currency: usd}
	refunds                 = ledger.Account{Kind: ledger.BuyerRefundable, Owner: "org_b", Currency: usd}
	escrowOf                = func(order string) ledger.Account {
		return ledger.Account{Kind: ledger.Escrow, Owner: order, Currency: usd}
	}
)

// transfer builds a transfer of order in USD from (debit, credit, amount) postings.
func transfer(t testing.TB, id, code, order string, posts ...any) ledger.Transfer {
	t.Helper()
	b := ledger.NewTransfer(id, code, usd, order, t0).Memo("memo " + id)
	for i := 0; i+2 < len(posts); i += 3 {
		b.Post(posts[i].(ledger.Account), posts[i+1].(ledger.Account), int64(posts[i+2].(int)))
	}
	tr, err := b.Build()
	if err != nil {
		t.Fatalf("build %s: %v", id, err)
	}
	return tr
}

func post(t *testing.T, db *DB, trs ...ledger.Transfer) {
	t.Helper()
	write(t, db, func(tx escrow.Tx) error {
		for _, tr := range trs {
			if err := tx.PostTransfer(ctx, tr); err != nil {
				return err
			}
		}
		return nil
	})
}

func balances(t *testing.T, db *DB) ledger.Balances {
	t.Helper()
	var b ledger.Balances
	read(t, db, func(r escrow.Reader) (err error) { b, err = r.Balances(ctx); return err })
	return b
}

func allTransfers(t *testing.T, db *DB) []escrow.StoredTransfer {
	t.Helper()
	var ts []escrow.StoredTransfer
	read(t, db, func(r escrow.Reader) (err error) { ts, err = r.Transfers(ctx, 0, escrow.PageSizeMax); return err })
	return ts
}

// testLedger covers PostTransfer's balance table, transfers read back entry for entry, and
// ErrDuplicate on a transfer ID (leaving the transaction usable).
func testLedger(t *testing.T, db *DB) {
	esc := escrowOf("ord_1")
	paid := transfer(t, "tr_paid", "payment_received", "ord_1", rail, esc, 1000, rail, fee, 100) // rail twice
	released := transfer(t, "tr_rel", "release", "ord_1", esc, payable, 400)
	other := transfer(t, "tr_other", "payment_received", "ord_2", rail, escrowOf("ord_2"), 50)
	post(t, db, paid, released)
	write(t, db, func(tx escrow.Tx) error {
		wantIs(t, "duplicate transfer", tx.PostTransfer(ctx, paid), escrow.ErrDuplicate)
		return tx.PostTransfer(ctx, other)
	})
	want := ledger.Balances{rail.ID(): 1150, esc.ID(): -600, fee.ID(): -100, payable.ID(): -400, escrowOf("ord_2").ID(): -50}
	same(t, "balances", balances(t, db), want)
	read(t, db, func(r escrow.Reader) error {
		b, err := r.Balance(ctx, esc.ID())
		never, err2 := r.Balance(ctx, refunds.ID())
		if b != -600 || never != 0 {
			t.Errorf("Balance = %d and %d for an account never posted to", b, never)
		}
		ts, err3 := r.OrderTransfers(ctx, "ord_1")
		same(t, "order transfers", ts, []escrow.StoredTransfer{{Seq: 1, Transfer: paid}, {Seq: 2, Transfer: released}})
		none, err4 := r.OrderTransfers(ctx, "ord_none")
		if len(none) != 0 {
			t.Errorf("transfers of a missing order: %v", none)
		}
		return errors.Join(err, err2, err3, err4)
	})
	// The stored transfers add up to the stored balance table.
	var plain []ledger.Transfer
	for _, s := range allTransfers(t, db) {
		plain = append(plain, s.Transfer)
	}
	sum, violations := ledger.CheckTransfers(plain)
	same(t, "balances from transfers", sum, want)
	if len(violations) > 0 || len(ledger.CheckBalances(want)) > 0 {
		t.Errorf("violations: %v %v", violations, ledger.CheckBalances(want))
	}
	write(t, db, func(tx escrow.Tx) error {
		bad := released
		bad.ID, bad.Entries = "tr_bad", bad.Entries[:1]
		if err := tx.PostTransfer(ctx, bad); err == nil {
			t.Error("an unbalanced transfer was posted")
		}
		return nil
	})
}

// testLedgerNegative ensures an account that may not go negative refuses a transfer with a
// NegativeError, and that the rolled-back Write leaves no transfer and unchanged balances.
func testLedgerNegative(t *testing.T, db *DB) {
	esc := escrowOf("ord_1")
	post(t, db, transfer(t, "tr_paid", "payment_received", "ord_1", rail, esc, 100))
	before, beforeTs := balances(t, db), allTransfers(t, db)
	over := transfer(t, "tr_over", "release", "ord_1", esc, payable, 60, esc, refunds, 60)
	err := db.Write(ctx, func(tx escrow.Tx) error { return tx.PostTransfer(ctx, over) })
	var neg *ledger.NegativeError
	if !errors.As(err, &neg) || fmt.Sprint(neg.Accounts) != fmt.Sprint([]string{esc.ID()}) {
		t.Fatalf("overdraw: %v, want a NegativeError on %s", err, esc.ID())
	}
	same(t, "balances after the refused transfer", balances(t, db), before)
	same(t, "transfers after the refused transfer", allTransfers(t, db), beforeTs)
	// A caller that swallows the NegativeError cannot commit the half-done transfer.
	err = db.Write(ctx, func(tx escrow.Tx) error {
		_ = tx.PostTransfer(ctx, over)
		return nil
	})
	if !errors.As(err, &neg) {
		t.Errorf("commit after a swallowed NegativeError: %v", err)
	}
	same(t, "balances after the swallowed error", balances(t, db), before)
	// The whole balance may go; rail clearing accounts may go negative.
	post(t, db, transfer(t, "tr_all", "release", "ord_1", esc, payable, 100),
		transfer(t, "tr_out", "payout", "", payable, rail, 100), transfer(t, "tr_neg", "rail", "", trade.RailAccount(payment.Card, usd), rail, 5))
	read(t, db, func(r escrow.Reader) error {
		b, err := r.Balance(ctx, esc.ID())
		if b != 0 {
			t.Errorf("escrow balance = %d, want 0", b)
		}
		return err
	})
}

// testLedgerOverflow ensures a balance beyond ±math.MaxInt64 is an error, not a wrap.
func testLedgerOverflow(t *testing.T, db *DB) {
	a, b, c := trade.RailAccount("a", usd), trade.RailAccount("b", usd), trade.RailAccount("c", usd)
	post(t, db, transfer(t, "tr_max", "rail", "", a, b, math.MaxInt64))
	for _, tr := range []ledger.Transfer{
		transfer(t, "tr_up", "rail", "", a, c, 1),   // a would pass MaxInt64
		transfer(t, "tr_down", "rail", "", c, b, 1), // b would reach MinInt64
	} {
		err := db.Write(ctx, func(tx escrow.Tx) error { return tx.PostTransfer(ctx, tr) })
		wantIs(t, tr.ID, err, money.ErrOverflow)
	}
	same(t, "balances", balances(t, db), ledger.Balances{a.ID(): math.MaxInt64, b.ID(): -math.MaxInt64})
}

// testTransfersPages covers Transfers paging by Seq.
func testTransfersPages(t *testing.T, db *DB) {
	var want []escrow.StoredTransfer
	for i := range 7 {
		tr := transfer(t, fmt.Sprintf("tr_%d", i), "payment_received", fmt.Sprintf("ord_%d", i%2), rail, escrowOf("x"), i+1)
		post(t, db, tr)
		want = append(want, escrow.StoredTransfer{Seq: int64(i + 1), Transfer: tr})
	}
	var got []escrow.StoredTransfer
	after := int64(0)
	for range 10 {
		var page []escrow.StoredTransfer
		read(t, db, func(r escrow.Reader) (err error) { page, err = r.Transfers(ctx, after, 3); return err })
		if len(page) > 3 {
			t.Fatalf("page of %d transfers, limit 3", len(page))
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1].Seq
	}
	same(t, "paged transfers", got, want)
}
