package escrow

import (
	"context"
	"fmt"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// The lender's money (R11, docs/pay-later.md "Disbursement"): a lender's answer to a
// disbursement request books nothing. The order counts as paid, and the loan is disbursed, only
// when the money itself arrives: reported on the pay_later rail (ReceiveFunds) quoting the order
// payment's reference, allocated out of suspense by an admin, or — with the sandbox on —
// simulated by the sandbox on the lender's behalf. All three come here.

// Reasons the lender's money is not taken for a loan: it waits in suspense, or an admin's
// allocation of it is refused.
const (
	ReasonNotFinanced     = "payment_not_financed" // the payment is not a Pay Later payment
	ReasonLoanNotAccepted = "loan_not_accepted"    // no accepted agreement finances the payment
)

// sandboxFunds is the ID of the money the sandbox simulates for a disbursement request.
func sandboxFunds(requestID string) string { return "sandbox:" + requestID }

// loanFunds is the lender's money for a loan.
type loanFunds struct {
	ID      string         // the rail's ID of the credit, the suspense item's, or sandbox:<request>
	Amount  money.Amount   // what arrived
	Source  ledger.Account // the pay_later rail's clearing, the sandbox's, or suspense
	Sandbox bool           // simulated by the sandbox
}

// fundLoan books the lender's money for the order's payment (R11): the payment must be a
// pending Pay Later payment financed by an accepted (agreed) loan, and the money exactly the
// agreement's principal. Then, in the caller's transaction, the payment is received through the
// order's own matching (source → escrow; payment.received says sandbox for simulated money),
// the loan is disbursed (reserved → used, loan book posted, debit timers set; its schedule starts
// now), and its open disbursement request, if any, is recorded with the money's ID. A refusal
// writes nothing, so the caller may hold the money in suspense instead.
func (s *Service) fundLoan(ctx context.Context, u *unit, orderID, paymentID string, f loanFunds) error {
	ct, err := u.creditTx()
	if err != nil {
		return err
	}
	lt, err := u.lenderTx()
	if err != nil {
		return err
	}
	o, err := u.tx.LockOrder(ctx, orderID) // the order, the line, the loan, then the request
	if err != nil {
		return notFound(err, "order")
	}
	p := findPayment(o, paymentID)
	switch {
	case p == nil || p.Method != payment.PayLater:
		return fault.New(fault.Conflict, ReasonNotFinanced, "the lender's money pays only a Pay Later payment; %s is not one", paymentID)
	case p.Status != trade.PaymentPending || o.State.Terminal() || o.State == trade.Shipped || o.State == trade.Released:
		return fault.New(fault.Conflict, "payment_not_pending", "Pay Later payment %s is %s on a %s order, not waiting for the lender",
			p.ID, p.Status, o.State)
	case p.Amount > o.Outstanding():
		return fault.New(fault.Conflict, "payment_out_of_date", "Pay Later payment %s asks for more than the order still owes", p.ID)
	}
	loans, err := ct.LoansOfOrder(ctx, orderID)
	if err != nil {
		return err
	}
	var loanID string
	for _, x := range loans {
		if x.PaymentID == p.ID && x.State == credit.Agreed {
			loanID = x.ID
		}
	}
	if loanID == "" {
		return fault.New(fault.Conflict, ReasonLoanNotAccepted, "no accepted loan agreement finances payment %s", p.ID)
	}
	l, err := ct.Loan(ctx, loanID)
	if err != nil {
		return notFound(err, "loan")
	}
	line, err := ct.LockCreditLine(ctx, l.LineID)
	if err != nil {
		return err
	}
	if l, err = ct.LockLoan(ctx, loanID); err != nil {
		return err
	}
	switch {
	case l.State != credit.Agreed:
		return fault.New(fault.Conflict, ReasonLoanNotAccepted, "loan %s is %s, not agreed", l.ID, l.State)
	case f.Amount != l.Agreement.Principal || f.Amount.Minor != p.Total:
		return fault.New(fault.Conflict, "amount_mismatch", "the lender paid %s; loan %s lends %s", f.Amount, l.ID, l.Agreement.Principal)
	}
	req, err := openDisbursement(ctx, lt, l.ID)
	if err != nil {
		return err
	}
	if req != nil {
		r, err := lt.LockLenderRequest(ctx, req.ID, "")
		if err != nil {
			return err
		}
		req = &r
	}
	// Nothing is written above: a refusal leaves the transaction clean.
	if _, err := s.apply(ctx, u, orderID, trade.ReceivePayment{PaymentID: p.ID, Amount: f.Amount, Source: f.Source}); err != nil {
		return err // apply writes nothing when it refuses
	}
	after, err := u.tx.Order(ctx, orderID)
	if err != nil {
		return &dirtyError{err}
	}
	if q := findPayment(after, p.ID); q == nil || q.Status != trade.PaymentReceived {
		// The order returned the money instead (it moved on in a way the checks above do not
		// see): roll back, never keep the lender's money as the buyer's.
		return &dirtyError{fmt.Errorf("the lender's money for loan %s was not received by payment %s", l.ID, p.ID)}
	}
	prev := l.Version
	l.DisbursementRef, l.Sandbox = f.ID, f.Sandbox
	fx, err := l.Disburse(credit.RoleLender, &line, u.now)
	if err != nil {
		return &dirtyError{err}
	}
	if err := u.writeLoan(ctx, ct, l, prev, line, fx, false); err != nil { // the matching booked the money
		return &dirtyError{err}
	}
	if req == nil {
		return nil // the lender paid before it was asked: the disbursement timer finds the loan disbursed
	}
	at := u.now
	req.Status, req.RecordedAt, req.FundsID, req.LastError = LenderRecorded, &at, f.ID, ""
	if err := lt.UpdateLenderRequest(ctx, *req); err != nil {
		return &dirtyError{fmt.Errorf("update lender request: %w", err)}
	}
	return nil
}
