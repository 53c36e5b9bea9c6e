package notify_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/internal/railtest"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/notify"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// payLaterKinds are the kinds of notification about Pay Later and the platform's money.
var payLaterKinds = []notify.Kind{notify.CreditDecided, notify.CreditInformationNeeded, notify.InstallmentDueNear,
	notify.LoanPastDue, notify.PayoffRefused, notify.LoanChargedOff, notify.SuspenseToAllocate, notify.DebitToRecord,
	notify.DebitAttention, notify.DebitUnapplied, notify.LenderAttention, notify.DisbursementOverdue}

// moneyInbox lists "who:kind" of every notification of payLaterKinds, sorted.
func (e *env) moneyInbox() []string {
	e.t.Helper()
	var out []string
	for who, a := range e.actors {
		for _, n := range must(e.notes.List(e.ctx, notify.UserScope(a.UserID), "", notify.AnyState, 0, notify.PageSizeMax)) {
			if slices.Contains(payLaterKinds, n.Kind) {
				out = append(out, who+":"+string(n.Kind))
			}
		}
	}
	slices.Sort(out)
	return out
}

func (e *env) expectMoney(want ...string) {
	e.t.Helper()
	slices.Sort(want)
	if got := e.moneyInbox(); !slices.Equal(got, want) {
		e.t.Fatalf("Pay Later and platform notifications:\n got %q\nwant %q", got, want)
	}
}

// workers runs the escrow timers and the Pay Later lender and bank workers until nothing is
// due, then the notifier.
func (e *env) workers() {
	e.t.Helper()
	for range 50 {
		n := must(e.svc.RunTimers(e.ctx, "t1")) + must(e.svc.RunLenderRequests(e.ctx, "l1")) + must(e.svc.RunBankDebits(e.ctx, "b1"))
		if n == 0 {
			e.run(e.notes, "w1")
			return
		}
	}
	e.t.Fatal("the workers do not settle")
}

// creditApplication is a complete application of the buyer's business in the US, started
// three years ago, with US$500,000 of yearly revenue: the built-in lender approves a line of
// US$100,000.
func (e *env) creditApplication() credit.Application {
	now, revenue := e.clock.Now(), money.New(500_000_00, "USD")
	return credit.Application{Channel: credit.InAdvance,
		Business: credit.Business{LegalName: "Maple Kids Apparel Inc.", EINLast4: "6789", Country: "US", State: "NY",
			Established: now.AddDate(-3, 0, -1), Revenue: &revenue},
		Owner:    credit.Owner{Name: "Pat Owner", Title: "CEO", BirthYear: 1980, SSNLast4: "1234"},
		Accounts: []credit.LinkedAccount{{Kind: credit.BusinessChecking, Institution: "First Bank", Mask: "4321"}},
		Consent:  credit.Consent{Given: true, At: now, TextVersion: "2025-01"}}
}

// financedLoan gives the buyer a line (the lender approves its application) and then a
// disbursed loan (loanOnLine).
func (e *env) financedLoan() escrow.LoanRecord {
	e.t.Helper()
	must(e.svc.ApplyForCredit(e.ctx, e.actors["buyer"], e.key(), e.creditApplication()))
	e.workers()
	return e.loanOnLine()
}

