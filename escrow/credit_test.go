package escrow_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

func dollars(minor int64) money.Amount { return money.New(minor, credit.USD) }

// application is a complete application of a business in country with revenue, started
// years ago.
func (e *env) application(country string, revenue money.Amount, years int) credit.Application {
	now := e.clock.Now()
	state := ""
	if country == credit.Country {
		state = "NY"
	}
	return credit.Application{Channel: credit.InAdvance,
		Business: credit.Business{LegalName: "Buyer Co", EINLast4: "6789", Country: country, State: state,
			Established: now.AddDate(-years, 0, -1), Revenue: &revenue},
		Owner:    credit.Owner{Name: "Pat Owner", Title: "CEO", BirthYear: 1980, SSNLast4: "1234"},
		Accounts: []credit.LinkedAccount{{Kind: credit.BusinessChecking, Institution: "First Bank", Mask: "4321"}},
		Consent:  credit.Consent{Given: true, At: now, TextVersion: "2025-01"}}
}

// approve gives the buyer a line of 20% of revenue, at most US$150,000: it applies and lets the
// lender worker decide.
func (e *env) approve(revenue int64) credit.Line {
	e.t.Helper()
	app := e.decided(e.application("US", dollars(revenue), 3))
	if app.Status != credit.Approved {
		e.t.Fatalf("application %s: %+v", app.Status, app.Decision)
	}
	return e.line()
}

// decided submits app for the buyer, checks it waits as submitted, lets the lender worker
// decide it, and returns it as recorded.
func (e *env) decided(app credit.Application) credit.Application {
	e.t.Helper()
	res := must(e.svc.ApplyForCredit(e.ctx, e.buyer, e.key(), app))
	if res.Application.Status != credit.Submitted || res.Line != nil || res.Application.Decision != nil {
		e.t.Fatalf("applied: %s, line %v", res.Application.Status, res.Line)
	}
	if got := e.application1(res.Application.ID); got.Status != credit.Submitted {
		e.t.Fatalf("before the lender answered: %s", got.Status)
	}
	e.lenderDecides()
	return e.application1(res.Application.ID)
}

// lenderDecides runs the lender worker until nothing is left to ask; it returns how many requests it
// claimed.
func (e *env) lenderDecides() int {
	e.t.Helper()
	total := 0
	for {
		n := must(e.svc.RunLenderRequests(e.ctx, "lender-1"))
		if n == 0 {
			return total
		}
		total += n
	}
}

// application1 returns the buyer's application by ID.
func (e *env) application1(id string) credit.Application {
	e.t.Helper()
	for _, a := range must(e.svc.CreditApplications(e.ctx, e.admin, e.buyer.OrgID)) {
		if a.ID == id {
			return a
		}
	}
	e.t.Fatalf("no application %s", id)
	return credit.Application{}
}

// financed places and confirms an order of buyer b in cur, 100% up front, and issues Pay Later
// payment instructions for it: total 1,000 × unitPrice.
func (e *env) financed(b trade.Actor, cur money.Currency, unitPrice int64) (*trade.Order, error) {
	e.t.Helper()
	c := contract(e.clock.Now(), unitPrice)
	c.Currency, c.Terms.InitialBP = cur, 10_000
	o := must(e.svc.Place(e.ctx, b, e.key(), trade.Place{SupplierID: e.supplier.OrgID, Currency: cur,
		ShipBy: c.ShipBy, ComplianceConfirmed: true}))
	o = e.do(b, o, trade.BookInspection{InspectorID: e.inspect.OrgID})
	o = e.do(e.supplier, o, trade.ProposeContract{Contract: c})
	o = e.do(b, o, trade.ConfirmContract{Hash: o.Proposal.Hash})
	return e.svc.Do(e.ctx, b, e.key(), o.ID, trade.Pay{Installment: trade.Initial, Method: payment.PayLater})
}

func (e *env) line() credit.Line {
	e.t.Helper()
	return must(e.svc.CreditLine(e.ctx, e.buyer, ""))
}

func (e *env) loan(id string) escrow.LoanRecord {
	e.t.Helper()
	return must(e.svc.Loan(e.ctx, e.admin, id))
}

