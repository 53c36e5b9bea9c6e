package escrow_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// lender is the lender as the tests see it: the built-in lender behind a wire. down answers that
// many calls with an error (an outage); crashAfter is called once after the lender has answered,
// before the worker records it (the worker's process dies); tamper changes a disbursement's
// confirmation (a lender that pays the wrong amount). calls counts the calls per reference.
type lender struct {
	mu         sync.Mutex
	inner      credit.BuiltIn
	down       int
	crashAfter func()
	tamper     func(*credit.Disbursement)
	calls      map[string]int
}

func (l *lender) ID() string { return l.inner.ID() }

// call counts a call and says whether it fails; after returns the crash to run once answered.
func (l *lender) call(ref string) (down bool, after func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls[ref]++
	if l.down > 0 {
		l.down--
		return true, nil
	}
	after, l.crashAfter = l.crashAfter, nil
	return false, after
}

func (l *lender) Decide(ctx context.Context, req credit.DecisionRequest) (credit.Decision, error) {
	down, crash := l.call(req.Reference)
	if down {
		return credit.Decision{}, errors.New("lender unavailable: 503")
	}
	d, err := l.inner.Decide(ctx, req)
	if crash != nil {
		crash()
	}
	return d, err
}

func (l *lender) Disburse(ctx context.Context, req credit.DisbursementRequest) (credit.Disbursement, error) {
	down, crash := l.call(req.Reference)
	if down {
		return credit.Disbursement{}, errors.New("lender unavailable: 503")
	}
	d, err := l.inner.Disburse(ctx, req)
	l.mu.Lock()
	if l.tamper != nil {
		l.tamper(&d)
	}
	l.mu.Unlock()
	if crash != nil {
		crash()
	}
	return d, err
}

func (l *lender) callsOf(ref string) int { l.mu.Lock(); defer l.mu.Unlock(); return l.calls[ref] }

// withLender restarts the service over the same database with l as the Pay Later lender.
func (e *env) withLender() *lender {
	l := &lender{inner: credit.NewBuiltIn(), calls: map[string]int{}}
	e.svc = escrow.New(e.db, escrow.Options{Clock: e.clock, Config: trade.DefaultConfig(),
		Sandbox: escrow.Sandbox{Enabled: true, Delay: time.Hour}, Blobs: e.blobs,
		Credit: escrow.CreditOptions{Lender: l}})
	return l
}

// lenderRequests lists the requests of one kind, newest first.
func (e *env) lenderRequests(kind escrow.LenderRequestKind) []escrow.LenderRequest {
	e.t.Helper()
	return must(e.svc.LenderRequests(e.ctx, e.admin, escrow.LenderFilter{Kind: kind}))
}

// accepted drives the worked example to an accepted agreement and fires the disbursement timer
// only: the disbursement is requested, and the order is not paid.
func (e *env) accepted() (*trade.Order, escrow.LoanRecord, escrow.LenderRequest) {
	e.t.Helper()
	e.clock.Set(agreedAt)
	e.approve(500_000_00)
	o := must(e.financed(e.buyer, "USD", 10_00))
	l := must(e.svc.OfferLoan(e.ctx, e.buyer, e.key(), o.ID, 6))
	l = must(e.svc.AcceptLoan(e.ctx, e.buyer, e.key(), l.ID))
	e.clock.Set(disbursedAt)
	if n := must(e.svc.RunTimers(e.ctx, "w1")); n == 0 {
		e.t.Fatal("the disbursement timer did not fire")
	}
	rs := e.lenderRequests(escrow.LenderDisbursement)
	if len(rs) != 1 || rs[0].Status != escrow.LenderRequested || rs[0].Amount != dollars(10_000_00) || rs[0].LoanID != l.ID ||
		rs[0].PaymentReference == "" {
		e.t.Fatalf("disbursement requests %+v", rs)
	}
	got := e.loan(l.ID)
	if got.State != credit.Agreed || got.Disbursement == nil || got.Disbursement.ID != rs[0].ID || e.reload(o).Money.Paid != 0 {
		e.t.Fatalf("before the lender answered: %s, request %+v, paid %d", got.State, got.Disbursement, e.reload(o).Money.Paid)
	}
	if _, err := e.svc.CancelLoan(e.ctx, e.buyer, e.key(), l.ID); fault.ReasonOf(err) != "disbursement_pending" {
		e.t.Fatalf("cancel while the lender pays: %v", err)
	}
	return o, got, rs[0]
}