// TestPayLaterNotifiesThePeopleWhoMustAct follows a buyer through Pay Later on a platform with
// no bank adapter: the buyer hears that the lender needs more information, then the approval;
// the buyer is reminded of its first installment's debit DueReminderLead before it, once; the
// admins are asked to record the bank's answer to the debit; the refusal tells the buyer the
// loan is past due and the line frozen; the charge-off tells it whom it owes, and the later
// installments' reminders find themselves stale. No one else hears of it: not the supplier,
// the inspection company, the arbiter, nor another buyer. Every email links to the page where
// the reader acts. R11
func TestPayLaterNotifiesThePeopleWhoMustAct(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		buyer := e.actors["buyer"]
		app := e.creditApplication()
		app.Business.Revenue, app.Business.EINLast4 = nil, ""
		res := must(e.svc.ApplyForCredit(e.ctx, buyer, e.key(), app))
		e.workers()
		e.expectMoney("buyer:credit_information_needed", "buyer_b:credit_information_needed")
		revenue := money.New(500_000_00, "USD")
		must(e.svc.SupplyCreditInformation(e.ctx, buyer, e.key(), res.Application.ID, credit.Supplement{Revenue: &revenue, EINLast4: "6789"}))
		e.workers()
		base := []string{"buyer:credit_information_needed", "buyer_b:credit_information_needed", "buyer:credit_decided", "buyer_b:credit_decided"}
		e.expectMoney(base...)
		if m := find2(e.sink.messages(), "buyer@people.test", "Pay Later: the lender needs more information"); len(m) != 1 ||
			!strings.Contains(m[0].Body, "Open the application: "+baseURL+"/credit/applications/"+res.Application.ID) {
			t.Fatalf("more information email: %+v", m)
		}
		if m := find2(e.sink.messages(), "buyer_b@people.test", "Pay Later approved: a line of USD 100,000.00"); len(m) != 1 ||
			!strings.Contains(m[0].Body, "Open Pay Later: "+baseURL+"/credit") {
			t.Fatalf("approval email: %+v", m)
		}

		// A financed order: its installments' debits get reminders, sent DueReminderLead before.
		l := e.loanOnLine()
		first := l.Installments[0].DueDate
		e.clock.Set(first.Add(-notify.DueReminderLead - time.Minute))
		e.workers()
		e.expectMoney(base...)
		e.clock.Set(first.Add(-notify.DueReminderLead))
		e.workers()
		base = append(base, "buyer:installment_due_near", "buyer_b:installment_due_near")
		e.expectMoney(base...)
		if m := find2(e.sink.messages(), "buyer@people.test", "Pay Later: USD 2,"); len(m) != 1 ||
			!strings.Contains(m[0].Body, "Installment 1 of 3") || !strings.Contains(m[0].Body, baseURL+"/credit/loans/"+l.ID) {
			t.Fatalf("installment reminder email: %+v", m)
		}

		// The due date: the debit waits for an operator, who records the bank's refusal.
		e.clock.Set(first)
		e.workers()
		base = append(base, "admin:debit_to_record")
		e.expectMoney(base...)
		d := must(e.svc.BankDebits(e.ctx, e.admin, escrow.DebitFilter{LoanID: l.ID}))[0]
		if m := find2(e.sink.messages(), "admin@people.test", "Record the bank's answer"); len(m) != 1 ||
			!strings.Contains(m[0].Body, "/v1/credit/bank-debits/"+d.ID+"/result") ||
			!strings.Contains(m[0].Body, "Open it on the Operations page: "+baseURL+"/admin/operations#debits") {
			t.Fatalf("debit to record email: %+v", m)
		}
		must(e.svc.RecordBankDebitResult(e.ctx, e.admin, e.key(), d.ID, false))
		e.workers()
		base = append(base, "buyer:loan_past_due", "buyer_b:loan_past_due")
		e.expectMoney(base...)

		// The lender charges the loan off: the buyer learns whom it owes now.
		must(e.svc.ChargeOffLoan(e.ctx, e.admin, e.key(), l.ID))
		e.workers()
		base = append(base, "buyer:loan_charged_off", "buyer_b:loan_charged_off")
		e.expectMoney(base...)
		if m := find2(e.sink.messages(), "buyer@people.test", "Pay Later loan "+notify.ShortRef(l.ID)+" charged off"); len(m) != 1 ||
			!strings.Contains(m[0].Body, "contact the lender") {
			t.Fatalf("charge-off email: %+v", m)
		}
		e.clock.Set(l.Installments[2].DueDate)
		e.workers()
		e.expectMoney(base...) // the closed loan's other installments remind no one

		// Every Pay Later email went to its person once: the buyer's two users and the admin.
		for _, m := range e.sink.messages() {
			if strings.HasPrefix(m.Subject, "Pay Later") || strings.Contains(m.Subject, "debit") {
				if !strings.HasPrefix(m.To, "buyer") && m.To != "admin@people.test" {
					t.Fatalf("%q to %s", m.Subject, m.To)
				}
			}
		}
	})
}

