package escrow_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// fundsDue is when the worked example's lender money is overdue: agreed on Wednesday November
// 26, 2025, the 3rd US business day after it is Tuesday December 2 (Thanksgiving and a weekend
// in between), which ends at midnight in New York, 05:00 UTC on December 3.
var fundsDue = time.Date(2025, 12, 3, 5, 0, 0, 0, time.UTC)

// accepting drives the worked example on a server without the sandbox to the lender's
// acceptance on disbursedAt, and nothing more: the request awaits the lender's money, due at
// fundsDue, with its timer pending.
func (e *env) accepting() (*trade.Order, escrow.LoanRecord, escrow.LenderRequest) {
	e.t.Helper()
	e.noSandbox()
	e.clock.Set(agreedAt)
	e.approve(500_000_00)
	o := must(e.financed(e.buyer, "USD", 10_00))
	l := must(e.svc.OfferLoan(e.ctx, e.buyer, e.key(), o.ID, 6))
	l = must(e.svc.AcceptLoan(e.ctx, e.buyer, e.key(), l.ID))
	e.clock.Set(disbursedAt)
	e.timers()
	r := e.lenderRequests(escrow.LenderDisbursement)[0]
	if r.Status != escrow.LenderAwaitingFunds || r.FundsDueAt == nil || !r.FundsDueAt.Equal(fundsDue) || r.OverdueAt != nil {
		e.t.Fatalf("the request the lender accepted: %+v", r)
	}
	pl := e.streamPayloads(l.ID, "loan.disbursement_accepted")
	if len(pl) != 1 || pl[0]["funds_due_at"] != fundsDue.Format(time.RFC3339) {
		e.t.Fatalf("loan.disbursement_accepted %v", pl)
	}
	ts := e.timersOf(l.ID, credit.TimerFundsOverdue)
	if len(ts) != 1 || ts[0].State != escrow.TimerPending || !ts[0].DueAt.Equal(fundsDue) || ts[0].Ref != r.ID ||
		ts[0].Key != l.ID+"/funds_overdue" {
		e.t.Fatalf("the funds-overdue timer %+v", ts)
	}
	return e.reload(o), e.loan(l.ID), r
}

// TestPayLaterFundsOnTime ensures the lender's money arriving before the end of the 3rd US
// business day after the agreement pays the order as always, and the funds-overdue timer then
// finds nothing to do: it is skipped, the request is never marked overdue, and no event is
// published. R11 R21
func TestPayLaterFundsOnTime(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o, l, r := e.accepting()
		e.clock.Set(fundsDue.Add(-time.Minute)) // 23:59 on the last day in New York
		if a := e.lenderPays("LND-0400", 10_000_00, r.PaymentReference); a.OrderID != o.ID {
			t.Fatalf("the lender's money: %+v", a)
		}
		e.clock.Set(fundsDue)
		e.timers()
		ts := e.timersOf(l.ID, credit.TimerFundsOverdue)
		if len(ts) != 1 || ts[0].State != escrow.TimerFired || ts[0].Outcome != "skipped: "+escrow.ReasonFundsArrived {
			t.Fatalf("the funds-overdue timer after the money: %+v", ts)
		}
		got := e.lenderRequests(escrow.LenderDisbursement)[0]
		if got.Status != escrow.LenderRecorded || got.OverdueAt != nil || e.events(l.ID, "loan.disbursement_overdue") != 0 {
			t.Fatalf("the request paid on time: %+v", got)
		}
		if pl := e.streamPayloads(l.ID, "loan.disbursed"); len(pl) != 1 || pl[0]["late"] != false {
			t.Fatalf("loan.disbursed %v", pl)
		}
		e.checkLoanBook(e.loan(l.ID))
	})
}