// setFailing makes the sandbox bank refuse the buyer's debits, or pay them again.
func (e *env) setFailing(fail bool) {
	e.t.Helper()
	sb := escrow.NewSandboxBank(e.db, e.clock) // the settings are the database's, shared by every process
	if err := sb.SetFailing(e.ctx, e.buyer.OrgID, fail); err != nil {
		e.t.Fatal(err)
	}
}

// bankDebits lists the debits the sandbox bank paid, oldest first.
func (e *env) bankDebits() []escrow.BankDebit {
	e.t.Helper()
	return must(escrow.NewSandboxBank(e.db, e.clock).Debits(e.ctx))
}

// checkLoanBook fails unless the ledger's loan book agrees with the loan: its receivable is the
// loan's balance, and the line uses what the line's loans have outstanding. R11
func (e *env) checkLoanBook(l escrow.LoanRecord) {
	e.t.Helper()
	l = e.loan(l.ID)
	if got := e.balance(receivable(l.ID)); got != l.Balance().Minor {
		e.t.Fatalf("loan %s: receivable %d, balance %s", l.ID, got, l.Balance())
	}
	var used int64
	for _, x := range must(e.svc.Loans(e.ctx, e.admin, l.BuyerID)) {
		used += x.PrincipalOutstanding().Minor
	}
	if line := e.line(); line.Used.Minor != used {
		e.t.Fatalf("line uses %s, its loans have %d outstanding", line.Used, used)
	}
	e.checkLedger()
}

func receivable(loanID string) ledger.Account {
	return ledger.Account{Kind: ledger.LoanReceivable, Owner: loanID, Currency: credit.USD}
}

var (
	lenderClearing  = credit.LenderClearing()
	sandboxClearing = trade.SandboxAccount("USD")
	funding         = ledger.Account{Kind: ledger.LenderFunding, Owner: "builtin", Currency: credit.USD}
	// Wednesday November 26, 2025, 10:00 in New York: the day before Thanksgiving.
	agreedAt = time.Date(2025, 11, 26, 15, 0, 0, 0, time.UTC)
	// Two US business days later, across Thanksgiving and a weekend: Monday December 1.
	disbursedAt = time.Date(2025, 12, 1, 15, 0, 0, 0, time.UTC)
	// The first due date, Friday December 26, 2025, at midnight in New York.
	firstDue = time.Date(2025, 12, 26, 5, 0, 0, 0, time.UTC)
)

// disbursed drives a US$10,000 order through Pay Later to the lender's payment: apply, pay
// with pay_later, accept a six-month agreement on agreedAt, and let the disbursement timer fire.
func (e *env) disbursed() (*trade.Order, escrow.LoanRecord) {
	e.t.Helper()
	e.clock.Set(agreedAt)
	e.approve(500_000_00)
	o := must(e.financed(e.buyer, "USD", 10_00))
	l := must(e.svc.OfferLoan(e.ctx, e.buyer, e.key(), o.ID, 6))
	l = must(e.svc.AcceptLoan(e.ctx, e.buyer, e.key(), l.ID))
	e.clock.Set(disbursedAt)
	e.timers()
	return e.reload(o), e.loan(l.ID)
}

