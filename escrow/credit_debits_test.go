package escrow_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// bank is the buyer's bank as the tests see it: the sandbox bank behind a wire that can fail.
// down answers that many calls with an error before the sandbox sees them (an outage);
// crashAfter is called once after the sandbox has answered, before the worker records it (the
// worker's process dies). calls counts the calls per reference; heard counts the events the
// service published after commit, by type.
type bank struct {
	mu         sync.Mutex
	sandbox    *escrow.SandboxBank
	down       int
	crashAfter func()
	calls      map[string]int
	heard      map[string]int
}

func (b *bank) Debit(ctx context.Context, d escrow.BankDebit) (bool, error) {
	b.mu.Lock()
	b.calls[d.Reference]++
	if b.down > 0 {
		b.down--
		b.mu.Unlock()
		return false, errors.New("bank unavailable: 503")
	}
	crash := b.crashAfter
	b.crashAfter = nil
	b.mu.Unlock()
	ok, err := b.sandbox.Debit(ctx, d)
	if crash != nil {
		crash()
	}
	return ok, err
}

func (b *bank) setDown(n int) { b.mu.Lock(); b.down = n; b.mu.Unlock() }

func (b *bank) callsOf(ref string) int { b.mu.Lock(); defer b.mu.Unlock(); return b.calls[ref] }

func (b *bank) hear(evs []escrow.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ev := range evs {
		b.heard[ev.Type]++
	}
}

func (b *bank) heardOf(typ string) int { b.mu.Lock(); defer b.mu.Unlock(); return b.heard[typ] }

// withBank restarts the service over the same database with b as the Pay Later bank.
func (e *env) withBank() *bank {
	b := &bank{sandbox: escrow.NewSandboxBank(e.db, e.clock), calls: map[string]int{}, heard: map[string]int{}}
	e.svc = escrow.New(e.db, escrow.Options{Clock: e.clock, Config: trade.DefaultConfig(),
		Sandbox: escrow.Sandbox{Enabled: true, Delay: time.Hour}, Blobs: e.blobs,
		Credit: escrow.CreditOptions{Bank: b}, AfterCommit: b.hear})
	return b
}

// debits lists a loan's debit requests, newest first.
func (e *env) debits(loanID string) []escrow.DebitRequest {
	e.t.Helper()
	return must(e.svc.BankDebits(e.ctx, e.admin, escrow.DebitFilter{LoanID: loanID}))
}

// onlyDebit returns the loan's one debit request.
func (e *env) onlyDebit(loanID string) escrow.DebitRequest {
	e.t.Helper()
	ds := e.debits(loanID)
	if len(ds) != 1 {
		e.t.Fatalf("loan %s has %d debit requests, want 1: %+v", loanID, len(ds), ds)
	}
	return ds[0]
}

// firstDueRequested drives the worked example to its first due date and fires the debit timer
// only: the debit is requested, and nothing about money has changed yet.
func (e *env) firstDueRequested() (escrow.LoanRecord, escrow.DebitRequest) {
	e.t.Helper()
	_, l := e.disbursed()
	e.clock.Set(firstDue)
	if n := must(e.svc.RunTimers(e.ctx, "w1")); n == 0 {
		e.t.Fatal("no timer fired on the due date")
	}
	d := e.onlyDebit(l.ID)
	got := e.loan(l.ID)
	if d.Status != escrow.DebitRequested || d.Kind != escrow.DebitInstallment || d.Amount != dollars(1_766_67) ||
		d.LoanVersion != l.Version || d.AccountLast4 != "4321" || !d.RequestedAt.Equal(firstDue) {
		e.t.Fatalf("debit requested on the due date: %+v", d)
	}
	if got.Version != l.Version || got.State != credit.Disbursed || e.balance(receivable(l.ID)) != 10_000_00 ||
		got.BankDebit == nil || got.BankDebit.ID != d.ID {
		e.t.Fatalf("the request changed the loan: %s v%d, receivable %d, debit %+v", got.State, got.Version,
			e.balance(receivable(l.ID)), got.BankDebit)
	}
	return got, d
}

