package credit

import (
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/calendar"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
)

// Lender is the third-party lender behind Pay Later (R11), one method per step: an application
// gets a decision; a draw gets a loan agreement; an accepted agreement gets a disbursement
// into the order's escrow; a due installment gets collected by automatic debit. An adapter for
// a real lender implements it over the lender's API in the use-case layer; BuiltIn is a lender
// in plain Go that makes the whole flow work out of the box.
type Lender interface {
	// ID names the lender; it owns the lender's funding account in the loan book.
	ID() string
	// Apply decides an application.
	Apply(app Application, now time.Time) (Decision, error)
	// Draw offers the agreement for financing an order payment on a line.
	Draw(line Line, req DrawRequest, now time.Time) (Agreement, error)
	// Disburse says what the lender pays into the order's escrow for an accepted loan.
	Disburse(loan Loan, now time.Time) (Disbursement, error)
	// Collect says what to debit from the buyer's business checking account at now.
	Collect(loan Loan, now time.Time) (Collection, error)
}

// DrawRequest is the buyer's choice at checkout: how much of the order payment to finance, and
// for how many months (R11: 1 to 6).
type DrawRequest struct {
	OrderID    string
	Amount     money.Amount
	TermMonths int
}

// Disbursement is a lender's payment into an order's escrow.
type Disbursement struct {
	LoanID    string       `json:"loan_id"`
	OrderID   string       `json:"order_id"`
	Amount    money.Amount `json:"amount"`
	Reference string       `json:"reference"` // matches the payment on the bank statement
	At        time.Time    `json:"at"`
}

// Collection is an automatic debit to ask the bank for.
type Collection struct {
	LoanID    string       `json:"loan_id"`
	Amount    money.Amount `json:"amount"`
	Reference string       `json:"reference"`
	At        time.Time    `json:"at"`
}

// BuiltIn is the lender that ships with the platform: it underwrites by Policy, prices every
// line at the policy's rates, pays DisbursementDaysExpected business days after the agreement
// and collects on due dates. Its methods are pure functions of their inputs; the sandbox bank
// that moves the money is an adapter.
type BuiltIn struct {
	Name     string            // the lender's ID; "builtin" if empty
	Policy   Policy            // DefaultPolicy() if zero
	Calendar calendar.Calendar // the US Federal Reserve calendar for due dates and disbursement
}

// NewBuiltIn returns the built-in lender with the default policy on cal.
func NewBuiltIn(cal calendar.Calendar) BuiltIn {
	return BuiltIn{Name: "builtin", Policy: DefaultPolicy(), Calendar: cal}
}

var _ Lender = BuiltIn{}

// ID returns the lender's name.
func (b BuiltIn) ID() string {
	if b.Name == "" {
		return "builtin"
	}
	return b.Name
}

func (b BuiltIn) policy() Policy {
	if b.Policy.LimitStep.Minor == 0 {
		return DefaultPolicy()
	}
	return b.Policy
}

// Apply validates the application and underwrites it.
func (b BuiltIn) Apply(app Application, now time.Time) (Decision, error) {
	if err := app.Validate(now); err != nil {
		return Decision{}, err
	}
	return b.policy().Underwrite(app, now), nil
}

// Draw checks the line can finance the request now and offers the agreement at the line's
// rates and first-month credit, dated now. The credit is only reserved when the buyer accepts.
func (b BuiltIn) Draw(line Line, req DrawRequest, now time.Time) (Agreement, error) {
	if err := requireUSD("amount", req.Amount); err != nil {
		return Agreement{}, err
	}
	if req.OrderID == "" {
		return Agreement{}, fault.FieldErr("order_id", "order_required", "a draw pays an order")
	}
	switch {
	case line.Status == LineClosed:
		return Agreement{}, fault.New(fault.Conflict, ReasonLineClosed, "the credit line is closed")
	case line.Status == LineFrozen:
		return Agreement{}, fault.New(fault.Conflict, ReasonLineFrozen, "the credit line is frozen while a repayment is past due")
	case req.Amount.Minor > line.Available().Minor:
		return Agreement{}, fault.New(fault.Conflict, ReasonLimitExceeded, "%s is more than the available credit of %s", req.Amount, line.Available())
	}
	return Offer(req.Amount, req.TermMonths, line.Rates, line.FirstMonthCredit, now, b.Calendar)
}

// Disburse pays the principal of an accepted loan into its order's escrow.
func (b BuiltIn) Disburse(loan Loan, now time.Time) (Disbursement, error) {
	if loan.State != Agreed {
		return Disbursement{}, fault.New(fault.Conflict, ReasonNotAllowed, "only an accepted loan is disbursed")
	}
	return Disbursement{LoanID: loan.ID, OrderID: loan.OrderID, Amount: loan.Agreement.Principal,
		Reference: reference("D", loan.ID, loan.Version), At: now}, nil
}

// Collect asks for everything due at now.
func (b BuiltIn) Collect(loan Loan, now time.Time) (Collection, error) {
	due := loan.Due(now)
	if !due.IsPositive() || loan.DisbursedAt.IsZero() || loan.State.Terminal() {
		return Collection{}, fault.New(fault.Conflict, ReasonNothingDue, "nothing is due on the loan")
	}
	return Collection{LoanID: loan.ID, Amount: due, Reference: reference("C", loan.ID, loan.Version), At: now}, nil
}

// reference is a statement reference for a loan's money movement, unique per loan version.
func reference(kind, loanID string, version int) string {
	return fmt.Sprintf("PL%s-%s-%d", kind, loanID, version)
}