// TestPayLaterApplication ensures a buyer applies for a line in advance: the application waits as
// submitted until the lender worker records the built-in lender's decision; an approval opens a
// line of 20% of revenue rounded down to US$500, with its reasons; a decline lists every failed
// rule and opens nothing; revenue in another currency is refused; a buyer has one line and one
// application being decided at a time. R11
func TestPayLaterApplication(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		res := e.decided(e.application("US", dollars(40_000_00), 0))
		d := res.Decision
		if res.Status != credit.Declined || d == nil {
			t.Fatalf("young small business: %s", res.Status)
		}
		var codes []string
		for _, r := range d.Reasons {
			codes = append(codes, r.Code)
		}
		if !slices.Equal(codes, []string{"years_in_business_below_minimum", "revenue_below_minimum"}) {
			t.Errorf("decline reasons %v", codes)
		}
		if _, err := e.svc.CreditLine(e.ctx, e.buyer, ""); fault.ReasonOf(err) != "credit_line_not_found" {
			t.Fatalf("a decline opened a line: %v", err)
		}
		euros := e.application("US", money.New(500_000_00, "EUR"), 3)
		if _, err := e.svc.ApplyForCredit(e.ctx, e.buyer, e.key(), euros); fault.ReasonOf(err) != credit.ReasonUSDOnly {
			t.Fatalf("revenue in EUR: %v, want %s", err, credit.ReasonUSDOnly)
		}
		pending := must(e.svc.ApplyForCredit(e.ctx, e.buyer, e.key(), e.application("US", dollars(123_456_78), 3)))
		if _, err := e.svc.ApplyForCredit(e.ctx, e.buyer, e.key(), e.application("US", dollars(900_000_00), 3)); fault.ReasonOf(err) != "credit_application_pending" {
			t.Fatalf("a second application while one is decided: %v", err)
		}
		if n := e.events(e.buyer.OrgID, "credit.application_submitted"); n != 2 {
			t.Errorf("%d application_submitted events", n)
		}
		e.lenderDecides()
		if got := e.application1(pending.Application.ID); got.Status != credit.Approved {
			t.Fatalf("decided: %s", got.Status)
		}
		line := e.line()
		if line.Limit != dollars(24_500_00) || line.Available() != dollars(24_500_00) || line.Status != credit.LineActive {
			t.Fatalf("line %+v, want a US$24,500 limit", line)
		}
		again := e.application("US", dollars(900_000_00), 5)
		if _, err := e.svc.ApplyForCredit(e.ctx, e.buyer, e.key(), again); fault.ReasonOf(err) != "credit_line_exists" {
			t.Fatalf("a second line: %v", err)
		}
		apps := must(e.svc.CreditApplications(e.ctx, e.buyer, ""))
		if len(apps) != 2 || apps[0].Status != credit.Approved {
			t.Fatalf("%d applications, newest %s", len(apps), apps[0].Status)
		}
		if _, err := e.svc.ApplyForCredit(e.ctx, e.supplier, e.key(), again); fault.ReasonOf(err) != "role_not_allowed" {
			t.Fatalf("a supplier applied: %v", err)
		}
		reqs := must(e.svc.LenderRequests(e.ctx, e.admin, escrow.LenderFilter{Kind: escrow.LenderDecision}))
		if len(reqs) != 2 || reqs[0].Status != escrow.LenderRecorded || len(reqs[0].Answer) == 0 || reqs[0].Attempts != 1 {
			t.Fatalf("decision requests %+v", reqs)
		}
		e.checkLedger()
	})
}

// TestPayLaterEligibility ensures Pay Later is refused with a clear reason for a buyer outside
// the US (pay_later_us_only), an order in another currency than USD (pay_later_usd_only), and a
// US buyer without a line (pay_later_requires_credit_line). R11
func TestPayLaterEligibility(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		if _, err := e.financed(e.buyer, "USD", 10_00); fault.ReasonOf(err) != "pay_later_requires_credit_line" {
			t.Fatalf("without a line: %v", err)
		}
		e.approve(500_000_00)
		if _, err := e.financed(e.buyer, "EUR", 10_00); fault.ReasonOf(err) != credit.ReasonUSDOnly {
			t.Fatalf("an order in EUR: %v, want %s", err, credit.ReasonUSDOnly)
		}
		de := e.org(trade.KindBuyer, "Berlin Kinder GmbH", "DE")
		german := trade.Actor{Role: trade.RoleBuyer, OrgID: de.ID, UserID: "de"}
		if _, err := e.financed(german, "USD", 10_00); fault.ReasonOf(err) != credit.ReasonUSOnly {
			t.Fatalf("a German buyer: %v, want %s", err, credit.ReasonUSOnly)
		}
		if _, err := e.financed(e.buyer, "USD", 200_00); fault.ReasonOf(err) != credit.ReasonLimitExceeded {
			t.Fatalf("US$200,000 on a US$100,000 line: %v", err) // refused before instructions block the order
		}
		if _, err := e.financed(e.buyer, "USD", 9); fault.ReasonOf(err) != credit.ReasonInvalidAmount {
			t.Fatalf("US$90: %v", err)
		}
		o := must(e.financed(e.buyer, "USD", 10_00))
		p := o.Payments[0]
		if p.Method != payment.PayLater || p.Status != trade.PaymentPending || p.Fee != 0 || p.Total != 10_000_00 {
			t.Fatalf("payment %+v", p)
		}
		for _, tm := range must(e.svc.Timers(e.ctx, o.ID)) {
			if tm.Kind == trade.TimerSandboxSettle {
				t.Fatalf("the sandbox rail would deliver the lender's money: %+v", tm)
			}
		}
		if _, err := e.svc.OfferLoan(e.ctx, e.buyer, e.key(), o.ID, 7); fault.ReasonOf(err) != credit.ReasonInvalidTerm {
			t.Fatalf("a seven-month term: %v", err)
		}
	})
}