// TestPayLaterDebitThroughWorker ensures the due date's debit goes through the outbox: the timer
// records a request and nothing else; the bank worker asks the bank outside the transaction,
// with the request's ID as the reference, and records the repayment; the ledger check holds.
// R11, R21
func TestPayLaterDebitThroughWorker(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		b := e.withBank()
		l, d := e.firstDueRequested()
		if len(e.bankDebits()) != 0 || e.events(l.ID, "loan.debit_requested") != 1 {
			t.Fatalf("the bank was asked inside the timer's transaction: %+v", e.bankDebits())
		}
		if n := must(e.svc.RunBankDebits(e.ctx, "bank-1")); n != 1 {
			t.Fatalf("the worker claimed %d requests, want 1", n)
		}
		l = e.loan(l.ID)
		got := e.onlyDebit(l.ID)
		if got.Status != escrow.DebitSucceeded || got.RecordedAt == nil || got.Attempts != 1 || b.callsOf(d.ID) != 1 {
			t.Fatalf("after the worker: %+v, calls %d", got, b.callsOf(d.ID))
		}
		if ds := e.bankDebits(); len(ds) != 1 || ds[0].Reference != d.ID || ds[0].Amount != dollars(1_766_67) ||
			ds[0].AccountLast4 != "4321" || ds[0].Kind != escrow.DebitInstallment {
			t.Fatalf("bank debits %+v", ds)
		}
		if l.State != credit.Active || l.Installments[0].Status != credit.Paid || e.balance(receivable(l.ID)) != 8_333_33 {
			t.Fatalf("loan %s, installment 1 %s, receivable %d", l.State, l.Installments[0].Status, e.balance(receivable(l.ID)))
		}
		if n := must(e.svc.RunBankDebits(e.ctx, "bank-1")); n != 0 {
			t.Fatalf("a recorded debit was claimed again (%d)", n)
		}
		e.checkLoanBook(l)
	})
}

// TestPayLaterDebitRefusedThroughWorker ensures a refusal recorded by the worker does what a
// refused debit does: the installment is billed, the loan past due, the line frozen, the two
// retries and the charge-off timer set; a retry is a request of its own, with a new reference.
// R11, R21
func TestPayLaterDebitRefusedThroughWorker(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.withBank()
		e.setFailing(true)
		l, d := e.firstDueRequested()
		must(e.svc.RunBankDebits(e.ctx, "bank-1"))
		l = e.loan(l.ID)
		if got := e.onlyDebit(l.ID); got.Status != escrow.DebitRefused || got.ID != d.ID {
			t.Fatalf("refused debit %+v", got)
		}
		if l.State != credit.PastDue || e.line().Status != credit.LineFrozen || l.Installments[0].Status != credit.Billed {
			t.Fatalf("after a refusal: loan %s, line %s, installment 1 %s", l.State, e.line().Status, l.Installments[0].Status)
		}
		if n := len(e.timersOf(l.ID, credit.TimerDebitRetry)); n != 2 {
			t.Fatalf("%d retry timers, want 2", n)
		}
		if n := len(e.timersOf(l.ID, credit.TimerChargeOff)); n != 1 {
			t.Fatalf("%d charge-off timers, want 1", n)
		}
		e.checkLoanBook(l)
		// The first retry, 3 business days later: a new request, paid this time.
		e.setFailing(false)
		e.clock.Set(time.Date(2025, 12, 31, 5, 0, 0, 0, time.UTC))
		e.timers()
		ds := e.debits(l.ID)
		if len(ds) != 2 || ds[0].Kind != escrow.DebitRetry || ds[0].Status != escrow.DebitSucceeded || ds[0].ID == d.ID ||
			ds[0].Amount != dollars(1_766_67) {
			t.Fatalf("debit requests after the retry %+v", ds)
		}
		if l = e.loan(l.ID); l.State != credit.Active || e.line().Status != credit.LineActive {
			t.Fatalf("after the retry: loan %s, line %s", l.State, e.line().Status)
		}
		e.checkLoanBook(l)
	})
}