// TestPayLaterFundsOverdue ensures the lender's money missing at the end of the 3rd US business
// day marks the disbursement request overdue and publishes loan.disbursement_overdue in the same
// transaction, exactly once: not a second before the deadline; not while a worker that claimed
// the timer and crashed still holds it, and once after its lease lapsed in a restarted process;
// never again, whether the workers run later or the timer is set again. A timer due before the
// deadline (as migration 00019 sets for requests accepted before it) waits until the deadline.
// The request still awaits the money, which pays the order when it arrives, late. R11 R21
func TestPayLaterFundsOverdue(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o, l, r := e.accepting()
		// A timer set before the deadline was known waits for it.
		early := disbursedAt.Add(time.Hour)
		put := func(due time.Time) {
			t.Helper()
			if err := e.db.Write(e.ctx, func(tx escrow.Tx) error {
				return tx.PutTimer(e.ctx, trade.Timer{Key: l.ID + "/funds_overdue", Kind: trade.TimerKind(credit.TimerFundsOverdue),
					OrderID: l.ID, Ref: r.ID, DueAt: due})
			}); err != nil {
				t.Fatal(err)
			}
		}
		put(early)
		e.clock.Set(early)
		e.timers()
		var pending []escrow.StoredTimer
		for _, tm := range e.timersOf(l.ID, credit.TimerFundsOverdue) {
			switch {
			case tm.State == escrow.TimerPending:
				pending = append(pending, tm)
			case tm.DueAt.Equal(early) && tm.Outcome != "postponed to "+fundsDue.Format(time.RFC3339):
				t.Errorf("the early timer: %+v", tm)
			}
		}
		if len(pending) != 1 || !pending[0].DueAt.Equal(fundsDue) || e.events(l.ID, "loan.disbursement_overdue") != 0 {
			t.Fatalf("after the early timer: pending %+v", pending)
		}

		e.clock.Set(fundsDue.Add(-time.Second))
		if e.timers(); e.events(l.ID, "loan.disbursement_overdue") != 0 || e.lenderRequests(escrow.LenderDisbursement)[0].OverdueAt != nil {
			t.Fatal("marked overdue before the deadline")
		}

		// A worker claims the timer at the deadline and dies; the process restarts.
		e.clock.Set(fundsDue)
		if claimed := must(e.db.ClaimTimers(e.ctx, e.clock.Now(), "doomed", escrow.TimerLease, 50)); len(claimed) != 1 {
			t.Fatalf("claimed %+v", claimed)
		}
		e.db.Close()
		e.open()
		e.noSandbox()
		if n := e.timers(); n != 0 || e.events(l.ID, "loan.disbursement_overdue") != 0 {
			t.Fatalf("%d timers fired while the dead worker's lease runs", n)
		}
		e.clock.Advance(escrow.TimerLease + time.Second)
		firedAt := e.clock.Now()
		if n := e.timers(); n != 1 {
			t.Fatalf("%d timers fired after the lease lapsed, want 1", n)
		}
		got := e.lenderRequests(escrow.LenderDisbursement)[0]
		if got.ID != r.ID || got.Status != escrow.LenderAwaitingFunds || got.OverdueAt == nil || !got.OverdueAt.Equal(firedAt) ||
			!got.FundsDueAt.Equal(fundsDue) {
			t.Fatalf("the request after its deadline: %+v", got)
		}
		pl := e.streamPayloads(l.ID, "loan.disbursement_overdue")
		if len(pl) != 1 || pl[0]["request_id"] != r.ID || pl[0]["order_id"] != o.ID || pl[0]["payment_reference"] != r.PaymentReference ||
			pl[0]["funds_due_at"] != fundsDue.Format(time.RFC3339) || pl[0]["amount"] == nil {
			t.Fatalf("loan.disbursement_overdue %v", pl)
		}
		if ord, ln := e.reload(o), e.loan(l.ID); ord.Money.Paid != 0 || ln.State != credit.Agreed {
			t.Fatalf("overdue: order paid %d, loan %s", ord.Money.Paid, ln.State)
		}

		// Once only: later rounds, and the same timer set again, publish nothing more.
		e.clock.Advance(24 * time.Hour)
		e.timers()
		put(e.clock.Now())
		e.timers()
		if n := e.events(l.ID, "loan.disbursement_overdue"); n != 1 {
			t.Fatalf("%d overdue events, want 1", n)
		}
		skipped := 0
		for _, tm := range e.timersOf(l.ID, credit.TimerFundsOverdue) {
			if tm.Outcome == "skipped: "+escrow.ReasonAlreadyOverdue {
				skipped++
			}
		}
		if skipped != 1 {
			t.Fatalf("the timer set again: %+v", e.timersOf(l.ID, credit.TimerFundsOverdue))
		}

		// The money arriving after the flag still pays the order and disburses the loan.
		paidAt := e.clock.Now()
		if a := e.lenderPays("LND-0500", 10_000_00, r.PaymentReference); a.OrderID != o.ID || a.SuspenseID != "" {
			t.Fatalf("the lender's late money: %+v", a)
		}
		ord, ln := e.reload(o), e.loan(l.ID)
		if ord.Money.Paid != 10_000_00 || ord.State != trade.InProduction || ln.State != credit.Disbursed || !ln.DisbursedAt.Equal(paidAt) {
			t.Fatalf("after the late money: order %s paid %d, loan %s", ord.State, ord.Money.Paid, ln.State)
		}
		got = e.lenderRequests(escrow.LenderDisbursement)[0]
		if got.Status != escrow.LenderRecorded || got.FundsID != "LND-0500" || got.OverdueAt == nil || !got.OverdueAt.Equal(firedAt) {
			t.Fatalf("the request after the late money: %+v", got)
		}
		if pl := e.streamPayloads(l.ID, "loan.disbursed"); len(pl) != 1 || pl[0]["late"] != true {
			t.Fatalf("loan.disbursed %v", pl)
		}
		e.checkLoanBook(ln)
	})
}