// TestPayLaterFlow ensures the whole financed payment: the agreement is the docs' six-month
// example; accepting reserves the credit and leaves the payment pending; the disbursement timer
// fires 2 US business days later, across Thanksgiving and a weekend, and only then is the order
// paid, through the rail's own matching; the first due date's automatic debit applies the
// first-month credit, which shows on the statement; paying off the next day costs the principal
// left and month 2's fee, and gives the credit back. R11, R21
func TestPayLaterFlow(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.clock.Set(agreedAt)
		line := e.approve(500_000_00) // US$100,000
		o := must(e.financed(e.buyer, "USD", 10_00))
		offer := must(e.svc.OfferLoan(e.ctx, e.buyer, e.key(), o.ID, 6))
		want := []int64{1_766_67, 1_866_67, 1_716_67, 1_716_67, 1_716_67, 1_716_65}
		for i, in := range offer.Agreement.Installments {
			if in.Total != dollars(want[i]) {
				t.Errorf("installment %d debits %s, want %s (docs/pay-later.md)", in.N, in.Total, dollars(want[i]))
			}
		}
		if a := offer.Agreement; a.NetFees != dollars(500_00) || a.TotalCost != dollars(10_500_00) || a.CreditApplied != dollars(100_00) {
			t.Errorf("net fees %s, total cost %s, credit %s", a.NetFees, a.TotalCost, a.CreditApplied)
		}
		if e.line().Reserved.IsPositive() {
			t.Fatal("an offer reserved credit")
		}
		l := must(e.svc.AcceptLoan(e.ctx, e.buyer, e.key(), offer.ID))
		if l.State != credit.Agreed || e.line().Reserved != dollars(10_000_00) || e.line().Available() != dollars(90_000_00) {
			t.Fatalf("after accepting: loan %s, line %+v", l.State, e.line())
		}
		var due time.Time
		for _, tm := range must(e.svc.Timers(e.ctx, l.ID)) { // a loan's timers are filed under the loan
			if tm.Kind == trade.TimerKind(credit.TimerDisburse) {
				due = tm.DueAt
			}
		}
		if !due.Equal(disbursedAt) {
			t.Fatalf("disbursement timer at %s, want %s (Monday after Thanksgiving)", due, disbursedAt)
		}
		for _, at := range []time.Time{time.Date(2025, 11, 28, 15, 0, 0, 0, time.UTC), disbursedAt.Add(-time.Second)} {
			e.clock.Set(at)
			e.timers()
			if o = e.reload(o); o.State != trade.Confirmed || o.Payments[0].Status != trade.PaymentPending {
				t.Fatalf("at %s the order is %s, payment %s: paid before the lender paid", at, o.State, o.Payments[0].Status)
			}
		}
		e.clock.Set(disbursedAt)
		e.timers()
		o, l = e.reload(o), e.loan(l.ID)
		if o.State != trade.InProduction || o.Money.Paid != 10_000_00 || o.Payments[0].Status != trade.PaymentReceived {
			t.Fatalf("after the disbursement: %s, paid %d, payment %s", o.State, o.Money.Paid, o.Payments[0].Status)
		}
		if l.State != credit.Disbursed || !l.DisbursedAt.Equal(disbursedAt) {
			t.Fatalf("loan %s disbursed at %s", l.State, l.DisbursedAt)
		}
		if got := e.line(); got.Used != dollars(10_000_00) || got.Reserved.IsPositive() {
			t.Fatalf("line after the disbursement %+v", got)
		}
		esc := ledger.Account{Kind: ledger.Escrow, Owner: o.ID, Currency: "USD"}
		// A sandbox server: the sandbox paid for the lender, from its own clearing account.
		if e.balance(esc) != 10_000_00 || e.balance(sandboxClearing) != 10_000_00 || e.balance(lenderClearing) != 0 ||
			e.balance(receivable(l.ID)) != 10_000_00 || e.balance(funding) != 10_000_00 {
			t.Fatalf("escrow %d, sandbox clearing %d, lender clearing %d, receivable %d, funding %d", e.balance(esc),
				e.balance(sandboxClearing), e.balance(lenderClearing), e.balance(receivable(l.ID)), e.balance(funding))
		}
		e.checkLedger()

		// The first due date: installment 1 with the first-month credit.
		e.clock.Set(firstDue)
		e.timers()
		l = e.loan(l.ID)
		if l.State != credit.Active || l.Installments[0].Status != credit.Paid || e.balance(receivable(l.ID)) != 8_333_33 {
			t.Fatalf("after the first debit: %s, installment 1 %s, receivable %d", l.State, l.Installments[0].Status, e.balance(receivable(l.ID)))
		}
		if ds := e.bankDebits(); len(ds) != 1 || ds[0].Amount != dollars(1_766_67) {
			t.Fatalf("bank debits %+v, want one of 1,766.67", ds)
		}
		if got := e.line(); got.Used != dollars(8_333_33) || got.Available() != dollars(91_666_67) {
			t.Fatalf("line after the first debit %+v", got)
		}
		e.checkLoanBook(l)
		st := must(e.svc.CreditStatement(e.ctx, e.buyer, "", credit.Period{Year: 2025, Month: time.December}))
		if st.Draws != dollars(10_000_00) || st.Fees != dollars(200_00) || st.Credits != dollars(100_00) ||
			st.Payments != dollars(1_766_67) || st.Closing != dollars(8_333_33) || st.NextDueAmount != dollars(1_866_67) {
			t.Fatalf("December statement %+v", st)
		}
		if csv := string(st.CSV()); !strings.Contains(csv, "2025-12-26,credit,"+l.ID+","+o.ID+",1,\"First-month fee credit, installment 1\",-100.00,10100.00\n") {
			t.Fatalf("the statement does not show the first-month credit:\n%s", csv)
		}

		// Early payoff the next day: month 2 has begun, so its fee is owed; months 3-6 cost nothing.
		e.clock.Set(firstDue.AddDate(0, 0, 1).Add(time.Hour))
		if q := l.Quote(e.clock.Now()); q != dollars(8_533_33) {
			t.Fatalf("payoff quote %s, want 8,533.33", q)
		}
		// The payoff is requested: the loan shows it pending and nothing moves until the bank
		// worker has the bank's answer (the debit outbox).
		l = must(e.svc.PayOffLoan(e.ctx, e.buyer, e.key(), l.ID))
		if d := l.BankDebit; l.State != credit.Active || d == nil || d.Kind != escrow.DebitPayoff ||
			d.Status != escrow.DebitRequested || d.Amount != dollars(8_533_33) || d.AccountLast4 != "4321" ||
			e.balance(receivable(l.ID)) != 8_333_33 || len(e.bankDebits()) != 1 {
			t.Fatalf("payoff requested: %s, debit %+v, receivable %d", l.State, l.BankDebit, e.balance(receivable(l.ID)))
		}
		e.clock.Advance(time.Minute)
		e.timers() // the bank worker asks the bank and records its answer
		l = e.loan(l.ID)
		if d := l.BankDebit; d == nil || d.Status != escrow.DebitSucceeded || d.RecordedAt == nil {
			t.Fatalf("payoff debit after the worker: %+v", d)
		}
		if l.State != credit.PaidOff || e.balance(receivable(l.ID)) != 0 || e.balance(funding) != 0 {
			t.Fatalf("after payoff: %s, receivable %d", l.State, e.balance(receivable(l.ID)))
		}
		if got := e.line(); got.Used.IsPositive() || got.Available() != line.Limit {
			t.Fatalf("line after payoff %+v", got)
		}
		if ds := e.bankDebits(); len(ds) != 2 || ds[1].Amount != dollars(8_533_33) {
			t.Fatalf("bank debits %+v", ds)
		}
		// The remaining debit timers find nothing to collect.
		e.clock.Set(time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC))
		e.timers()
		if got := e.loan(l.ID); got.State != credit.PaidOff || got.Version != l.Version || len(e.bankDebits()) != 2 {
			t.Fatalf("a debit after payoff: %s v%d", got.State, got.Version)
		}
		if _, err := e.svc.PayOffLoan(e.ctx, e.buyer, e.key(), l.ID); fault.ReasonOf(err) != credit.ReasonNotAllowed {
			t.Fatalf("paying off twice: %v", err)
		}
		e.checkLedger()
	})
}

