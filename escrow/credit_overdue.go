package escrow

import (
	"context"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// The lender's money overdue (R11: funds arrive 1–3 working days after the loan agreement; R21:
// that deadline fires once). When the lender accepts to pay a disbursement and the request waits
// for its money (awaiting_funds), the same transaction sets a durable timer due at the end of
// the latest disbursement day (credit.Agreement.FundsDeadline, on the Federal Reserve calendar in
// New York). If the money has not arrived when it fires, the request is marked overdue and
// loan.disbursement_overdue is published in one transaction; the notifier tells the platform's
// admins to chase the lender. The request stays awaiting_funds: money arriving later still pays
// the order (fundLoan), and the payment still lapses after PaymentExpiry as before.

// fundsOverdueTimer is the timer that marks request reqID of loan loanID overdue at due. Filed
// under the loan like its other timers; its key is the loan's, since a loan has one disbursement.
func fundsOverdueTimer(loanID, reqID string, due time.Time) trade.Timer {
	return trade.Timer{Key: loanID + "/funds_overdue", Kind: trade.TimerKind(credit.TimerFundsOverdue), OrderID: loanID,
		DueAt: due, Ref: reqID}
}

// Reasons the funds-overdue timer finds nothing to do: it is recorded as skipped.
const (
	ReasonFundsArrived     = "funds_arrived"      // the lender's money paid the order
	ReasonNotAwaitingFunds = "not_awaiting_funds" // the request waits for an operator, or was never accepted
	ReasonAlreadyOverdue   = "already_overdue"    // marked by an earlier timer of the same request
)

// fundsOverdue fires the funds-overdue timer of disbursement request t.Ref: under the order's and
// the request's locks (the order first, as everywhere), a request still awaiting the lender's
// money past the deadline is marked overdue and loan.disbursement_overdue published. A request
// whose money arrived, or that is no longer awaiting it, is skipped; so is one already marked, so
// the admins are told once however often the timer is set. A timer due before the deadline (set
// by migration 00019 for requests accepted before it, when the deadline was not known) waits
// until the deadline.
func (s *Service) fundsOverdue(ctx context.Context, u *unit, t StoredTimer) (string, error) {
	ct, err := u.creditTx()
	if err != nil {
		return "", err
	}
	lt, err := u.lenderTx()
	if err != nil {
		return "", err
	}
	r, err := lt.LenderRequest(ctx, t.Ref)
	if err != nil {
		return "", notFound(err, "lender_request")
	}
	l, err := ct.Loan(ctx, r.LoanID)
	if err != nil {
		return "", notFound(err, "loan")
	}
	if _, err := u.tx.LockOrder(ctx, l.OrderID); err != nil {
		return "", notFound(err, "order")
	}
	if r, err = lt.LockLenderRequest(ctx, r.ID, ""); err != nil {
		return "", err
	}
	switch {
	case r.Status == LenderRecorded:
		return "", fault.New(fault.Conflict, ReasonFundsArrived, "the lender's money arrived: %s", r.FundsID)
	case r.Status != LenderAwaitingFunds:
		return "", fault.New(fault.Conflict, ReasonNotAwaitingFunds, "the request is %s, not awaiting the lender's money", r.Status)
	case r.OverdueAt != nil:
		return "", fault.New(fault.Conflict, ReasonAlreadyOverdue, "marked overdue at %s", r.OverdueAt.Format(time.RFC3339))
	}
	due := l.Agreement.FundsDeadline(s.cred.loc).UTC()
	r.FundsDueAt = &due
	if u.now.Before(due) {
		if err := lt.UpdateLenderRequest(ctx, r); err != nil {
			return "", fmt.Errorf("update lender request: %w", err)
		}
		if err := u.tx.PutTimer(ctx, fundsOverdueTimer(l.ID, r.ID, due)); err != nil {
			return "", &dirtyError{fmt.Errorf("put timer: %w", err)}
		}
		return "postponed to " + due.Format(time.RFC3339), nil
	}
	at := u.now
	r.OverdueAt = &at
	if err := lt.UpdateLenderRequest(ctx, r); err != nil {
		return "", fmt.Errorf("update lender request: %w", err)
	}
	if err := u.appendEvent(ctx, l.ID, []string{l.BuyerID}, "loan.disbursement_overdue", map[string]any{
		"loan_id": l.ID, "order_id": l.OrderID, "request_id": r.ID, "amount": r.Amount, "payment_reference": r.PaymentReference,
		"agreed_at": l.Agreement.AgreedAt, "requested_at": r.RequestedAt, "funds_due_at": due}); err != nil {
		return "", &dirtyError{err}
	}
	return fmt.Sprintf("overdue: the lender's %s for request %s was due at %s", r.Amount, r.ID, due.Format(time.RFC3339)), nil
}