// checkDisbursed fails unless the loan was disbursed once by the sandbox's simulated money
// (these tests run a sandbox server), labelled so, and the order's escrow holds the principal,
// received through the payment's matching from the sandbox's clearing account.
func (e *env) checkDisbursed(o *trade.Order, l escrow.LoanRecord, r escrow.LenderRequest) {
	e.t.Helper()
	o, l = e.reload(o), e.loan(l.ID)
	if l.State != credit.Disbursed || l.DisbursementRef != "sandbox:"+r.ID || !l.Sandbox || o.State != trade.InProduction ||
		o.Money.Paid != 10_000_00 || !o.Payments[0].Sandbox || e.events(l.ID, "loan.disbursed") != 1 {
		e.t.Fatalf("after the disbursement: loan %s ref %q sandbox %v, order %s paid %d, %d disbursed events", l.State,
			l.DisbursementRef, l.Sandbox, o.State, o.Money.Paid, e.events(l.ID, "loan.disbursed"))
	}
	got := e.lenderRequests(escrow.LenderDisbursement)
	if len(got) != 1 || got[0].Status != escrow.LenderRecorded || got[0].RecordedAt == nil || len(got[0].Answer) == 0 ||
		!got[0].Sandbox || got[0].FundsID != "sandbox:"+r.ID {
		e.t.Fatalf("request %+v", got)
	}
	if e.balance(sandboxClearing) != 10_000_00 || e.balance(lenderClearing) != 0 {
		e.t.Fatalf("sandbox clearing %d, lender clearing %d", e.balance(sandboxClearing), e.balance(lenderClearing))
	}
	e.checkLoanBook(l)
}

// TestPayLaterDisbursementThroughWorker ensures the disbursement goes through the lender outbox:
// the timer records a request and nothing about money; the lender worker asks the lender outside
// any transaction with the request's ID as reference, and books the amount and reference the
// lender confirmed — only then does the order count as paid. An outage leaves the request for
// later, with the same reference. R11, R21
func TestPayLaterDisbursementThroughWorker(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		lr := e.withLender()
		o, l, r := e.accepted()
		lr.down = 1
		if n := must(e.svc.RunLenderRequests(e.ctx, "lender-1")); n != 1 {
			t.Fatalf("claimed %d", n)
		}
		got := e.lenderRequests(escrow.LenderDisbursement)[0]
		if got.Status != escrow.LenderRequested || got.Attempts != 1 || got.LastError == "" ||
			!got.NextAttemptAt.Equal(disbursedAt.Add(escrow.BankDebitBackoff(1))) || e.reload(o).Money.Paid != 0 {
			t.Fatalf("after an outage: %+v", got)
		}
		if n := must(e.svc.RunLenderRequests(e.ctx, "lender-1")); n != 0 {
			t.Fatal("asked again before the backoff")
		}
		e.clock.Advance(escrow.BankDebitBackoff(1))
		e.lenderDecides()
		if lr.callsOf(r.ID) != 2 {
			t.Fatalf("%d calls", lr.callsOf(r.ID))
		}
		e.checkDisbursed(o, l, r)
	})
}