// TestPayLaterConcurrentDraws ensures concurrent acceptances on one line never pass its
// US$150,000 limit: four agreements of US$60,000 race, two win, the others are refused with
// credit_limit_exceeded, and the lender pays exactly the two. R11
func TestPayLaterConcurrentDraws(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.clock.Set(agreedAt)
		line := e.approve(2_000_000_00)
		if line.Limit != credit.LimitMax {
			t.Fatalf("limit %s, want the US$150,000 cap", line.Limit)
		}
		var offers []escrow.LoanRecord
		for range 4 {
			o := must(e.financed(e.buyer, "USD", 60_00))
			offers = append(offers, must(e.svc.OfferLoan(e.ctx, e.buyer, e.key(), o.ID, 3)))
		}
		var wg sync.WaitGroup
		errs := make([]error, len(offers))
		for i, l := range offers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = e.svc.AcceptLoan(e.ctx, e.buyer, fmt.Sprintf("accept-%d", i), l.ID)
			}()
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case fault.ReasonOf(err) != credit.ReasonLimitExceeded:
				t.Fatalf("a loser failed with %v, want %s", err, credit.ReasonLimitExceeded)
			}
		}
		if got := e.line(); wins != 2 || got.Reserved != dollars(120_000_00) || got.Used.Minor+got.Reserved.Minor > credit.LimitMax.Minor {
			t.Fatalf("%d acceptances won, line %+v", wins, got)
		}
		e.clock.Set(disbursedAt)
		e.timers()
		if got := e.line(); got.Used != dollars(120_000_00) || got.Reserved.IsPositive() {
			t.Fatalf("line after the disbursements %+v", got)
		}
		for _, l := range offers {
			e.checkLoanBook(l)
		}
	})
}

