package credit

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
)

// StatementLoansMax bounds the loans one statement reads: a line of LimitMax in draws of
// PrincipalMin has at most 1,500 open at once.
const StatementLoansMax = 2_000

// Period is a calendar month in UTC, the span of one statement.
type Period struct {
	Year  int
	Month time.Month
}

// Start is the first instant of the period.
func (p Period) Start() time.Time { return time.Date(p.Year, p.Month, 1, 0, 0, 0, 0, time.UTC) }

// End is the first instant after the period.
func (p Period) End() time.Time { return p.Start().AddDate(0, 1, 0) }

func (p Period) String() string { return p.Start().Format("2006-01") }

// StatementLine is one posting on a statement, with the line's balance after it.
type StatementLine struct {
	At          time.Time    `json:"at"`
	LoanID      string       `json:"loan_id"`
	OrderID     string       `json:"order_id"`
	Kind        PostingKind  `json:"kind"`
	Installment int          `json:"installment,omitempty"`
	Description string       `json:"description"`
	Amount      money.Amount `json:"amount"` // signed: + raises what is owed, − lowers it
	Balance     money.Amount `json:"balance"`
}

// Statement is a line's monthly statement (R11): what was owed at the start of the month,
// what was drawn, the fees charged, the credits applied (the first-month fee credit shows
// here), the payments made (refunds routed to the lender included), what is owed at the end,
// and when the next payment is due.
type Statement struct {
	LineID   string       `json:"line_id"`
	BuyerID  string       `json:"buyer_id"`
	Period   Period       `json:"period"`
	Opening  money.Amount `json:"opening_balance"`
	Draws    money.Amount `json:"draws"`
	Fees     money.Amount `json:"fees"`
	Credits  money.Amount `json:"credits"`
	Payments money.Amount `json:"payments"`
	Closing  money.Amount `json:"closing_balance"`
	// NextDueDate is the earliest due date after the period of an installment still owed
	// (zero if none) and NextDueAmount what is due then; PastDue is what is overdue now.
	NextDueDate   time.Time       `json:"next_due_date"`
	NextDueAmount money.Amount    `json:"next_due_amount"`
	PastDue       money.Amount    `json:"past_due"`
	Lines         []StatementLine `json:"lines"`
}

// NewStatement builds the statement of a line for a period from its loans' postings. Loans of
// other lines are ignored. The next due date reflects the loans as given, so build the
// statement at the end of its period.
func NewStatement(line Line, loans []Loan, p Period) (Statement, error) {
	if len(loans) > StatementLoansMax {
		return Statement{}, fault.New(fault.Invalid, "too_many_loans", "a statement reads at most %d loans", StatementLoansMax)
	}
	st := Statement{LineID: line.ID, BuyerID: line.BuyerID, Period: p, Opening: usd(0), Draws: usd(0),
		Fees: usd(0), Credits: usd(0), Payments: usd(0), NextDueAmount: usd(0), PastDue: usd(0)}
	type item struct {
		loan *Loan
		p    Posting
	}
	var items []item
	for i := range loans {
		l := &loans[i]
		if l.LineID != line.ID {
			continue
		}
		for _, post := range l.Postings {
			switch {
			case post.At.Before(p.Start()):
				st.Opening = sum(st.Opening, post.Signed())
			case post.At.Before(p.End()):
				items = append(items, item{l, post})
			}
		}
		st.nextDue(l, p.End())
	}
	slices.SortFunc(items, func(a, b item) int {
		return cmp.Or(a.p.At.Compare(b.p.At), cmp.Compare(a.loan.ID, b.loan.ID), cmp.Compare(a.p.Seq, b.p.Seq))
	})
	balance := st.Opening
	for _, it := range items {
		balance = sum(balance, it.p.Signed())
		st.add(it.p)
		st.Lines = append(st.Lines, StatementLine{At: it.p.At, LoanID: it.loan.ID, OrderID: it.loan.OrderID,
			Kind: it.p.Kind, Installment: it.p.Installment, Description: describe(it.loan, it.p),
			Amount: it.p.Signed(), Balance: balance})
	}
	st.Closing = balance
	if sum(st.Opening, st.Draws, st.Fees, st.Credits.Neg(), st.Payments.Neg()) != st.Closing {
		panic("credit: statement totals do not add up")
	}
	return st, nil
}

