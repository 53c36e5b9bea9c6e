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

// Period is a calendar month in UTC, the span of one statement: it opens at 00:00 UTC on the
// 1st and closes at 00:00 UTC on the 1st of the next month, when the line's statement timer
// closes and stores it. In JSON it is "YYYY-MM".
type Period struct {
	Year  int
	Month time.Month
}

// The years a statement period may name.
const (
	PeriodYearMin = 2000
	PeriodYearMax = 9999
)

// ParsePeriod reads a period written YYYY-MM.
func ParsePeriod(s string) (Period, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || t.Year() < PeriodYearMin || t.Year() > PeriodYearMax {
		return Period{}, fault.FieldErr("period", "invalid_period", "give the month as YYYY-MM")
	}
	return Period{Year: t.Year(), Month: t.Month()}, nil
}

// PeriodOf is the period that contains t.
func PeriodOf(t time.Time) Period {
	u := t.UTC()
	return Period{Year: u.Year(), Month: u.Month()}
}

// Next is the period after p.
func (p Period) Next() Period { return PeriodOf(p.End()) }

// Valid reports whether p names a month of a year ParsePeriod accepts.
func (p Period) Valid() bool {
	return p.Month >= time.January && p.Month <= time.December && p.Year >= PeriodYearMin && p.Year <= PeriodYearMax
}

// MarshalText writes the period as YYYY-MM.
func (p Period) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a period written YYYY-MM.
func (p *Period) UnmarshalText(b []byte) error {
	q, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
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

// StatementStatus says whether a statement is the stored one of a closed month or is computed
// on request for a month that has not been closed yet.
type StatementStatus string

// The statement statuses.
const (
	StatementInProgress StatementStatus = "in_progress" // computed now; it changes until its month closes
	StatementClosed     StatementStatus = "closed"      // stored when its month closed; never changes
)

// Statement is a line's monthly statement (R11): what was owed at the start of the month,
// what was drawn, the fees charged, the credits applied (the first-month fee credit shows
// here), the payments made, the refunds of financed orders applied to the loans, anything
// charged off, what is owed at the end, and when the next payment is due. Always
// opening + draws + fees − credits − payments − refunds − charged off = closing.
type Statement struct {
	LineID     string          `json:"line_id"`
	BuyerID    string          `json:"buyer_id"`
	Period     Period          `json:"period"`
	Status     StatementStatus `json:"status"`
	ClosedAt   time.Time       `json:"closed_at,omitzero"` // when the statement timer closed it
	Opening    money.Amount    `json:"opening_balance"`
	Draws      money.Amount    `json:"draws"`
	Fees       money.Amount    `json:"fees"`
	Credits    money.Amount    `json:"credits"`
	Payments   money.Amount    `json:"payments"`
	Refunds    money.Amount    `json:"refunds"`     // order refunds routed to the lender
	ChargedOff money.Amount    `json:"charged_off"` // balances the lender took off the platform's book
	Closing    money.Amount    `json:"closing_balance"`
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
	if !p.Valid() {
		return Statement{}, fault.FieldErr("period", "invalid_period", "give the month as YYYY-MM")
	}
	st := Statement{LineID: line.ID, BuyerID: line.BuyerID, Period: p, Status: StatementInProgress, Opening: usd(0),
		Draws: usd(0), Fees: usd(0), Credits: usd(0), Payments: usd(0), Refunds: usd(0), ChargedOff: usd(0),
		NextDueAmount: usd(0), PastDue: usd(0)}
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
	if sum(st.Opening, st.Draws, st.Fees, st.Credits.Neg(), st.Payments.Neg(), st.Refunds.Neg(), st.ChargedOff.Neg()) != st.Closing {
		panic("credit: statement totals do not add up")
	}
	return st, nil
}

// Close marks a statement built at the end of its period as the closed statement of record,
// closed at at.
func (st *Statement) Close(at time.Time) {
	st.Status, st.ClosedAt = StatementClosed, at.UTC()
}

func (st *Statement) add(p Posting) {
	switch p.Kind {
	case PostDraw:
		st.Draws = sum(st.Draws, p.Amount)
	case PostFee:
		st.Fees = sum(st.Fees, p.Amount)
	case PostCredit:
		st.Credits = sum(st.Credits, p.Amount)
	case PostPayment:
		st.Payments = sum(st.Payments, p.Amount)
	case PostRefund:
		st.Refunds = sum(st.Refunds, p.Amount)
	case PostChargeOff:
		st.ChargedOff = sum(st.ChargedOff, p.Amount)
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
	case PostChargeOff:
		return fmt.Sprintf("Charged off after %d days past due: the lender collects this balance directly", ChargeOffDaysPastDue)
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
		[]string{"", "total_refunds", "", "", "", "Refunds applied", st.Refunds.Decimal(), ""},
	)
	if st.ChargedOff.IsPositive() {
		rows = append(rows, []string{"", "total_charged_off", "", "", "", "Charged off", st.ChargedOff.Decimal(), ""})
	}
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
