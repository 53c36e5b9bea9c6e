package escrow_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

func (e *env) payable() int64 { return e.balance(trade.PayableAccount(e.supplier.OrgID, "USD")) }

func (e *env) receivable() int64 { return e.balance(trade.ReceivableAccount(e.supplier.OrgID, "USD")) }

// payouts lists the supplier's payouts, newest first.
func (e *env) payouts() []trade.Payout {
	e.t.Helper()
	return must(e.svc.Payouts(e.ctx, e.admin, escrow.PayoutFilter{SupplierID: e.supplier.OrgID}))
}

// released drives an order through shipment and lets the release timer pay escrow to the
// supplier's payable account.
func (e *env) released() *trade.Order {
	e.t.Helper()
	o := e.shipped()
	e.timers()
	if o = e.reload(o); o.State != trade.Released {
		e.t.Fatalf("state %s, want released", o.State)
	}
	return o
}

// payoutTimer is the supplier's live automatic-payout timer in USD.
func (e *env) payoutTimer() *escrow.StoredTimer {
	e.t.Helper()
	for _, tm := range must(e.svc.Timers(e.ctx, e.supplier.OrgID)) {
		if tm.Kind == trade.TimerPayout && (tm.State == escrow.TimerPending || tm.State == escrow.TimerClaimed) {
			return &tm
		}
	}
	return nil
}

// TestAutomaticPayoutAfterRelease ensures money released to a supplier is paid out by the
// automatic payout at the next 00:00 UTC plus PayoutDelay, exactly once: the timer requests it —
// the payable moves to the rail's in-transit account, never yet to its clearing account — and on
// a sandbox server the sandbox payout rail's worker confirms it sent, moving it to the sandbox's
// clearing account; the payout says sandbox throughout, the supplier's stream hears both steps,
// and the ledger check holds at each. R12 R21
func TestAutomaticPayoutAfterRelease(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.released()
		owed := e.payable()
		if owed != 10_000_00 {
			t.Fatalf("payable %d after release, want 1000000", owed)
		}
		due := trade.Day(e.clock.Now()).AddDate(0, 0, 1).Add(escrow.PayoutDelay)
		tm := e.payoutTimer()
		if tm == nil || !tm.DueAt.Equal(due) || tm.Key != trade.PayoutTimerKey(e.supplier.OrgID, "USD") {
			t.Fatalf("payout timer %+v, want one due %s", tm, due)
		}
		bs := must(e.svc.PayoutBalances(e.ctx, e.supplier, ""))
		if len(bs) != 1 || bs[0].Payable != owed || bs[0].NextPayoutAt == nil || !bs[0].NextPayoutAt.Equal(due) ||
			len(bs[0].Releases) != 1 || bs[0].Releases[0].Unpaid != owed || bs[0].Method != payment.TTWire {
			t.Fatalf("balance %+v", bs)
		}
		realRail := e.balance(trade.RailAccount(payment.TTWire, "USD"))
		transit, clearing := trade.InTransitAccount(trade.SandboxRail, "USD"), trade.SandboxAccount("USD")
		clearingBefore := e.balance(clearing)
		e.clock.Set(due.Add(-time.Second))
		e.timers()
		if len(e.payouts()) != 0 {
			t.Fatal("paid out before the payout time")
		}
		e.clock.Set(due)
		must(e.svc.RunTimers(e.ctx, "w1")) // the timer requests the payout; the rail has not answered
		ps := e.payouts()
		if len(ps) != 1 {
			t.Fatalf("%d payouts, want 1", len(ps))
		}
		p := ps[0]
		if p.Sent != owed || p.Netted != 0 || p.Status != trade.PayoutRequested || p.Trigger != trade.PayoutAutomatic ||
			p.Method != payment.TTWire || len(p.Reference) != trade.PayoutReferenceMax || !p.Sandbox {
			t.Fatalf("payout %+v", p)
		}
		if e.payable() != 0 || e.balance(transit) != owed || e.balance(clearing) != clearingBefore {
			t.Fatalf("requested: payable %d, in transit %d, clearing %d (was %d)", e.payable(), e.balance(transit),
				e.balance(clearing), clearingBefore)
		}
		if b := must(e.svc.PayoutBalances(e.ctx, e.supplier, "")); b[0].InTransit != owed {
			t.Fatalf("balance while requested %+v", b[0])
		}
		if e.events(e.supplier.OrgID, "payout.requested") != 1 || e.events(e.supplier.OrgID, "payout.sent") != 0 {
			t.Fatal("want one payout.requested event on the supplier's stream and no payout.sent yet")
		}
		e.checkLedger()

		if n := must(e.svc.RunPayoutSends(e.ctx, "w1")); n != 1 {
			t.Fatalf("the sandbox payout rail's worker claimed %d payouts", n)
		}
		p = must(e.svc.Payout(e.ctx, e.supplier, p.ID))
		if p.Status != trade.PayoutSent || !p.Sandbox || p.BankReference == "" || p.ValueDate == nil || p.RecordedBy != "rail:sandbox" ||
			len(p.TransferIDs) != 2 {
			t.Fatalf("after the sandbox rail: %+v", p)
		}
		if e.balance(transit) != 0 || e.balance(clearing) != clearingBefore-owed || e.balance(trade.RailAccount(payment.TTWire, "USD")) != realRail {
			t.Fatalf("sent: in transit %d, sandbox clearing %d, the real rail moved to %d", e.balance(transit), e.balance(clearing),
				e.balance(trade.RailAccount(payment.TTWire, "USD")))
		}
		if e.events(e.supplier.OrgID, "payout.sent") != 1 {
			t.Fatal("no payout.sent event on the supplier's stream")
		}
		e.clock.Advance(48 * time.Hour)
		e.timers()
		if len(e.payouts()) != 1 || e.payoutTimer() != nil {
			t.Fatal("paid out twice, or a timer is left")
		}
		_, err := e.svc.PayOut(e.ctx, e.admin, e.key(), e.supplier.OrgID, "USD")
		if fault.ReasonOf(err) != "nothing_to_pay_out" || fault.CodeOf(err) != fault.Conflict {
			t.Fatalf("paying out an empty balance: %v", err)
		}
		e.checkLedger()
	})
}