// loanOnLine has the buyer, whose line is open, finance a USD 7,800.00 order paid 100% up
// front over three months, and lets the lender pay it: on this platform without the sandbox, the
// lender accepts to pay and its money is reported on the pay_later rail.
func (e *env) loanOnLine() escrow.LoanRecord {
	e.t.Helper()
	l := e.awaitingLoan()
	e.lenderPaid(l)
	e.workers()
	l = must(e.svc.Loan(e.ctx, e.admin, l.ID))
	if l.State != credit.Disbursed || len(l.Installments) != 3 {
		e.t.Fatalf("the loan is %s with %d installments", l.State, len(l.Installments))
	}
	return l
}

// awaitingLoan has the buyer finance a new order's initial payment over three months on its
// line, and the lender accept to pay it on the expected day: the loan awaits the lender's money.
func (e *env) awaitingLoan() escrow.LoanRecord {
	e.t.Helper()
	buyer := e.actors["buyer"]
	c := contract(trade.Day(e.clock.Now()).AddDate(0, 0, 60))
	c.Terms.InitialBP = 10_000
	o := must(e.svc.Place(e.ctx, buyer, e.key(), trade.Place{SupplierID: e.actors["supplier"].OrgID,
		Currency: "USD", ShipBy: c.ShipBy, ComplianceConfirmed: true}))
	o = e.do("supplier", o, trade.ProposeContract{Contract: c})
	o = e.do("buyer", o, trade.ConfirmContract{Hash: o.Proposal.Hash})
	o = e.do("buyer", o, trade.Pay{Installment: trade.Initial, Method: payment.PayLater})
	l := must(e.svc.OfferLoan(e.ctx, buyer, e.key(), o.ID, 3))
	must(e.svc.AcceptLoan(e.ctx, buyer, e.key(), l.ID))
	e.clock.Set(l.Agreement.DisbursementDue)
	e.workers()
	l = must(e.svc.Loan(e.ctx, e.admin, l.ID))
	if r := l.Disbursement; r == nil || r.Status != escrow.LenderAwaitingFunds || r.FundsDueAt == nil {
		e.t.Fatalf("the disbursement request %+v", r)
	}
	return l
}

// lenderPaid reports the lender's money for l's disbursement on the pay_later rail.
func (e *env) lenderPaid(l escrow.LoanRecord) {
	e.t.Helper()
	must(e.svc.ReceiveFunds(e.ctx, "LND-"+l.ID, escrow.Incoming{Method: payment.PayLater, Amount: l.Disbursement.Amount,
		Reference: l.Disbursement.PaymentReference, Payer: "Builtin Lending Co"}))
}