// TestPayLaterLenderCrashAfterAnswer ensures a worker that dies after the lender answered but
// before the answer was recorded changes nothing; once its lease lapses another worker asks
// again with the same reference and records the answer once: one line opened for a decision,
// one payment into escrow for a disbursement. R11, R21
func TestPayLaterLenderCrashAfterAnswer(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		lr := e.withLender()
		res := must(e.svc.ApplyForCredit(e.ctx, e.buyer, e.key(), e.application("US", dollars(500_000_00), 3)))
		crash := func(name string) {
			t.Helper()
			ctx, die := context.WithCancel(e.ctx)
			lr.mu.Lock()
			lr.crashAfter = die
			lr.mu.Unlock()
			if _, err := e.svc.RunLenderRequests(ctx, "doomed"); err != nil {
				t.Fatalf("%s: a dying worker: %v", name, err)
			}
			if n := must(e.svc.RunLenderRequests(e.ctx, "lender-2")); n != 0 {
				t.Fatalf("%s: another worker took the request while the dead worker's lease ran", name)
			}
		}
		crash("decision")
		if got := e.application1(res.Application.ID); got.Status != credit.Submitted {
			t.Fatalf("the crashed worker recorded a decision: %s", got.Status)
		}
		if _, err := e.svc.CreditLine(e.ctx, e.buyer, ""); fault.ReasonOf(err) != "credit_line_not_found" {
			t.Fatalf("a line before the decision was recorded: %v", err)
		}
		e.clock.Advance(escrow.LenderLease + time.Second)
		if n := must(e.svc.RunLenderRequests(e.ctx, "lender-2")); n != 1 {
			t.Fatalf("after the lease lapsed the worker claimed %d", n)
		}
		dr := e.lenderRequests(escrow.LenderDecision)[0]
		if got := e.application1(res.Application.ID); got.Status != credit.Approved || lr.callsOf(dr.ID) != 2 ||
			e.events(e.buyer.OrgID, "credit.line_opened") != 1 || dr.Status != escrow.LenderRecorded {
			t.Fatalf("after asking again: %s, %d calls, %d lines opened, request %s", got.Status, lr.callsOf(dr.ID),
				e.events(e.buyer.OrgID, "credit.line_opened"), dr.Status)
		}

		o := must(e.financed(e.buyer, "USD", 10_00))
		l := must(e.svc.OfferLoan(e.ctx, e.buyer, e.key(), o.ID, 6))
		l = must(e.svc.AcceptLoan(e.ctx, e.buyer, e.key(), l.ID))
		e.clock.Set(l.Agreement.DisbursementDue)
		must(e.svc.RunTimers(e.ctx, "w1"))
		r := e.lenderRequests(escrow.LenderDisbursement)[0]
		crash("disbursement")
		if got := e.loan(l.ID); got.State != credit.Agreed || e.reload(o).Money.Paid != 0 {
			t.Fatalf("the crashed worker booked something: %s, paid %d", got.State, e.reload(o).Money.Paid)
		}
		e.clock.Advance(escrow.LenderLease + time.Second)
		if n := must(e.svc.RunLenderRequests(e.ctx, "lender-2")); n != 1 {
			t.Fatalf("after the lease lapsed the worker claimed %d", n)
		}
		if lr.callsOf(r.ID) != 2 {
			t.Fatalf("%d calls", lr.callsOf(r.ID))
		}
		e.checkDisbursed(o, l, r)
	})
}

// TestPayLaterLenderWorkersRace ensures two lender workers racing for the same requests never
// both ask the lender or record an answer: each request is claimed by one, the line opens once
// and the escrow is funded once. R11
func TestPayLaterLenderWorkersRace(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		lr := e.withLender()
		race := func() int {
			t.Helper()
			var wg sync.WaitGroup
			claimed := make([]int, 2)
			start := make(chan struct{})
			for i := range claimed {
				wg.Go(func() {
					<-start
					n, err := e.svc.RunLenderRequests(e.ctx, []string{"lender-a", "lender-b"}[i])
					if err != nil {
						t.Errorf("worker %d: %v", i, err)
					}
					claimed[i] = n
				})
			}
			close(start)
			wg.Wait()
			return claimed[0] + claimed[1]
		}
		must(e.svc.ApplyForCredit(e.ctx, e.buyer, e.key(), e.application("US", dollars(500_000_00), 3)))
		if n := race(); n != 1 {
			t.Fatalf("the decision was claimed %d times", n)
		}
		dr := e.lenderRequests(escrow.LenderDecision)[0]
		if lr.callsOf(dr.ID) != 1 || e.events(e.buyer.OrgID, "credit.line_opened") != 1 {
			t.Fatalf("%d calls, %d lines opened", lr.callsOf(dr.ID), e.events(e.buyer.OrgID, "credit.line_opened"))
		}
		o := must(e.financed(e.buyer, "USD", 10_00))
		l := must(e.svc.OfferLoan(e.ctx, e.buyer, e.key(), o.ID, 6))
		l = must(e.svc.AcceptLoan(e.ctx, e.buyer, e.key(), l.ID))
		e.clock.Set(l.Agreement.DisbursementDue)
		must(e.svc.RunTimers(e.ctx, "w1"))
		if n := race(); n != 1 {
			t.Fatalf("the disbursement was claimed %d times", n)
		}
		r := e.lenderRequests(escrow.LenderDisbursement)[0]
		if lr.callsOf(r.ID) != 1 {
			t.Fatalf("%d calls", lr.callsOf(r.ID))
		}
		e.checkDisbursed(o, l, r)
	})
}