// TestPayLaterMissedDebit ensures a refused automatic debit on a due date makes the loan past
// due and freezes the line, so no new Pay Later payment is accepted; the next due date's debit
// collects both installments, cures the loan and restores the repaid principal. R11, R21
func TestPayLaterMissedDebit(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		_, l := e.disbursed()
		e.setFailing(true)
		e.clock.Set(firstDue)
		e.timers()
		l = e.loan(l.ID)
		e.checkLoanBook(l)
		if l.State != credit.PastDue || e.line().Status != credit.LineFrozen || e.line().Used != dollars(10_000_00) {
			t.Fatalf("after a refused debit: loan %s, line %+v", l.State, e.line())
		}
		if _, err := e.financed(e.buyer, "USD", 5_00); fault.ReasonOf(err) != credit.ReasonLineFrozen {
			t.Fatalf("a new Pay Later payment on a frozen line: %v", err)
		}
		st := must(e.svc.CreditStatement(e.ctx, e.buyer, "", credit.Period{Year: 2025, Month: time.December}))
		if st.PastDue != dollars(1_766_67) || st.Fees != dollars(200_00) || st.Credits != dollars(100_00) {
			t.Fatalf("statement past due %s, fees %s, credits %s", st.PastDue, st.Fees, st.Credits)
		}
		e.setFailing(false)
		e.clock.Set(time.Date(2026, 1, 26, 5, 0, 0, 0, time.UTC)) // the second due date
		e.timers()
		l = e.loan(l.ID)
		if l.State != credit.Active || e.line().Status != credit.LineActive || e.line().Used != dollars(6_666_66) {
			t.Fatalf("after the next debit: loan %s, line %+v", l.State, e.line())
		}
		if ds := e.bankDebits(); len(ds) != 1 || ds[0].Amount != dollars(3_633_34) {
			t.Fatalf("bank debits %+v, want one of 1,766.67 + 1,866.67", ds)
		}
		e.checkLoanBook(l)
	})
}