// TestPayLaterBankOutage ensures a bank that gives no answer is asked again later with the same
// reference, waiting BankDebitBackoff between attempts, and the loan is debited once when it
// answers; a bank that never answers leaves the request for an operator after
// BankDebitAttemptsMax attempts — the loan takes no other debit meanwhile, its debit timer
// waits, the buyer's payoff is refused with debit_pending — until an admin retries it. R11
func TestPayLaterBankOutage(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		b := e.withBank()
		b.setDown(2)
		l, d := e.firstDueRequested()
		must(e.svc.RunBankDebits(e.ctx, "bank-1"))
		got := e.onlyDebit(l.ID)
		if got.Status != escrow.DebitRequested || got.Attempts != 1 || got.LastError == "" ||
			!got.NextAttemptAt.Equal(firstDue.Add(escrow.BankDebitBackoff(1))) {
			t.Fatalf("after an unanswered attempt: %+v", got)
		}
		if n := must(e.svc.RunBankDebits(e.ctx, "bank-1")); n != 0 {
			t.Fatal("asked again before the backoff ran out")
		}
		e.clock.Advance(escrow.BankDebitBackoff(1))
		must(e.svc.RunBankDebits(e.ctx, "bank-1")) // down again
		if got = e.onlyDebit(l.ID); got.Attempts != 2 || escrow.BankDebitBackoff(2) != 2*escrow.BankDebitBackoff(1) {
			t.Fatalf("after a second unanswered attempt: %+v", got)
		}
		e.clock.Advance(escrow.BankDebitBackoff(2))
		must(e.svc.RunBankDebits(e.ctx, "bank-1")) // it answers
		if got = e.onlyDebit(l.ID); got.Status != escrow.DebitSucceeded || got.Attempts != 3 || b.callsOf(d.ID) != 3 {
			t.Fatalf("after the bank answered: %+v, calls %d", got, b.callsOf(d.ID))
		}
		if ds := e.bankDebits(); len(ds) != 1 {
			t.Fatalf("debited %d times", len(ds))
		}
		if l = e.loan(l.ID); l.State != credit.Active {
			t.Fatalf("loan %s", l.State)
		}
		e.checkLoanBook(l)

		// The second due date, and a bank that never answers.
		b.setDown(1_000)
		second := l.Installments[1].DueDate
		e.clock.Set(second)
		must(e.svc.RunTimers(e.ctx, "w1"))
		pending := e.debits(l.ID)[0]
		for i := 0; i < escrow.BankDebitAttemptsMax; i++ {
			must(e.svc.RunBankDebits(e.ctx, "bank-1"))
			e.clock.Advance(escrow.BankDebitBackoffMax)
		}
		got = e.debits(l.ID)[0]
		if got.ID != pending.ID || got.Status != escrow.DebitAttention || got.Attempts != escrow.BankDebitAttemptsMax {
			t.Fatalf("after %d unanswered attempts: %+v", escrow.BankDebitAttemptsMax, got)
		}
		if n := b.heardOf("loan.debit_attention"); n != 1 { // the admins' notice, published after commit
			t.Fatalf("loan.debit_attention published %d times after commit, want 1", n)
		}
		if n := must(e.svc.RunBankDebits(e.ctx, "bank-1")); n != 0 {
			t.Fatal("a request waiting for an operator was claimed")
		}
		if list := must(e.svc.BankDebits(e.ctx, e.admin, escrow.DebitFilter{Status: escrow.DebitAttention})); len(list) != 1 || list[0].ID != got.ID {
			t.Fatalf("the operator's list %+v", list)
		}
		if _, err := e.svc.PayOffLoan(e.ctx, e.buyer, e.key(), l.ID); fault.ReasonOf(err) != "debit_pending" {
			t.Fatalf("a payoff while a debit is unanswered: %v", err)
		}
		if _, err := e.svc.BankDebits(e.ctx, e.buyer, escrow.DebitFilter{}); fault.CodeOf(err) != fault.Forbidden {
			t.Fatalf("a buyer listed the debits: %v", err)
		}
		if _, err := e.svc.RetryBankDebit(e.ctx, e.buyer, e.key(), got.ID); fault.CodeOf(err) != fault.Forbidden {
			t.Fatalf("a buyer retried a debit: %v", err)
		}
		// The bank is back; the operator retries: asked with the same reference, debited once.
		b.setDown(0)
		must(e.svc.RetryBankDebit(e.ctx, e.admin, e.key(), got.ID))
		if _, err := e.svc.RetryBankDebit(e.ctx, e.admin, e.key(), got.ID); fault.ReasonOf(err) != "bank_debit_not_in_attention" {
			t.Fatalf("retrying a requested debit: %v", err)
		}
		e.timers()
		if got = e.debits(l.ID)[0]; got.Status != escrow.DebitSucceeded || got.Amount != dollars(1_866_67) {
			t.Fatalf("after the operator's retry: %+v", got)
		}
		if ds := e.bankDebits(); len(ds) != 2 || ds[1].Reference != got.ID {
			t.Fatalf("bank debits %+v", ds)
		}
		if l = e.loan(l.ID); l.Installments[1].Status != credit.Paid || l.State != credit.Active {
			t.Fatalf("loan %s, installment 2 %s", l.State, l.Installments[1].Status)
		}
		e.checkLoanBook(l)
	})
}