// TestPayLaterDisbursementMismatch ensures a lender's confirmation that does not match the loan
// is not booked: the request waits for an operator (attention) with the reason, the loan stays
// agreed and the order unpaid; once the lender's side is fixed, the operator's retry asks again
// with the same reference and the payment is booked. R11
func TestPayLaterDisbursementMismatch(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		lr := e.withLender()
		o, l, r := e.accepted()
		lr.tamper = func(d *credit.Disbursement) { d.Amount = dollars(9_999_00) }
		e.lenderDecides()
		got := must(e.svc.LenderRequests(e.ctx, e.admin, escrow.LenderFilter{Status: escrow.LenderAttention}))
		if len(got) != 1 || got[0].ID != r.ID || got[0].LastError == "" || e.loan(l.ID).State != credit.Agreed || e.reload(o).Money.Paid != 0 {
			t.Fatalf("a mismatched payment: %+v, loan %s", got, e.loan(l.ID).State)
		}
		if _, err := e.svc.RetryLenderRequest(e.ctx, e.buyer, e.key(), r.ID); fault.ReasonOf(err) != "role_not_allowed" {
			t.Fatalf("a buyer retried: %v", err)
		}
		lr.mu.Lock()
		lr.tamper = nil
		lr.mu.Unlock()
		retried := must(e.svc.RetryLenderRequest(e.ctx, e.admin, e.key(), r.ID))
		if retried.Status != escrow.LenderRequested || retried.Attempts != 0 {
			t.Fatalf("retried %+v", retried)
		}
		if _, err := e.svc.RetryLenderRequest(e.ctx, e.admin, e.key(), r.ID); fault.ReasonOf(err) != "lender_request_not_in_attention" {
			t.Fatalf("a second retry: %v", err)
		}
		e.lenderDecides()
		e.checkDisbursed(o, l, r)
	})
}

// TestPayLaterMoreInformation ensures a buyer completes the same application the lender could not
// decide: it goes back to submitted with the request for more information kept, and the lender
// decides it again; completing one that is not waiting for information, or giving nothing, is
// refused. R11
func TestPayLaterMoreInformation(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		app := e.application("US", dollars(500_000_00), 3)
		app.Business.Revenue, app.Business.EINLast4 = nil, ""
		got := e.decided(app)
		if got.Status != credit.MoreInformationNeeded || len(got.Decision.Reasons) != 2 {
			t.Fatalf("without revenue and EIN: %s %+v", got.Status, got.Decision)
		}
		if _, err := e.svc.SupplyCreditInformation(e.ctx, e.buyer, e.key(), got.ID, credit.Supplement{}); fault.ReasonOf(err) != "nothing_supplied" {
			t.Fatalf("nothing supplied: %v", err)
		}
		other := e.org(trade.KindBuyer, "Other Buyer", "US")
		stranger := trade.Actor{Role: trade.RoleBuyer, OrgID: other.ID, UserID: "o"}
		rev := dollars(500_000_00)
		if _, err := e.svc.SupplyCreditInformation(e.ctx, stranger, e.key(), got.ID, credit.Supplement{Revenue: &rev}); fault.ReasonOf(err) != "application_not_found" {
			t.Fatalf("another buyer: %v", err)
		}
		res := must(e.svc.SupplyCreditInformation(e.ctx, e.buyer, e.key(), got.ID, credit.Supplement{Revenue: &rev, EINLast4: "6789"}))
		if res.Application.Status != credit.Submitted || res.Application.ID != got.ID || len(res.Application.EarlierDecisions) != 1 ||
			res.Application.Decision != nil {
			t.Fatalf("supplied: %+v", res.Application)
		}
		if _, err := e.svc.SupplyCreditInformation(e.ctx, e.buyer, e.key(), got.ID, credit.Supplement{Revenue: &rev}); fault.ReasonOf(err) != "application_not_awaiting_information" {
			t.Fatalf("supplied twice: %v", err)
		}
		e.lenderDecides()
		done := e.application1(got.ID)
		if done.Status != credit.Approved || done.Business.EINLast4 != "6789" || e.line().Limit != dollars(100_000_00) ||
			len(must(e.svc.CreditApplications(e.ctx, e.buyer, ""))) != 1 {
			t.Fatalf("decided again: %s", done.Status)
		}
		if n := len(e.lenderRequests(escrow.LenderDecision)); n != 2 {
			t.Fatalf("%d decision requests, want 2", n)
		}
		e.checkLedger()
	})
}

// TestPayLaterApplicationCountry ensures the country of an application is the buyer's registered
// one: a buyer registered outside the US is refused with pay_later_us_only, a US buyer naming
// another country with country_mismatch; nothing is stored and the lender is not asked. R11
func TestPayLaterApplicationCountry(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		if _, err := e.svc.ApplyForCredit(e.ctx, e.buyer, e.key(), e.application("CA", dollars(500_000_00), 3)); fault.ReasonOf(err) != "country_mismatch" {
			t.Fatalf("a US buyer naming Canada: %v", err)
		}
		de := e.org(trade.KindBuyer, "Berlin Kinder GmbH", "DE")
		german := trade.Actor{Role: trade.RoleBuyer, OrgID: de.ID, UserID: "d"}
		for _, country := range []string{"DE", "US"} {
			if _, err := e.svc.ApplyForCredit(e.ctx, german, e.key(), e.application(country, dollars(500_000_00), 3)); fault.ReasonOf(err) != credit.ReasonUSOnly {
				t.Fatalf("a German buyer naming %s: %v", country, err)
			}
		}
		if n := len(must(e.svc.CreditApplications(e.ctx, e.admin, de.ID))) + len(must(e.svc.CreditApplications(e.ctx, e.buyer, ""))); n != 0 {
			t.Fatalf("%d applications stored", n)
		}
		if n := len(e.lenderRequests("")); n != 0 {
			t.Fatalf("%d lender requests", n)
		}
	})
}

