package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// disbursedLoan has the buyer finance an order's initial payment with Pay Later over three
// months, and the lender pay it into the order's escrow (R11).
func (w *world) disbursedLoan() escrow.LoanRecord {
	w.t.Helper()
	w.approve(500_000_00)
	return w.lenderPaidLoan()
}

// lenderPaidLoan has the buyer, whose line is open, finance another order's initial payment
// over three months, and the lender pay it into the order's escrow (R11).
func (w *world) lenderPaidLoan() escrow.LoanRecord {
	w.t.Helper()
	b := w.actors["buyer"]
	o := w.orderOf(b, 3000)
	_, err := w.svc.Do(w.ctx, b, w.key(), o.ID, trade.Pay{Installment: trade.Initial, Method: payment.PayLater})
	w.must("pay later", err)
	l, err := w.svc.OfferLoan(w.ctx, b, w.key(), o.ID, 3)
	w.must("offer", err)
	_, err = w.svc.AcceptLoan(w.ctx, b, w.key(), l.ID)
	w.must("accept", err)
	w.clock.Set(l.Agreement.DisbursementDue.Add(time.Minute))
	w.timers()
	w.lenderWorker()
	l, err = w.svc.Loan(w.ctx, w.admin, l.ID)
	w.must("loan", err)
	if l.State != credit.Disbursed {
		w.t.Fatalf("loan %s, want disbursed", l.State)
	}
	return l
}

// freshKey is the idempotency key of a form the admin has not posted: a new command.
func freshKey(t *testing.T, w *world, admin *client) string {
	t.Helper()
	path := "/admin/suppliers/" + w.supplierID()
	return formKey(t, admin.get(path).body, path+"/payout")
}

// creditApplication is the world's US buyer's application for a Pay Later line, in advance.
func creditApplication(w *world) credit.Application {
	now := w.clock.Now()
	rev := money.New(500_000_00, credit.USD)
	return credit.Application{Channel: credit.InAdvance,
		Business: credit.Business{LegalName: "Maple Kids Apparel Inc.", EINLast4: "6789", Country: "US", State: "NY",
			Established: now.AddDate(-3, 0, 0), Revenue: &rev},
		Owner:    credit.Owner{Name: "Pat Owner", BirthYear: 1980, SSNLast4: "1234"},
		Accounts: []credit.LinkedAccount{{Kind: credit.BusinessChecking, Institution: "First Bank", Mask: "4321"}},
		Consent:  credit.Consent{Given: true, At: now, TextVersion: "test"}}
}

// downBank is a buyer's bank that never answers: an outage.
type downBank struct{}

func (downBank) Debit(context.Context, escrow.BankDebit) (bool, error) {
	return false, errors.New("bank unavailable: 503")
}

// downLender is a lender that never answers: an outage.
type downLender struct{ credit.Lender }

func (downLender) Decide(context.Context, credit.DecisionRequest) (credit.Decision, error) {
	return credit.Decision{}, errors.New("lender unavailable: 503")
}

func (downLender) Disburse(context.Context, credit.DisbursementRequest) (credit.Disbursement, error) {
	return credit.Disbursement{}, errors.New("lender unavailable: 503")
}

// shortRail is a payout rail whose bank confirms a wire one cent short of the payout: an answer
// that does not fit.
type shortRail struct{}

func (shortRail) Name() string { return "shortbank" }

func (shortRail) Send(_ context.Context, in escrow.PayoutInstruction) (trade.PayoutResult, error) {
	return trade.PayoutResult{Outcome: trade.OutcomeSent, Amount: money.New(in.Amount.Minor-1, in.Amount.Currency),
		BankReference: "FT-SHORT", ValueDate: in.At}, nil
}

// outage runs a worker of a service over the world's database whose outside party is down, as
// often as it takes to give up, moving the clock past each backoff: what it asked about waits for
// an operator.
func (w *world) outage(opts escrow.Options, run func(*escrow.Service) (int, error)) {
	w.t.Helper()
	opts.Clock, opts.Config = w.clock, trade.DefaultConfig()
	down := escrow.New(w.db, opts)
	for range escrow.BankDebitAttemptsMax {
		_, err := run(down)
		w.must("worker during the outage", err)
		w.clock.Advance(escrow.BankDebitBackoffMax)
	}
}

