package credit

import (
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
)

// LineStatus is whether a line can be drawn on.
type LineStatus string

// The line statuses.
const (
	LineActive LineStatus = "active"
	LineFrozen LineStatus = "frozen" // a loan on it is past due: no new reservations until it is cured
	LineClosed LineStatus = "closed" // no new reservations ever; existing loans run to their end
)

// Line is a buyer's Pay Later line of credit (R11): a limit, what its loans use, what accepted
// agreements reserve until the lender pays, and what is left. USD only; lines are opened for
// US businesses only.
type Line struct {
	ID       string         `json:"id"`
	BuyerID  string         `json:"buyer_id"`
	Currency money.Currency `json:"currency"` // always USD
	Limit    money.Amount   `json:"limit"`
	// Used is the outstanding principal of disbursed loans; Reserved the principal of accepted
	// agreements the lender has not paid yet.
	Used             money.Amount `json:"used"`
	Reserved         money.Amount `json:"reserved"`
	Status           LineStatus   `json:"status"`
	Rates            FeeSchedule  `json:"rates"`
	FirstMonthCredit money.Amount `json:"first_month_credit"`
	// PastDueLoans counts its loans that are past due; the line is frozen while it is above zero.
	PastDueLoans int       `json:"past_due_loans"`
	OpenedAt     time.Time `json:"opened_at"`
}

// OpenLine opens the line an approved decision grants. The application's business must be in
// the US and the limit in USD, at most LimitMax (R11).
func OpenLine(id string, app Application, d Decision, now time.Time) (Line, error) {
	if d.Status != DecisionApproved {
		return Line{}, fault.New(fault.Conflict, "application_not_approved", "only an approved application opens a line")
	}
	if app.Business.Country != Country {
		return Line{}, fault.FieldErr("business.country", ReasonUSOnly, "Pay Later is available to US businesses only")
	}
	if err := requireUSD("limit", d.Limit); err != nil {
		return Line{}, err
	}
	if !d.Limit.IsPositive() || d.Limit.Minor > LimitMax.Minor {
		return Line{}, fault.FieldErr("limit", ReasonLimitExceeded, "a line's limit is above zero and at most %s", LimitMax)
	}
	if err := d.Rates.Validate(); err != nil {
		return Line{}, err
	}
	if err := requireUSD("first_month_credit", d.FirstMonthCredit); err != nil {
		return Line{}, err
	}
	l := Line{ID: id, BuyerID: app.BuyerID, Currency: USD, Limit: d.Limit, Used: usd(0), Reserved: usd(0),
		Status: LineActive, Rates: d.Rates, FirstMonthCredit: d.FirstMonthCredit, OpenedAt: now}
	l.assert()
	return l, nil
}

// Available is the credit left to reserve: Limit − Used − Reserved.
func (l Line) Available() money.Amount {
	return sum(l.Limit, l.Used.Neg(), l.Reserved.Neg()).Max(usd(0))
}

// Reserve sets aside amount for an accepted agreement, so that two purchases cannot spend the
// same credit. It is refused in another currency than USD, on a frozen or closed line, and
// beyond the available credit.
func (l *Line) Reserve(amount money.Amount) error {
	if err := requireUSD("amount", amount); err != nil {
		return err
	}
	switch {
	case !amount.IsPositive():
		return fault.FieldErr("amount", ReasonInvalidAmount, "reserve a positive amount")
	case l.Status == LineClosed:
		return fault.New(fault.Conflict, ReasonLineClosed, "the credit line is closed")
	case l.Status == LineFrozen:
		return fault.New(fault.Conflict, ReasonLineFrozen, "the credit line is frozen while a repayment is past due")
	case amount.Minor > l.Available().Minor:
		return fault.New(fault.Conflict, ReasonLimitExceeded, "%s is more than the available credit of %s", amount, l.Available())
	}
	l.Reserved = sum(l.Reserved, amount)
	l.assert()
	return nil
}

// Release gives back a reservation whose agreement was cancelled before the lender paid.
func (l *Line) Release(amount money.Amount) error {
	if err := l.within("release", amount, l.Reserved); err != nil {
		return err
	}
	l.Reserved = sum(l.Reserved, amount.Neg())
	l.assert()
	return nil
}

// Draw turns a reservation into used credit when the lender pays. It is allowed on a frozen
// line: the agreement was accepted before, and the lender honours it.
func (l *Line) Draw(amount money.Amount) error {
	if err := l.within("draw", amount, l.Reserved); err != nil {
		return err
	}
	l.Reserved = sum(l.Reserved, amount.Neg())
	l.Used = sum(l.Used, amount)
	l.assert()
	return nil
}

// Restore makes repaid principal available again.
func (l *Line) Restore(amount money.Amount) error {
	if err := l.within("restore", amount, l.Used); err != nil {
		return err
	}
	l.Used = sum(l.Used, amount.Neg())
	l.assert()
	return nil
}

// Close stops new reservations for good.
func (l *Line) Close() { l.Status = LineClosed }

// markPastDue freezes the line while one of its loans is past due.
func (l *Line) markPastDue() {
	l.PastDueLoans++
	if l.Status == LineActive {
		l.Status = LineFrozen
	}
}

// cure counts one loan no longer past due and unfreezes the line when none is.
func (l *Line) cure() {
	if l.PastDueLoans <= 0 {
		panic(fmt.Sprintf("credit: line %s cured with no loan past due", l.ID))
	}
	l.PastDueLoans--
	if l.PastDueLoans == 0 && l.Status == LineFrozen {
		l.Status = LineActive
	}
}

// within checks a move of amount against what it comes out of. Only a bug in the caller's
// bookkeeping breaks it, so it is an internal error.
func (l *Line) within(op string, amount, from money.Amount) error {
	if err := requireUSD("amount", amount); err != nil {
		return err
	}
	if amount.IsNegative() || amount.Minor > from.Minor {
		return fault.New(fault.Internal, "credit_line_inconsistent", "cannot %s %s on line %s", op, amount, l.ID)
	}
	return nil
}

// assert panics if the line's arithmetic broke: only a bug can do that.
func (l *Line) assert() {
	if l.Used.IsNegative() || l.Reserved.IsNegative() || l.Limit.Minor > LimitMax.Minor ||
		l.Used.Minor+l.Reserved.Minor > l.Limit.Minor || l.PastDueLoans < 0 ||
		(l.Status == LineFrozen) != (l.PastDueLoans > 0 && l.Status != LineClosed) {
		panic(fmt.Sprintf("credit: line %s broke its invariants: %+v", l.ID, *l))
	}
}