// TestPayoutNetsSupplierDebt ensures a refund of released money paid by the guarantee fund
// becomes the supplier's debt, and the next payouts net it first: one that cannot cover it only
// nets (nothing sent), the next nets the rest and sends only the remainder; the ledger check,
// which compares the receivable with the guaranteed refunds less the netting, holds throughout.
// R12 R13 R14 R22
func TestPayoutNetsSupplierDebt(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		must(e.svc.SetReleasePolicy(e.ctx, e.admin, e.key(), e.supplier.OrgID, trade.ReleaseInitialForProduction))
		a := e.confirmed(10_00)
		a = e.do(e.buyer, a, trade.Pay{Installment: trade.Initial, Method: payment.Card})
		e.clock.Advance(2 * time.Hour)
		e.timers() // the deposit arrives and is released for production (R14)
		if got := e.payable(); got != 3_000_00 {
			t.Fatalf("payable %d after the early release, want 300000", got)
		}
		e.clock.Set(e.payoutTimer().DueAt)
		e.timers()
		if ps := e.payouts(); len(ps) != 1 || ps[0].Sent != 3_000_00 {
			t.Fatalf("first payout %+v", ps)
		}
		// A ships nothing: the date passes, the buyer takes the refund, and the released deposit
		// is paid from the guarantee fund and owed by the supplier.
		e.clock.Set(e.reload(a).Deadline().Add(time.Second))
		e.timers()
		a = e.do(e.buyer, e.reload(a), trade.Refund{})
		if a.State != trade.Refunded || a.Money.Guaranteed != 3_000_00 || e.receivable() != 3_000_00 {
			t.Fatalf("state %s guaranteed %d receivable %d", a.State, a.Money.Guaranteed, e.receivable())
		}
		e.checkLedger()

		// B: a small deposit, less than the debt: the payout nets all of it and sends nothing.
		b := e.confirmed(1_00)
		e.do(e.buyer, b, trade.Pay{Installment: trade.Initial, Method: payment.Card})
		e.clock.Advance(2 * time.Hour)
		e.timers()
		p := must(e.svc.PayOut(e.ctx, e.admin, "pay-out-b", e.supplier.OrgID, "USD"))
		if p.PayableBefore != 300_00 || p.Netted != 300_00 || p.Sent != 0 || p.Status != trade.PayoutNetted ||
			p.ReceivableBefore != 3_000_00 || len(p.TransferIDs) != 1 {
			t.Fatalf("netting-only payout %+v", p)
		}
		if e.payable() != 0 || e.receivable() != 2_700_00 {
			t.Fatalf("payable %d receivable %d after netting", e.payable(), e.receivable())
		}
		if again := must(e.svc.PayOut(e.ctx, e.admin, "pay-out-b", e.supplier.OrgID, "USD")); again.ID != p.ID {
			t.Fatalf("a retry paid out again: %s, %s", again.ID, p.ID)
		}
		if e.events(e.supplier.OrgID, "payout.netted") != 1 {
			t.Fatal("no payout.netted event")
		}
		e.checkLedger()

		// C: released in full; the automatic payout nets the rest of the debt and sends the rest.
		e.released()
		owed := e.payable()
		e.clock.Set(e.payoutTimer().DueAt)
		e.timers()
		last := e.payouts()[0]
		if last.PayableBefore != owed || last.Netted != 2_700_00 || last.Sent != owed-2_700_00 || last.Status != trade.PayoutSent {
			t.Fatalf("payout after the debt %+v (payable was %d)", last, owed)
		}
		if e.payable() != 0 || e.receivable() != 0 {
			t.Fatalf("payable %d receivable %d at the end", e.payable(), e.receivable())
		}
		e.checkLedger()
	})
}