// TestInstallmentReminderFiresOnceAcrossRestarts: the reminder of an installment's debit is
// sent once when DueReminderLead is left, by whichever of two racing notifiers takes it, and
// neither a later round nor a restarted notifier sends it again. R11
func TestInstallmentReminderFiresOnceAcrossRestarts(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		l := e.financedLoan()
		due := l.Installments[0].DueDate.Add(-notify.DueReminderLead)
		count := func() int {
			n := 0
			for _, s := range e.moneyInbox() {
				if s == "buyer:installment_due_near" {
					n++
				}
			}
			return n
		}
		e.clock.Set(due.Add(-time.Second))
		e.run(e.notifier(), "w1")
		if count() != 0 {
			t.Fatal("reminded early")
		}
		e.clock.Set(due)
		a, b := e.notifier(), e.notifier()
		var wg sync.WaitGroup
		for i, w := range []*notify.Service{a, b} {
			wg.Go(func() {
				if _, err := w.RunOnce(e.ctx, fmt.Sprintf("w%d", i)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		e.run(a, "w0")
		if count() != 1 {
			t.Fatalf("%d reminders at the due time", count())
		}
		e.clock.Advance(time.Hour)
		restarted := e.notifier()
		e.run(restarted, "w2")
		if count() != 1 || len(find2(e.sink.messages(), "buyer@people.test", "Pay Later: ")) != 1 {
			t.Fatalf("%d reminders after a restart, %d emails", count(), len(find2(e.sink.messages(), "buyer@people.test", "Pay Later: ")))
		}
		// The second installment's reminder is its own, and fires once too.
		e.clock.Set(l.Installments[1].DueDate.Add(-notify.DueReminderLead))
		e.run(e.notifier(), "w3")
		e.run(e.notifier(), "w4")
		if count() != 2 {
			t.Fatalf("%d reminders after the second installment's", count())
		}
	})
}

// downBank is a bank that never answers.
type downBank struct{}

func (downBank) Debit(context.Context, escrow.BankDebit) (bool, error) {
	return false, errors.New("bank unavailable: 503")
}

// TestUnansweredDebitTellsAdmins: with a bank adapter, the admins are not asked to record
// debits; a debit the bank never answers is marked for an operator (attention) after
// BankDebitAttemptsMax attempts, and the admins are told once, with the request to retry. R11
func TestUnansweredDebitTellsAdmins(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.svc = escrow.New(e.db, escrow.Options{Clock: e.clock, Config: trade.DefaultConfig(), Accounts: railtest.Accounts(),
			Credit: escrow.CreditOptions{Bank: downBank{}}})
		e.notes = e.notifier()
		l := e.financedLoan()
		e.clock.Set(l.Installments[0].DueDate)
		for i := 0; i <= escrow.BankDebitAttemptsMax; i++ {
			e.workers()
			e.clock.Advance(escrow.BankDebitBackoffMax)
		}
		d := must(e.svc.BankDebits(e.ctx, e.admin, escrow.DebitFilter{LoanID: l.ID}))[0]
		if d.Status != escrow.DebitAttention {
			t.Fatalf("the debit is %s after %d attempts", d.Status, d.Attempts)
		}
		// The due date came at once (no reminder: it was too late), and no debit to record: a bank runs.
		e.expectMoney("buyer:credit_decided", "buyer_b:credit_decided", "admin:debit_attention")
		if m := find2(e.sink.messages(), "admin@people.test", "Pay Later debit "+notify.ShortRef(d.ID)+" needs an operator"); len(m) != 1 ||
			!strings.Contains(m[0].Body, "/v1/credit/bank-debits/"+d.ID+"/retry") || !strings.Contains(m[0].Body, "bank unavailable: 503") ||
			!strings.Contains(m[0].Body, "Open it on the Operations page: "+baseURL+"/admin/operations#debit-attention") {
			t.Fatalf("attention email: %+v", m)
		}
	})
}

// TestSuspenseTellsAdminsOnce: money that matches no order's payment is held in suspense, and
// the platform's admins — no one else — are asked once to allocate it (R8), with a link to the
// suspense page; money that matched its payment asks nothing.
func TestSuspenseTellsAdminsOnce(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.inProduction() // its payment matched: nothing for the admins
		e.expectMoney()
		a := must(e.svc.ReceiveFunds(e.ctx, "stmt-stray", escrow.Incoming{Method: payment.TTWire, Amount: money.New(1_234_56, "USD"),
			Reference: "INV 2231", Payer: "Unknown Trading Co"}))
		if a.SuspenseID == "" {
			t.Fatalf("not held in suspense: %+v", a)
		}
		e.run(e.notes, "w1")
		e.run(e.notifier(), "w2")
		e.expectMoney("admin:suspense_to_allocate")
		m := find2(e.sink.messages(), "admin@people.test", "Allocate USD 1,234.56 held in suspense")
		if len(m) != 1 || !strings.Contains(m[0].Body, `quoting "INV 2231"`) || !strings.Contains(m[0].Body, baseURL+"/admin/suspense") {
			t.Fatalf("suspense email: %+v", m)
		}
	})
}

// downLender is the built-in lender behind a wire that never answers.
type downLender struct{ credit.BuiltIn }

func (downLender) Decide(context.Context, credit.DecisionRequest) (credit.Decision, error) {
	return credit.Decision{}, errors.New("lender unavailable: 503")
}