// TestPayLaterRefund ensures the refund of a financed order repays the loan first: a late
// order refunded in full sends what the loan still owes back to the lender, pays it off and
// frees the credit; only the rest stays refundable to the buyer. R11, R13
func TestPayLaterRefund(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o, l := e.disbursed()
		e.clock.Set(firstDue)
		e.timers() // installment 1 is repaid: 8,333.33 of principal is left
		e.clock.Set(o.Deadline().Add(time.Hour))
		e.timers()
		if o = e.reload(o); o.State != trade.Late {
			t.Fatalf("state %s, want late", o.State)
		}
		o = e.do(e.buyer, o, trade.Refund{})
		l = e.loan(l.ID)
		refundable := ledger.Account{Kind: ledger.BuyerRefundable, Owner: e.buyer.OrgID, Currency: "USD"}
		if o.State != trade.Refunded || l.State != credit.PaidOff {
			t.Fatalf("order %s, loan %s", o.State, l.State)
		}
		if got := e.balance(refundable); got != 1_666_67 {
			t.Fatalf("the buyer may withdraw %d, want 166667: the loan is repaid first", got)
		}
		// The sandbox's simulated loan is repaid to the sandbox's clearing account, never the lender's.
		if e.balance(sandboxClearing) != 1_666_67 || e.balance(lenderClearing) != 0 || e.balance(receivable(l.ID)) != 0 ||
			e.line().Used.IsPositive() {
			t.Fatalf("sandbox clearing %d, lender clearing %d, receivable %d, line %+v", e.balance(sandboxClearing),
				e.balance(lenderClearing), e.balance(receivable(l.ID)), e.line())
		}
		if last := l.Postings[len(l.Postings)-1]; last.Kind != credit.PostRefund || last.Amount != dollars(8_333_33) {
			t.Fatalf("last posting %+v, want a refund of 8,333.33", last)
		}
		e.checkLoanBook(l)
	})
}

// TestPayLaterCancelledOrder ensures an accepted agreement whose order is cancelled before the
// lender pays is cancelled by the disbursement timer: no money moves and the reservation is
// given back. R11, R21
func TestPayLaterCancelledOrder(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.clock.Set(agreedAt)
		e.approve(500_000_00)
		o := must(e.financed(e.buyer, "USD", 10_00))
		l := must(e.svc.OfferLoan(e.ctx, e.buyer, e.key(), o.ID, 2))
		l = must(e.svc.AcceptLoan(e.ctx, e.buyer, e.key(), l.ID))
		// A second offer may be made, but one payment is financed once.
		second := must(e.svc.OfferLoan(e.ctx, e.buyer, e.key(), o.ID, 3))
		if _, err := e.svc.AcceptLoan(e.ctx, e.buyer, e.key(), second.ID); fault.ReasonOf(err) != "payment_already_financed" {
			t.Fatalf("a second agreement for one payment: %v", err)
		}
		o = e.do(e.buyer, o, trade.Cancel{Reason: "changed our mind"})
		e.clock.Set(disbursedAt)
		e.timers()
		if got := e.loan(l.ID); got.State != credit.LoanCancelled || e.line().Reserved.IsPositive() || e.reload(o).Money.Paid != 0 {
			t.Fatalf("loan %s, line %+v, timers %+v", got.State, e.line(), must(e.svc.Timers(e.ctx, o.ID)))
		}
		e.checkLedger()
	})
}