// TestConcurrentPayouts ensures two admins paying out the same supplier and currency at once,
// racing the automatic payout's timer, pay the balance once: one payout sends it all, the others
// find nothing to pay, and the ledger check holds. R12 R21
func TestConcurrentPayouts(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		for round := range 2 {
			e.released()
			owed := e.payable()
			before := len(e.payouts())
			e.clock.Set(e.payoutTimer().DueAt)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = e.svc.PayOut(e.ctx, e.admin, fmt.Sprintf("race-%d-%d", round, i), e.supplier.OrgID, "USD")
				}()
			}
			wg.Add(1)
			go func() { defer wg.Done(); e.svc.RunTimers(e.ctx, "racer") }()
			wg.Wait()
			for _, err := range errs {
				if err != nil && fault.ReasonOf(err) != "nothing_to_pay_out" {
					t.Fatalf("a racer failed with %v", err)
				}
			}
			ps := e.payouts()
			if len(ps) != before+1 || ps[0].Sent != owed || e.payable() != 0 {
				t.Fatalf("round %d: %d new payouts, sent %d of %d, payable %d", round, len(ps)-before, ps[0].Sent, owed, e.payable())
			}
			e.timers()
			e.checkLedger()
		}
	})
}

// TestPayoutTimerAcrossRestart ensures the automatic payout fires exactly once although the
// worker that claimed it dies and the process restarts. R21
func TestPayoutTimerAcrossRestart(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.released()
		owed := e.payable()
		e.clock.Set(e.payoutTimer().DueAt)
		if claimed := must(e.db.ClaimTimers(e.ctx, e.clock.Now(), "doomed", escrow.TimerLease, 50)); len(claimed) == 0 {
			t.Fatal("nothing due to claim")
		}
		e.db.Close()
		e.open()
		if e.timers(); len(e.payouts()) != 0 {
			t.Fatal("paid out while the dead worker's lease runs")
		}
		e.clock.Advance(escrow.TimerLease + time.Second)
		e.timers()
		e.clock.Advance(24 * time.Hour)
		e.timers()
		if ps := e.payouts(); len(ps) != 1 || ps[0].Sent != owed {
			t.Fatalf("payouts %+v, want one of %d", ps, owed)
		}
		e.checkLedger()
	})
}