// TestPayLaterCrashAfterBankAnswered ensures a worker that dies after the bank answered but
// before the answer was recorded debits the buyer once: its lease holds the request until it
// lapses, then another worker asks again with the same reference, the bank gives the same
// answer without debiting again, and the repayment is recorded once. R11, R21
func TestPayLaterCrashAfterBankAnswered(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		b := e.withBank()
		l, d := e.firstDueRequested()
		ctx, die := context.WithCancel(e.ctx)
		b.crashAfter = die // the process dies between the bank's answer and its record
		if _, err := e.svc.RunBankDebits(ctx, "doomed"); err != nil {
			t.Fatalf("a dying worker: %v", err)
		}
		if got := e.onlyDebit(l.ID); got.Status != escrow.DebitRequested || len(e.bankDebits()) != 1 {
			t.Fatalf("after the crash: %+v, bank debits %d", got, len(e.bankDebits()))
		}
		if got := e.loan(l.ID); got.Version != l.Version || e.balance(receivable(l.ID)) != 10_000_00 {
			t.Fatalf("the crashed worker recorded something: v%d", got.Version)
		}
		if n := must(e.svc.RunBankDebits(e.ctx, "bank-2")); n != 0 {
			t.Fatal("another worker took the request while the dead worker's lease ran")
		}
		e.clock.Advance(escrow.BankDebitLease + time.Second)
		if n := must(e.svc.RunBankDebits(e.ctx, "bank-2")); n != 1 {
			t.Fatalf("after the lease lapsed the worker claimed %d", n)
		}
		got := e.onlyDebit(l.ID)
		if got.Status != escrow.DebitSucceeded || b.callsOf(d.ID) != 2 || len(e.bankDebits()) != 1 {
			t.Fatalf("after asking again: %+v, calls %d, bank debits %d", got, b.callsOf(d.ID), len(e.bankDebits()))
		}
		l = e.loan(l.ID)
		payments := 0
		for _, p := range l.Postings {
			if p.Kind == credit.PostPayment {
				payments++
			}
		}
		if payments != 1 || e.events(l.ID, "loan.debit_succeeded") != 1 || e.balance(receivable(l.ID)) != 8_333_33 {
			t.Fatalf("%d payments, %d debit_succeeded events, receivable %d", payments, e.events(l.ID, "loan.debit_succeeded"),
				e.balance(receivable(l.ID)))
		}
		e.checkLoanBook(l)
	})
}

// TestPayLaterBankWorkersRace ensures two bank workers running at once claim each request once:
// every loan's debit is asked of the bank once and recorded once. R11
func TestPayLaterBankWorkersRace(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		b := e.withBank()
		e.clock.Set(agreedAt)
		e.approve(2_000_000_00)
		var loans []string
		for range 6 {
			o := must(e.financed(e.buyer, "USD", 10_00))
			l := must(e.svc.OfferLoan(e.ctx, e.buyer, e.key(), o.ID, 3))
			loans = append(loans, must(e.svc.AcceptLoan(e.ctx, e.buyer, e.key(), l.ID)).ID)
		}
		e.clock.Set(disbursedAt)
		e.timers()
		e.clock.Set(firstDue)
		must(e.svc.RunTimers(e.ctx, "w1"))
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() {
				for {
					n, err := e.svc.RunBankDebits(e.ctx, fmt.Sprintf("racer-%d", i))
					if err != nil {
						t.Errorf("racer %d: %v", i, err)
						return
					}
					if n == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		for _, id := range loans {
			d := e.onlyDebit(id)
			if d.Status != escrow.DebitSucceeded || d.Attempts != 1 || b.callsOf(d.ID) != 1 {
				t.Fatalf("loan %s: %+v asked %d times", id, d, b.callsOf(d.ID))
			}
			if l := e.loan(id); l.State != credit.Active {
				t.Fatalf("loan %s is %s", id, l.State)
			}
		}
		if n := len(e.bankDebits()); n != len(loans) {
			t.Fatalf("%d bank debits for %d loans", n, len(loans))
		}
		e.checkLedger()
	})
}