func (st *Statement) add(p Posting) {
	switch p.Kind {
	case PostDraw:
		st.Draws = sum(st.Draws, p.Amount)
	case PostFee:
		st.Fees = sum(st.Fees, p.Amount)
	case PostCredit:
		st.Credits = sum(st.Credits, p.Amount)
	case PostPayment, PostRefund:
		st.Payments = sum(st.Payments, p.Amount)
	}
}

// nextDue folds a loan's owed installments into the next due date and the past-due amount.
func (st *Statement) nextDue(l *Loan, end time.Time) {
	if l.DisbursedAt.IsZero() || l.State.Terminal() {
		return
	}
	for _, in := range l.Installments {
		if in.Status != Scheduled && in.Status != Billed {
			continue
		}
		switch {
		case in.DueDate.Before(end) && l.State == PastDue:
			st.PastDue = sum(st.PastDue, in.remaining())
		case in.DueDate.Before(end):
		case st.NextDueDate.IsZero() || in.DueDate.Before(st.NextDueDate):
			st.NextDueDate, st.NextDueAmount = in.DueDate, in.remaining()
		case in.DueDate.Equal(st.NextDueDate):
			st.NextDueAmount = sum(st.NextDueAmount, in.remaining())
		}
	}
}

func describe(l *Loan, p Posting) string {
	switch p.Kind {
	case PostDraw:
		return fmt.Sprintf("Loan for order %s, %d months", l.OrderID, l.Agreement.TermMonths)
	case PostFee:
		return fmt.Sprintf("Monthly fee, installment %d at %s", p.Installment, l.Installments[p.Installment-1].Rate)
	case PostCredit:
		return fmt.Sprintf("First-month fee credit, installment %d", p.Installment)
	case PostPayment:
		return "Payment"
	case PostRefund:
		return fmt.Sprintf("Refund of order %s applied to the loan", l.OrderID)
	}
	return string(p.Kind)
}

// CSV renders the statement as one table, header first: an opening_balance row, one row per
// posting with its signed amount and the running balance, a closing_balance row, the totals
// (as positive amounts) and the next due payment. The same statement always gives the same
// bytes: dates are UTC, amounts plain decimals, lines "\n"-terminated.
func (st Statement) CSV() []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	date := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }
	last := st.Period.End().AddDate(0, 0, -1)
	rows := [][]string{
		{"date", "type", "loan_id", "order_id", "installment", "description", "amount", "balance"},
		{date(st.Period.Start()), "opening_balance", "", "", "", "Opening balance, line " + st.LineID + ", " + st.Period.String(), "", st.Opening.Decimal()},
	}
	for _, l := range st.Lines {
		n := ""
		if l.Installment > 0 {
			n = strconv.Itoa(l.Installment)
		}
		rows = append(rows, []string{date(l.At), string(l.Kind), l.LoanID, l.OrderID, n, l.Description, l.Amount.Decimal(), l.Balance.Decimal()})
	}
	rows = append(rows,
		[]string{date(last), "closing_balance", "", "", "", "Closing balance", "", st.Closing.Decimal()},
		[]string{"", "total_draws", "", "", "", "Draws", st.Draws.Decimal(), ""},
		[]string{"", "total_fees", "", "", "", "Fees", st.Fees.Decimal(), ""},
		[]string{"", "total_credits", "", "", "", "Credits", st.Credits.Decimal(), ""},
		[]string{"", "total_payments", "", "", "", "Payments", st.Payments.Decimal(), ""},
	)
	if st.PastDue.IsPositive() {
		rows = append(rows, []string{"", "past_due", "", "", "", "Past due", st.PastDue.Decimal(), ""})
	}
	if !st.NextDueDate.IsZero() {
		rows = append(rows, []string{st.NextDueDate.Format(time.DateOnly), "next_due", "", "", "", "Next payment due", st.NextDueAmount.Decimal(), ""})
	}
	if err := w.WriteAll(rows); err != nil {
		panic("credit: write statement csv: " + err.Error()) // a bytes.Buffer does not fail
	}
	return buf.Bytes()
}