// TestPayLaterFundsOverdueRace ensures the lender's money and the funds-overdue timer racing at
// the deadline, with two timer workers, leave one consistent outcome: the order paid once, the
// request recorded, the timer fired once, and at most one overdue event — published only if the
// timer went first. R11 R21
func TestPayLaterFundsOverdueRace(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o, l, r := e.accepting()
		e.clock.Set(fundsDue)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, owner := range []string{"w1", "w2"} {
			wg.Go(func() {
				<-start
				if _, err := e.svc.RunTimers(e.ctx, owner); err != nil {
					t.Errorf("timer worker %s: %v", owner, err)
				}
			})
		}
		wg.Go(func() {
			<-start
			if _, err := e.svc.ReceiveFunds(e.ctx, "LND-0600", escrow.Incoming{Method: payment.PayLater, Amount: dollars(10_000_00),
				Reference: r.PaymentReference}); err != nil {
				t.Errorf("the lender's money: %v", err)
			}
		})
		close(start)
		wg.Wait()
		e.timers()
		ts := e.timersOf(l.ID, credit.TimerFundsOverdue)
		got := e.lenderRequests(escrow.LenderDisbursement)[0]
		overdue := e.events(l.ID, "loan.disbursement_overdue")
		if len(ts) != 1 || ts[0].State != escrow.TimerFired || e.reload(o).Money.Paid != 10_000_00 || got.Status != escrow.LenderRecorded {
			t.Fatalf("timers %+v, request %+v", ts, got)
		}
		timerFirst := !strings.HasPrefix(ts[0].Outcome, "skipped: ")
		if want := map[bool]int{true: 1, false: 0}[timerFirst]; overdue != want || (got.OverdueAt != nil) != timerFirst {
			t.Fatalf("timer %q, %d overdue events, overdue at %v", ts[0].Outcome, overdue, got.OverdueAt)
		}
		e.checkLoanBook(e.loan(l.ID))
	})
}