// TestOperationsBankDebits ensures an admin handles Pay Later debits from the operations page
// (R11): a payoff debit waits for the bank's answer, listed with the buyer, the loan, the amount,
// the account and the reference the bank sees; an answer without a choice is refused next to
// it. After a bank outage the debit needs attention, with the bank worker's attempts and last
// error; asking the bank again (twice, applied once) puts it back among those waiting, and since
// no bank adapter runs here the flash says to record the answer; a second retry is refused at the
// top. Recording it paid (twice, applied once) pays the loan off.
func TestOperationsBankDebits(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		l := w.disbursedLoan()
		l, err := w.svc.PayOffLoan(w.ctx, w.actors["buyer"], w.key(), l.ID)
		w.must("pay off", err)
		d := l.BankDebit
		admin := w.login("admin")
		page := admin.get(opsPath)
		shows(t, "a debit waiting", page, "No bank adapter runs on this server", d.Amount.Display()+" from",
			"Maple Kids Apparel Inc.", "Early payoff of loan", `href="/credit/loans/`+l.ID+`"`, "Business checking ••••4321", d.ID,
			"Pay Later debits waiting for the bank's answer</a> (1)", "Pay Later debits needing attention</a> (0)")
		hides(t, "a debit waiting", page, "Ask the bank again", "Bank asked")
		result := opsPath + "/bank-debits/" + d.ID + "/result"
		res, _ := opsPost(t, admin, result, url.Values{})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("an answer without a choice: %d", res.status)
		}
		shows(t, "no choice", res, `<small id="f-debit-`+d.ID+`-error" class="field-error">Say whether the bank paid the debit or refused it.</small>`,
			`id="f-debit-`+d.ID+`-paid" name="paid" value="yes" aria-invalid="true" aria-describedby="f-debit-`+d.ID+`-error"`)

		w.outage(escrow.Options{Credit: escrow.CreditOptions{Bank: downBank{}}}, func(s *escrow.Service) (int, error) {
			return s.RunBankDebits(w.ctx, "down-bank-worker")
		})
		page = admin.get(opsPath)
		shows(t, "a debit needing attention", page, "Pay Later debits needing attention</a> (1)",
			"Pay Later debits waiting for the bank's answer</a> (0)", "Bank asked</dt><dd>8 times; last: bank unavailable: 503", "Ask the bank again")
		retry := opsPath + "/bank-debits/" + d.ID + "/retry"
		res, key := opsPost(t, admin, retry, url.Values{})
		if res.status != http.StatusSeeOther {
			t.Fatalf("ask the bank again: %d", res.status)
		}
		if again := admin.post(retry, url.Values{"idempotency_key": {key}}); again.status != http.StatusSeeOther {
			t.Fatalf("the same form again: %d", again.status)
		}
		page = admin.get(opsPath)
		shows(t, "after the retry", page, "Debit #"+d.ID[len(d.ID)-8:]+" waits for the bank's answer again: no bank adapter runs on this server",
			"Pay Later debits waiting for the bank's answer</a> (1)", "Pay Later debits needing attention</a> (0)")
		hides(t, "after the retry", page, "Bank asked")
		res = admin.post(retry, url.Values{"idempotency_key": {formKey(t, page.body, result)}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("a retry of a debit not in attention: %d", res.status)
		}
		shows(t, "a second retry", res, `<p class="form-error" role="alert">Debit #`+d.ID[len(d.ID)-8:]+`: The debit is requested, not waiting for an operator.</p>`)

		form := url.Values{"paid": {"yes"}}
		res, key = opsPost(t, admin, result, form)
		if res.status != http.StatusSeeOther {
			t.Fatalf("record paid: %d", res.status)
		}
		form.Set("idempotency_key", key)
		if again := admin.post(result, form); again.status != http.StatusSeeOther {
			t.Fatalf("the same form again: %d", again.status)
		}
		shows(t, "after recording", admin.get(opsPath), "recorded as paid: the repayment is on loan #"+l.ID[len(l.ID)-8:],
			"No debit waits for the bank's answer.", "No debit needs attention.")
		if l, err = w.svc.Loan(w.ctx, w.admin, l.ID); err != nil || l.State != credit.PaidOff {
			t.Fatalf("the loan after its payoff was paid: %s, %v", l.State, err)
		}
		rep, err := w.svc.CheckLedger(w.ctx)
		w.must("ledger check", err)
		if !rep.OK() {
			t.Fatalf("ledger: %v", rep.Violations)
		}
	})
}