// TestUnansweredLenderTellsAdmins: a lender request the lender never answers is marked for an
// operator (attention) after LenderAttemptsMax attempts, and the platform's admins — not the
// buyer — are told once, with the request to retry; a later round tells no one again. R11
func TestUnansweredLenderTellsAdmins(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.svc = escrow.New(e.db, escrow.Options{Clock: e.clock, Config: trade.DefaultConfig(), Accounts: railtest.Accounts(),
			Credit: escrow.CreditOptions{Lender: downLender{credit.NewBuiltIn()}}})
		must(e.svc.ApplyForCredit(e.ctx, e.actors["buyer"], e.key(), e.creditApplication()))
		for range escrow.LenderAttemptsMax - 1 {
			e.workers()
			e.expectMoney() // an attempt without an answer is retried: no one must act yet
			e.clock.Advance(escrow.BankDebitBackoffMax)
		}
		e.workers() // the last attempt
		r := must(e.svc.LenderRequests(e.ctx, e.admin, escrow.LenderFilter{Kind: escrow.LenderDecision}))[0]
		if r.Status != escrow.LenderAttention || r.Attempts != escrow.LenderAttemptsMax {
			t.Fatalf("the request is %s after %d attempts", r.Status, r.Attempts)
		}
		e.expectMoney("admin:lender_attention")
		m := find2(e.sink.messages(), "admin@people.test", "Pay Later lender request "+notify.ShortRef(r.ID)+" needs an operator")
		if len(m) != 1 || !strings.Contains(m[0].Body, "/v1/credit/lender-requests/"+r.ID+"/retry") ||
			!strings.Contains(m[0].Body, "lender unavailable: 503") || !strings.Contains(m[0].Body, "8 times") ||
			!strings.Contains(m[0].Body, "Open it on the Operations page: "+baseURL+"/admin/operations#lender-requests") {
			t.Fatalf("attention email: %+v", m)
		}
		e.clock.Advance(time.Hour)
		e.workers()
		e.run(e.notifier(), "w2")
		e.expectMoney("admin:lender_attention")
	})
}

// TestOverdueDisbursementTellsAdminsOnce: the lender's money arriving before the end of the 3rd
// US business day after the agreement tells no one; money still missing then tells the
// platform's admins — not the buyer — to chase the lender, once, linking the Operations page:
// not while a timer worker that claimed the deadline and crashed holds it, once after a restarted
// one fires it, and never again in later rounds or by a restarted notifier. The money arriving
// after that pays the order and tells no one more. R11 R21
func TestOverdueDisbursementTellsAdminsOnce(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		must(e.svc.ApplyForCredit(e.ctx, e.actors["buyer"], e.key(), e.creditApplication()))
		e.workers()
		base := []string{"buyer:credit_decided", "buyer_b:credit_decided"}
		e.expectMoney(base...)

		// On time: paid a minute before the deadline.
		l := e.awaitingLoan()
		due := *l.Disbursement.FundsDueAt
		e.clock.Set(due.Add(-time.Minute))
		e.lenderPaid(l)
		e.clock.Set(due)
		e.workers()
		e.expectMoney(base...)

		// Late: a timer worker claims the deadline and crashes; the process restarts.
		l = e.awaitingLoan()
		due = *l.Disbursement.FundsDueAt
		e.clock.Set(due.Add(-time.Second))
		e.workers()
		e.expectMoney(base...)
		e.clock.Set(due)
		if claimed := must(e.db.ClaimTimers(e.ctx, due, "doomed", escrow.TimerLease, 50)); len(claimed) == 0 {
			t.Fatal("nothing due at the deadline")
		}
		e.svc = escrow.New(e.db, escrow.Options{Clock: e.clock, Config: trade.DefaultConfig(), Accounts: railtest.Accounts()})
		e.workers()
		e.expectMoney(base...)
		e.clock.Advance(escrow.TimerLease + time.Second)
		e.workers()
		base = append(base, "admin:disbursement_overdue")
		e.expectMoney(base...)
		m := find2(e.sink.messages(), "admin@people.test", "Chase the lender: USD ")
		if len(m) != 1 || !strings.Contains(m[0].Body, l.Disbursement.PaymentReference) ||
			!strings.Contains(m[0].Body, "Open it on the Operations page: "+baseURL+"/admin/operations#lender-funds") {
			t.Fatalf("overdue email: %+v", m)
		}
		e.clock.Advance(24 * time.Hour)
		e.workers()
		e.run(e.notifier(), "w2")
		e.expectMoney(base...)

		// The money arrives after the notice: the order is paid, and no one is told more.
		e.lenderPaid(l)
		e.workers()
		e.expectMoney(base...)
		if got := must(e.svc.Loan(e.ctx, e.admin, l.ID)); got.State != credit.Disbursed || got.Disbursement.OverdueAt == nil {
			t.Fatalf("the loan after the late money: %s, %+v", got.State, got.Disbursement)
		}
	})
}