// TestPayLaterPayoffRequested ensures an early payoff is requested, not debited, in the buyer's
// command: two concurrent requests with different keys create one debit; the loan is paid off
// only when the worker records the bank's answer; a refused payoff changes nothing and the
// buyer may ask again. R11
func TestPayLaterPayoffRequested(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.withBank()
		_, l := e.disbursed()
		e.clock.Set(disbursedAt.Add(24 * time.Hour))
		quote := l.Quote(e.clock.Now())

		// Refused first: nothing changes, the buyer is told, and may ask again.
		e.setFailing(true)
		refused := must(e.svc.PayOffLoan(e.ctx, e.buyer, e.key(), l.ID))
		e.timers()
		if got := e.loan(l.ID); got.State != credit.Disbursed || got.Version != l.Version || got.BankDebit == nil ||
			got.BankDebit.ID != refused.BankDebit.ID || got.BankDebit.Status != escrow.DebitRefused ||
			e.events(l.ID, "loan.payoff_failed") != 1 {
			t.Fatalf("after a refused payoff: %s v%d, debit %+v", got.State, got.Version, got.BankDebit)
		}
		e.setFailing(false)

		var wg sync.WaitGroup
		outs := make([]escrow.LoanRecord, 2)
		errs := make([]error, 2)
		for i := range 2 {
			wg.Go(func() { outs[i], errs[i] = e.svc.PayOffLoan(e.ctx, e.buyer, fmt.Sprintf("payoff-%d", i), l.ID) })
		}
		wg.Wait()
		for i := range 2 {
			if errs[i] != nil || outs[i].BankDebit == nil || outs[i].BankDebit.Status != escrow.DebitRequested ||
				outs[i].BankDebit.Amount != quote || outs[i].State != credit.Disbursed {
				t.Fatalf("payoff %d: %v, %+v", i, errs[i], outs[i].BankDebit)
			}
		}
		if outs[0].BankDebit.ID != outs[1].BankDebit.ID || len(e.debits(l.ID)) != 2 {
			t.Fatalf("two payoff requests made two debits: %s, %s; requests %+v", outs[0].BankDebit.ID, outs[1].BankDebit.ID, e.debits(l.ID))
		}
		// The debit timer of a due date waits while the payoff is pending.
		e.clock.Set(firstDue)
		must(e.svc.RunTimers(e.ctx, "w1"))
		if n := len(e.debits(l.ID)); n != 2 {
			t.Fatalf("the due date requested another debit while the payoff was pending: %d requests", n)
		}
		must(e.svc.RunBankDebits(e.ctx, "bank-1"))
		got := e.loan(l.ID)
		if got.State != credit.PaidOff || got.BankDebit.Status != escrow.DebitSucceeded || e.balance(receivable(l.ID)) != 0 ||
			e.line().Used.IsPositive() {
			t.Fatalf("after the worker: %s, debit %+v, receivable %d", got.State, got.BankDebit, e.balance(receivable(l.ID)))
		}
		if ds := e.bankDebits(); len(ds) != 1 || ds[0].Amount != quote || ds[0].Kind != escrow.DebitPayoff {
			t.Fatalf("bank debits %+v, want one payoff of %s", ds, quote)
		}
		// The postponed due-date timer finds the loan paid off.
		e.clock.Advance(escrow.DebitPendingRecheck)
		e.timers()
		if n := len(e.debits(l.ID)); n != 2 || len(e.bankDebits()) != 1 {
			t.Fatalf("a debit after the payoff: %d requests", n)
		}
		e.checkLoanBook(got)
	})
}

