package credit

import (
	"context"
	"time"

	"github.com/tradeassure/tradeassure/calendar"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
)

// Lender is the third-party lender behind Pay Later (R11): an outside party, reached over the
// network by a real adapter. It is called only by the lender worker, outside any database
// transaction, with a context that bounds the call: a command records a request (an application
// to decide, a disbursement to make) in its own transaction, the worker asks the lender, and the
// answer is recorded in a transaction of its own (docs/pay-later.md, "The lender outbox").
//
// Each request carries its ID as Reference, the idempotency key the lender sees: asking again
// with the same Reference — after a worker died between the answer and its record — must give
// the same answer and never pay twice. An error means no answer (an outage, a timeout): the
// worker asks again later.
//
// The agreement a draw offers is not the lender's to compute at checkout: the lender sets the
// line's terms when it approves (rates, first-month credit), and Draw prices every agreement on
// them by the sourced formula, under the APR cap. Collections are what the loan says is due.
type Lender interface {
	// ID names the lender; it owns the lender's funding account in the loan book.
	ID() string
	// Decide underwrites an application: approved with a limit and the line's terms, declined,
	// or more information needed, always with every reason.
	Decide(ctx context.Context, req DecisionRequest) (Decision, error)
	// Disburse asks the lender to pay an accepted loan's principal into the order's escrow,
	// quoting the order payment's reference, and returns its acceptance of that order. The answer
	// is not money: the order counts as paid only when the lender's money is reported on the
	// pay_later rail with that reference and amount (or, with the sandbox on, simulated by the
	// sandbox), matched to the loan's pending payment.
	Disburse(ctx context.Context, req DisbursementRequest) (Disbursement, error)
}

// DecisionRequest asks the lender to decide an application.
type DecisionRequest struct {
	Reference   string      // the request's ID: asking again repeats it
	Application Application // identifiers masked
	History     History     // the buyer's record with Pay Later on this platform
	At          time.Time   // when the application was (re)submitted: the rules are applied as of then
}

// History is the buyer's record with Pay Later on this platform, which underwriting weighs: a
// charged-off loan, or a loan past due now, declines a new line.
type History struct {
	ChargedOffLoans int `json:"charged_off_loans"`
	PastDueLoans    int `json:"past_due_loans"`
}

// DisbursementRequest asks the lender to pay an accepted loan into its order's escrow, quoting
// PaymentReference on its transfer.
type DisbursementRequest struct {
	Reference        string       // the request's ID: asking again repeats it
	LoanID           string       // the accepted loan
	OrderID          string       // whose escrow is funded
	Amount           money.Amount // the agreement's principal
	PaymentReference string       // what the money must quote to match the order's payment
	At               time.Time    // when the disbursement was requested
}

// Disbursement is the lender's answer to a disbursement request: it accepts the order to pay
// Amount into the order's escrow, quoting PaymentReference. It is not money and books nothing:
// the lender's money counts only when a rail reports it (docs/pay-later.md, "Disbursement").
type Disbursement struct {
	Amount           money.Amount `json:"amount"`
	PaymentReference string       `json:"payment_reference"`          // what the lender's transfer will quote: the order payment's reference
	LenderReference  string       `json:"lender_reference,omitempty"` // the lender's own ID of the transfer it will make, if it gives one
	At               time.Time    `json:"at"`                         // when the lender accepted the order to pay
}

// Check validates a lender's acceptance against the request and the accepted loan: it must
// promise the agreement's principal, in USD, quoting the order payment's reference. Anything else
// is not recorded (reason disbursement_mismatch): an operator settles it with the lender.
func (d Disbursement) Check(req DisbursementRequest, l *Loan) error {
	switch {
	case d.Amount != l.Agreement.Principal || d.Amount != req.Amount:
		return fault.New(fault.Conflict, ReasonDisbursementMismatch, "the lender would pay %s; loan %s lends %s", d.Amount, l.ID,
			l.Agreement.Principal)
	case d.PaymentReference != req.PaymentReference:
		return fault.New(fault.Conflict, ReasonDisbursementMismatch, "the lender's payment would quote %q, not the order payment's %q",
			d.PaymentReference, req.PaymentReference)
	}
	return nil
}

// ReasonDisbursementMismatch: a lender answered a disbursement request with another amount or
// reference than the loan's.
const ReasonDisbursementMismatch = "disbursement_mismatch"

// DrawRequest is the buyer's choice at checkout: how much of the order payment to finance, and
// for how many months (R11: 1 to 6).
type DrawRequest struct {
	OrderID    string
	Amount     money.Amount
	TermMonths int
}

// Collection is an automatic debit to ask the bank for.
type Collection struct {
	LoanID string       `json:"loan_id"`
	Amount money.Amount `json:"amount"`
	At     time.Time    `json:"at"`
}

// BuiltIn is the lender that ships with the platform: it underwrites by Policy (real rules) and
// accepts every disbursement it is asked for, but it has no money and pays nothing itself. With
// the sandbox on, the sandbox pays for it (simulated money, labelled sandbox); without, the
// lender's money must be reported on the pay_later rail like any lender's, and until then the
// order stays unpaid. Its answers are pure functions of the request, so asking again with the
// same reference gives the same answer, as Lender requires.
type BuiltIn struct {
	Name   string // the lender's ID; "builtin" if empty
	Policy Policy // DefaultPolicy() if zero
}

// NewBuiltIn returns the built-in lender with the default policy.
func NewBuiltIn() BuiltIn {
	return BuiltIn{Name: "builtin", Policy: DefaultPolicy()}
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

// Apply validates the application and underwrites it with the buyer's history as of now.
func (b BuiltIn) Apply(app Application, h History, now time.Time) (Decision, error) {
	if err := app.Validate(now); err != nil {
		return Decision{}, err
	}
	return b.policy().Underwrite(app, h, now), nil
}

// Decide underwrites the request's application as of the request's time.
func (b BuiltIn) Decide(_ context.Context, req DecisionRequest) (Decision, error) {
	return b.Apply(req.Application, req.History, req.At)
}

// Disburse accepts the order to pay the principal, quoting the order payment's reference. It
// names no transfer of its own: it makes none.
func (b BuiltIn) Disburse(_ context.Context, req DisbursementRequest) (Disbursement, error) {
	if !req.Amount.IsPositive() || req.PaymentReference == "" || req.Reference == "" {
		return Disbursement{}, fault.New(fault.Invalid, "invalid_disbursement_request", "a disbursement needs an amount and references")
	}
	return Disbursement{Amount: req.Amount, PaymentReference: req.PaymentReference, At: req.At}, nil
}

// Draw checks the line can finance the request now and offers the agreement on the line's
// rates and first-month credit, dated now, under the APR cap (OfferUnderCap). The credit is only
// reserved when the buyer accepts.
func Draw(line Line, req DrawRequest, now time.Time, cal calendar.Calendar) (Agreement, error) {
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
	return OfferUnderCap(req.Amount, req.TermMonths, line.Rates, line.FirstMonthCredit, now, cal)
}

// Collect is the automatic debit of everything due on the loan at now.
func Collect(loan Loan, now time.Time) (Collection, error) {
	due := loan.Due(now)
	if !due.IsPositive() || loan.DisbursedAt.IsZero() || loan.State.Terminal() {
		return Collection{}, fault.New(fault.Conflict, ReasonNothingDue, "nothing is due on the loan")
	}
	return Collection{LoanID: loan.ID, Amount: due, At: now}, nil
}
