package credit_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/calendar"
	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
)

var (
	fed = calendar.USFederal(2025, 2027)
	// t0 is a Wednesday, 10:00: the day of the worked example's agreement in these tests.
	t0     = time.Date(2025, 3, 5, 10, 0, 0, 0, time.UTC)
	lender = credit.NewBuiltIn()
)

func usd(minor int64) money.Amount { return money.New(minor, "USD") }

func revenue(minor int64) *money.Amount {
	a := usd(minor)
	return &a
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// application returns a complete application of a US business that qualifies: three years
// in business, US$400,000 a year.
func application() credit.Application {
	return credit.Application{
		ID: "app_1", BuyerID: "org_buyer", Channel: credit.InAdvance,
		Business: credit.Business{LegalName: "Acme Supplies LLC", EINLast4: "6789", Country: "US", State: "TX",
			Established: t0.AddDate(-3, 0, 0), Revenue: revenue(400_000_00)},
		Owner: credit.Owner{Name: "Dana Smith", Title: "Owner", BirthYear: 1980, SSNLast4: "1234"},
		Accounts: []credit.LinkedAccount{
			{Kind: credit.BusinessChecking, Institution: "First Bank", Mask: "4321"},
			{Kind: credit.Accounting, Institution: "Ledgerly"},
		},
		Consent:     credit.Consent{Given: true, At: t0.Add(-time.Minute), TextVersion: "2025-01"},
		SubmittedAt: t0,
		Status:      credit.Submitted,
	}
}

// openLine underwrites application() and opens its line, limited to limit when limit > 0.
func openLine(t testing.TB, limit int64) credit.Line {
	t.Helper()
	app := application()
	d, err := lender.Apply(app, credit.History{}, t0)
	if err != nil || d.Status != credit.DecisionApproved {
		t.Fatalf("apply: %+v %v", d, err)
	}
	if limit > 0 {
		d.Limit = usd(limit)
	}
	l, err := credit.OpenLine("line_1", app, d, t0)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// kit is one loan on one line, driven through its transitions; every effect is checked for
// balance and applied to a running set of ledger balances.
type kit struct {
	t        testing.TB
	line     credit.Line
	loan     *credit.Loan
	fx       credit.Effects
	balances ledger.Balances // real-money transfers
	book     ledger.Balances // loan book transfers
	seen     map[string]bool
}

// newKit offers principal over term on a fresh line at t0.
func newKit(t testing.TB, principal int64, term int) *kit {
	t.Helper()
	k := &kit{t: t, line: openLine(t, 0), balances: ledger.Balances{}, book: ledger.Balances{}, seen: map[string]bool{}}
	a, err := credit.Draw(k.line, credit.DrawRequest{OrderID: "ord_1", Amount: usd(principal), TermMonths: term}, t0, fed)
	if err != nil {
		t.Fatal(err)
	}
	if k.loan, err = credit.NewLoan("loan_1", k.line, "ord_1", lender.ID(), a); err != nil {
		t.Fatal(err)
	}
	// The order's escrow is funded by the disbursement only; seed nothing else.
	return k
}

// take records a transition's effects: every transfer balanced, IDs unique, balances moved.
func (k *kit) take(fx credit.Effects, err error) {
	k.t.Helper()
	if err != nil {
		k.t.Fatalf("%s: %v", k.loan.State, err)
	}
	k.fx = fx
	for _, tr := range fx.Transfers {
		if err := tr.Validate(); err != nil {
			k.t.Fatalf("transfer %s: %v", tr.ID, err)
		}
		k.unique(tr.ID)
		if err := k.balances.Apply(tr); err != nil {
			var neg *ledger.NegativeError
			if !errors.As(err, &neg) {
				k.t.Fatal(err)
			}
			k.t.Fatalf("transfer %s: %v", tr.ID, err)
		}
	}
	for _, tr := range fx.LoanBook {
		if err := tr.Validate(); err != nil {
			k.t.Fatalf("book transfer %s: %v", tr.ID, err)
		}
		k.unique(tr.ID)
		for _, e := range tr.Entries {
			k.book[e.Account.ID()] += e.Amount
		}
	}
	k.checkBook()
}

func (k *kit) unique(id string) {
	k.t.Helper()
	if k.seen[id] {
		k.t.Fatalf("transfer ID %s used twice", id)
	}
	k.seen[id] = true
}

// checkBook asserts the loan book mirrors the loan: the receivable equals Balance, the
// lender's funding is its opposite, and the line uses exactly the outstanding principal.
func (k *kit) checkBook() {
	k.t.Helper()
	rec := k.book[credit.ReceivableAccount(k.loan.ID).ID()]
	fund := k.book[credit.FundingAccount(lender.ID()).ID()]
	loss := k.book[credit.LossAccount(lender.ID()).ID()]
	if rec != k.loan.Balance().Minor {
		k.t.Fatalf("loan_receivable %d, loan balance %s", rec, k.loan.Balance())
	}
	if rec+fund+loss != 0 {
		k.t.Fatalf("loan book does not balance: receivable %d, funding %d, credit loss %d", rec, fund, loss)
	}
	if k.loan.DisbursedAt.IsZero() {
		return
	}
	if k.loan.State != credit.ChargedOff && k.line.Used != k.loan.PrincipalOutstanding() {
		k.t.Fatalf("line uses %s, loan owes principal %s", k.line.Used, k.loan.PrincipalOutstanding())
	}
}

func (k *kit) accept(at time.Time) {
	k.t.Helper()
	k.take(k.loan.Accept(credit.RoleBuyer, &k.line, at))
}
func (k *kit) disburse(at time.Time) {
	k.t.Helper()
	k.take(k.loan.Disburse(credit.RoleSystem, &k.line, at))
}
func (k *kit) debit(at time.Time, ok bool) {
	k.t.Helper()
	k.take(k.loan.Debit(credit.RoleSystem, &k.line, at, ok))
}

// funded returns a kit whose loan was accepted at t0 and disbursed when the timer fired.
func funded(t testing.TB, principal int64, term int) *kit {
	t.Helper()
	k := newKit(t, principal, term)
	k.accept(t0)
	k.disburse(k.loan.Agreement.DisbursementDue)
	return k
}

// due returns installment n's due date.
func (k *kit) due(n int) time.Time { return k.loan.Installments[n-1].DueDate }

// isReason reports whether err is a fault with this reason.
func isReason(err error, reason string) bool {
	return errors.Is(err, &fault.Error{Reason: reason})
}