// TestSandboxBankSameReference ensures the sandbox bank honours the Bank contract across
// restarts and processes: its answers and settings are the database's, so asking again with a
// reference — from a new process, after the buyer's setting changed — gets the first answer and
// never debits twice, and a setting made through one process holds for another. R11
func TestSandboxBankSameReference(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		ctx := e.ctx
		one := escrow.NewSandboxBank(e.db, e.clock)
		d := escrow.BankDebit{BuyerID: "buy_1", LoanID: "loan_1", Kind: escrow.DebitPayoff, Amount: dollars(100_00), Reference: "pld_1"}
		if ok, err := one.Debit(ctx, d); !ok || err != nil {
			t.Fatalf("first ask: %v %v", ok, err)
		}
		if err := one.SetFailing(ctx, "buy_1", true); err != nil {
			t.Fatal(err)
		}
		e.db.Close()
		e.open() // a restart: a new process over the same database
		two, ok := e.svc.SandboxBank()
		if !ok {
			t.Fatal("the sandbox is on, but the service has no sandbox bank")
		}
		if fail, err := two.Failing(ctx, "buy_1"); !fail || err != nil {
			t.Fatalf("the setting after a restart: %v %v", fail, err)
		}
		for i := range 2 {
			if ok, err := two.Debit(ctx, d); !ok || err != nil {
				t.Fatalf("asked again after the restart (%d): %v %v", i, ok, err)
			}
		}
		d.Reference = "pld_2"
		if ok, err := two.Debit(ctx, d); ok || err != nil {
			t.Fatalf("a new reference of a failing buyer: %v %v", ok, err)
		}
		if err := two.SetFailing(ctx, "buy_1", false); err != nil {
			t.Fatal(err)
		}
		if ok, err := escrow.NewSandboxBank(e.db, e.clock).Debit(ctx, d); ok || err != nil {
			t.Fatalf("a refused reference asked again by another process: %v %v", ok, err)
		}
		if ds := must(two.Debits(ctx)); len(ds) != 1 || ds[0].Reference != "pld_1" || ds[0].Amount != dollars(100_00) {
			t.Fatalf("debits %+v", ds)
		}
		if err := two.SetFailing(ctx, "", true); fault.ReasonOf(err) != "buyer_required" {
			t.Errorf("no buyer: %v", err)
		}
	})
}

// TestPayLaterDebitAfterRefund ensures a debit the bank pays after the loan changed is not
// applied: the order is refunded while the due date's debit waits for the bank, the refund
// repays most of the loan, and the bank's payment no longer matches what is due, so it is
// recorded as unapplied for an operator — nothing is posted on the loan and the ledger check
// holds. R11, R13
func TestPayLaterDebitAfterRefund(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.withBank()
		o, l := e.disbursed()
		e.clock.Set(firstDue)
		must(e.svc.RunTimers(e.ctx, "w1")) // the debit is requested; the bank has not answered
		e.clock.Set(o.Deadline().Add(time.Hour))
		must(e.svc.RunTimers(e.ctx, "w1"))
		if o = e.reload(o); o.State != trade.Late {
			t.Fatalf("order %s, want late", o.State)
		}
		e.do(e.buyer, o, trade.Refund{})
		refunded := e.loan(l.ID)
		if refunded.Version == l.Version || e.balance(receivable(l.ID)) != refunded.Balance().Minor {
			t.Fatalf("the refund did not repay the loan: v%d", refunded.Version)
		}
		must(e.svc.RunBankDebits(e.ctx, "bank-1"))
		d := e.onlyDebit(l.ID)
		if d.Status != escrow.DebitUnapplied || len(e.bankDebits()) != 1 || e.events(l.ID, "loan.debit_unapplied") != 1 {
			t.Fatalf("a debit paid after the refund: %+v", d)
		}
		got := e.loan(l.ID)
		if got.Version != refunded.Version || e.balance(receivable(l.ID)) != refunded.Balance().Minor ||
			got.Postings[len(got.Postings)-1].Kind != credit.PostRefund {
			t.Fatalf("the unapplied debit was posted: receivable %d, %+v", e.balance(receivable(l.ID)), got.Postings)
		}
		if list := must(e.svc.BankDebits(e.ctx, e.admin, escrow.DebitFilter{Status: escrow.DebitUnapplied})); len(list) != 1 {
			t.Fatalf("the operator's list of unapplied debits %+v", list)
		}
		e.checkLoanBook(got)
	})
}