// TestPayLaterReapplyAfterChargeOff ensures underwriting weighs the buyer's history on the
// platform: after its loan is charged off (the line closes), the buyer may apply again but the
// lender declines with charged_off_loan, whatever its revenue. R11
func TestPayLaterReapplyAfterChargeOff(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.setFailing(true)
		_, l := e.disbursed()
		e.clock.Set(firstDue)
		e.timers()
		if got := e.loan(l.ID); got.State != credit.PastDue {
			t.Fatalf("after a refused debit: %s", got.State)
		}
		must(e.svc.ChargeOffLoan(e.ctx, e.admin, e.key(), l.ID))
		if _, err := e.svc.CreditLine(e.ctx, e.buyer, ""); fault.ReasonOf(err) != "credit_line_not_found" {
			t.Fatalf("the line after the charge-off: %v", err)
		}
		got := e.decided(e.application("US", dollars(900_000_00), 10))
		if got.Status != credit.Declined || len(got.Decision.Reasons) != 1 || got.Decision.Reasons[0].Code != credit.ReasonChargedOffLoan {
			t.Fatalf("re-applied after a charge-off: %s %+v", got.Status, got.Decision)
		}
		if _, err := e.svc.CreditLine(e.ctx, e.buyer, ""); fault.ReasonOf(err) != "credit_line_not_found" {
			t.Fatalf("a new line: %v", err)
		}
		e.checkLedger()
	})
}

// TestPayLaterNoBank ensures that without the sandbox there is no bank on this machine and none
// is invented: debit requests wait in the outbox (the worker claims nothing), the sandbox bank's
// settings are refused, and an operator records the bank's answer — applied as the worker's
// would be, the same answer again returning the request, another refused. With the sandbox on,
// its requests are labelled sandbox. R11
func TestPayLaterNoBank(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		_, l := e.disbursed()
		e.clock.Set(firstDue)
		e.timers()
		if d := e.onlyDebit(l.ID); !d.Sandbox || d.Status != escrow.DebitSucceeded {
			t.Fatalf("a sandbox debit: %+v", d)
		}
		e.svc = escrow.New(e.db, escrow.Options{Clock: e.clock, Config: trade.DefaultConfig(), Blobs: e.blobs})
		if _, ok := e.svc.SandboxBank(); ok || e.svc.Bank() != nil {
			t.Fatal("a bank without the sandbox")
		}
		e.clock.Set(time.Date(2026, 1, 26, 5, 0, 0, 0, time.UTC)) // installment 2
		e.timers()
		ds := e.debits(l.ID)
		d := ds[0]
		if len(ds) != 2 || d.Status != escrow.DebitRequested || d.Sandbox || d.Attempts != 0 {
			t.Fatalf("without a bank: %+v", ds)
		}
		if _, err := e.svc.RecordBankDebitResult(e.ctx, e.buyer, e.key(), d.ID, true); fault.ReasonOf(err) != "role_not_allowed" {
			t.Fatalf("a buyer recorded: %v", err)
		}
		got := must(e.svc.RecordBankDebitResult(e.ctx, e.admin, e.key(), d.ID, true))
		if got.Status != escrow.DebitSucceeded || got.RecordedBy != "admin:admin" || got.Sandbox || got.RecordedAt == nil {
			t.Fatalf("recorded %+v", got)
		}
		if again := must(e.svc.RecordBankDebitResult(e.ctx, e.admin, e.key(), d.ID, true)); again.Status != escrow.DebitSucceeded {
			t.Fatalf("the same answer again: %+v", again)
		}
		if _, err := e.svc.RecordBankDebitResult(e.ctx, e.admin, e.key(), d.ID, false); fault.ReasonOf(err) != "bank_debit_recorded" {
			t.Fatalf("another answer: %v", err)
		}
		if got := e.loan(l.ID); got.Installments[1].Status != credit.Paid || e.events(l.ID, "loan.debit_succeeded") != 2 {
			t.Fatalf("installment 2 %s", got.Installments[1].Status)
		}
		e.checkLoanBook(e.loan(l.ID))
	})
}