// TestPayoutAccess ensures only admins (and the system's timer) pay out, a supplier reads only
// its own payouts and balances, and the other roles read none. R12
func TestPayoutAccess(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.released()
		for _, a := range []trade.Actor{e.buyer, e.supplier, e.inspect, e.arbiter} {
			if _, err := e.svc.PayOut(e.ctx, a, e.key(), e.supplier.OrgID, "USD"); fault.CodeOf(err) != fault.Forbidden {
				t.Errorf("%s paid out: %v", a.Role, err)
			}
			if a.Role == trade.RoleSupplier {
				continue
			}
			if _, err := e.svc.Payouts(e.ctx, a, escrow.PayoutFilter{}); fault.CodeOf(err) != fault.Forbidden {
				t.Errorf("%s listed payouts: %v", a.Role, err)
			}
			if _, err := e.svc.PayoutBalances(e.ctx, a, e.supplier.OrgID); fault.CodeOf(err) != fault.Forbidden {
				t.Errorf("%s read the balance: %v", a.Role, err)
			}
		}
		if _, err := e.svc.PayOut(e.ctx, e.admin, e.key(), e.buyer.OrgID, "USD"); fault.ReasonOf(err) != "supplier_not_found" {
			t.Errorf("paying out a buyer: %v", err)
		}
		if _, err := e.svc.PayOut(e.ctx, e.admin, e.key(), e.supplier.OrgID, "XXX"); fault.ReasonOf(err) != "invalid_currency" {
			t.Errorf("paying out an unknown currency: %v", err)
		}
		if _, err := e.svc.PayOut(e.ctx, e.admin, e.key(), e.supplier.OrgID, "BRL"); fault.ReasonOf(err) != "payout_rail_unavailable" {
			t.Errorf("paying out in a currency no payout rail takes: %v", err)
		}
		p := must(e.svc.PayOut(e.ctx, e.admin, "k-pay", e.supplier.OrgID, "USD"))
		if e.payoutTimer() != nil {
			t.Error("an admin's payout left the automatic payout pending with nothing to pay")
		}
		if _, err := e.svc.PayOut(e.ctx, e.admin, "k-pay", e.supplier.OrgID, "EUR"); fault.ReasonOf(err) != "idempotency_key_reused" {
			t.Errorf("the key reused for another payout: %v", err)
		}
		other := e.org(trade.KindSupplier, "Other Supplier", "VN")
		otherActor := trade.Actor{Role: trade.RoleSupplier, OrgID: other.ID}
		if _, err := e.svc.Payout(e.ctx, otherActor, p.ID); fault.ReasonOf(err) != "payout_not_found" {
			t.Errorf("another supplier read the payout: %v", err)
		}
		if _, err := e.svc.PayoutBalances(e.ctx, otherActor, e.supplier.OrgID); fault.ReasonOf(err) != "supplier_not_found" {
			t.Errorf("another supplier read the balance: %v", err)
		}
		if ps := must(e.svc.Payouts(e.ctx, otherActor, escrow.PayoutFilter{})); len(ps) != 0 {
			t.Errorf("another supplier lists %d payouts", len(ps))
		}
		if got := must(e.svc.Payout(e.ctx, e.supplier, p.ID)); got.ID != p.ID || got.Sent != p.Sent {
			t.Errorf("the supplier reads %+v", got)
		}
	})
}

// TestLedgerCheckPayouts ensures the ledger check catches money that left through the payout
// rail without a payout record: the payout sums and the payable disagree. R12
func TestLedgerCheckPayouts(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.released()
		err := e.db.Write(e.ctx, func(tx escrow.Tx) error {
			tr, err := ledger.NewTransfer("tr_rogue", "payout", "USD", "", e.clock.Now()).
				Post(trade.PayableAccount(e.supplier.OrgID, "USD"), trade.RailAccount(payment.TTWire, "USD"), 100_00).Build()
			if err != nil {
				return err
			}
			return tx.PostTransfer(e.ctx, tr)
		})
		if err != nil {
			t.Fatal(err)
		}
		rep := must(e.svc.CheckLedger(e.ctx))
		found := false
		for _, v := range rep.Violations {
			found = found || v.Rule == "payout_ledger_mismatch"
		}
		if !found {
			t.Fatalf("violations %v, want payout_ledger_mismatch", rep.Violations)
		}
	})
}