// TestOperationsLenderRetry ensures an admin asks the lender again from the operations page for
// a request the lender never answered (R11): the application's decision request is listed with
// the buyer, the application, the lender worker's attempts and why it waits; asking again (twice,
// applied once) puts it back in the lender worker's hands with its attempts reset, and a second
// retry is refused at the top of the page.
func TestOperationsLenderRetry(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		res, err := w.svc.ApplyForCredit(w.ctx, w.actors["buyer"], w.key(), creditApplication(w))
		w.must("apply", err)
		w.outage(escrow.Options{Credit: escrow.CreditOptions{Lender: downLender{credit.NewBuiltIn()}}},
			func(s *escrow.Service) (int, error) { return s.RunLenderRequests(w.ctx, "down-lender-worker") })
		rs, err := w.svc.LenderRequests(w.ctx, w.admin, escrow.LenderFilter{Status: escrow.LenderAttention})
		w.must("lender requests", err)
		if len(rs) != 1 {
			t.Fatalf("%d requests in attention, want 1", len(rs))
		}
		r := rs[0]
		admin := w.login("admin")
		page := admin.get(opsPath)
		shows(t, "a request needing attention", page, "Lender requests needing attention</a> (1)",
			"A decision on the application of Maple Kids Apparel Inc.",
			`href="/credit/applications/`+res.Application.ID+`?buyer=`+w.actors["buyer"].OrgID+`"`, r.ID, "Lender asked</dt><dd>8 times",
			"lender unavailable: 503")
		retry := opsPath + "/lender-requests/" + r.ID + "/retry"
		post, key := opsPost(t, admin, retry, url.Values{})
		if post.status != http.StatusSeeOther {
			t.Fatalf("ask the lender again: %d", post.status)
		}
		if again := admin.post(retry, url.Values{"idempotency_key": {key}}); again.status != http.StatusSeeOther {
			t.Fatalf("the same form again: %d", again.status)
		}
		page = admin.get(opsPath)
		shows(t, "after the retry", page, "Lender request #"+r.ID[len(r.ID)-8:]+" goes back to the lender worker",
			"No lender request needs attention.")
		rs, err = w.svc.LenderRequests(w.ctx, w.admin, escrow.LenderFilter{ApplicationID: res.Application.ID})
		w.must("lender requests", err)
		if len(rs) != 1 || rs[0].Status != escrow.LenderRequested || rs[0].Attempts != 0 {
			t.Fatalf("after the retry: %+v", rs)
		}
		again := admin.post(retry, url.Values{"idempotency_key": {freshKey(t, w, admin)}})
		if again.status != http.StatusUnprocessableEntity {
			t.Fatalf("a retry of a request not in attention: %d", again.status)
		}
		shows(t, "a second retry", again, `<p class="form-error" role="alert">Lender request #`+r.ID[len(r.ID)-8:]+
			`: The request is requested, not waiting for an operator.</p>`)
	})
}

// TestOperationsPayoutAttention ensures a payout the payout rail answered with another amount
// waits for an operator, marked on the operations page with the rail's answer, and that the
// admin records the bank's real answer for it. R12
func TestOperationsPayoutAttention(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		p := w.requestedPayout()
		rail := escrow.New(w.db, escrow.Options{Clock: w.clock, Config: trade.DefaultConfig(),
			Payouts: escrow.PayoutOptions{Rail: shortRail{}}})
		_, err := rail.RunPayoutSends(w.ctx, "short-rail-worker")
		w.must("payout worker", err)
		admin := w.login("admin")
		page := admin.get(opsPath)
		shows(t, "a payout needing attention", page, "Needs you: the payout rail gave no usable answer after 1 attempt",
			"the rail's answer does not fit", "Payout rail asked</dt><dd>1 time<")
		action := opsPath + "/payouts/" + p.ID + "/sent"
		res, _ := opsPost(t, admin, action, url.Values{"amount": {"11600.00"}, "bank_reference": {"FT26061XYZ"},
			"value_date": {w.clock.Now().Format(time.DateOnly)}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("record as sent: %d", res.status)
		}
		got, err := w.svc.Payout(w.ctx, w.admin, p.ID)
		w.must("payout", err)
		if got.Status != trade.PayoutSent || got.Attention || got.BankReference != "FT26061XYZ" {
			t.Fatalf("after recording: %+v", got)
		}
		if strings.Contains(admin.get(opsPath).body, "Needs you") {
			t.Error("the answered payout is still marked")
		}
	})
}
