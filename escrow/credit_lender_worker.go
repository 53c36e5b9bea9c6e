package escrow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/internal/poll"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// The lender worker (R11, docs/pay-later.md): it claims requested lender requests with a lease,
// asks the lender outside any transaction, and records each answer in a transaction of its own,
// only while it still holds the request, so an answer is recorded once.

// LenderResultRetry is what OnLender hears, besides the statuses a request ends in, when the
// lender gave no answer and the request waits for its next attempt.
const LenderResultRetry = "retry"

// RunLenderRequests asks the lender for the requests due now, each in turn, and records the
// answers; it returns how many requests it claimed. A request whose answer cannot be recorded
// (the process dies, the database fails) keeps its lease until LenderLease runs out, then it is
// asked again with the same reference, and the lender gives the same answer without paying twice.
func (s *Service) RunLenderRequests(ctx context.Context, owner string) (int, error) {
	cl, ok := s.store.(LenderClaimer)
	if !ok {
		return 0, fault.New(fault.Internal, "pay_later_unavailable", "this store does not keep lender requests")
	}
	claimed, err := cl.ClaimLenderRequests(ctx, s.clock.Now(), owner, LenderLease, LenderBatchMax)
	if err != nil {
		return 0, fmt.Errorf("claim lender requests: %w", err)
	}
	var errs []error
	for _, r := range claimed {
		if ctx.Err() != nil {
			break // shutting down: the leases lapse and another worker asks
		}
		if err := s.attemptLender(ctx, owner, r); err != nil {
			s.log.Error("lender request", "request", r.ID, "kind", r.Kind, "attempt", r.Attempts, "err", err)
			errs = append(errs, err)
		}
	}
	return len(claimed), errors.Join(errs...)
}

// LenderWorker runs RunLenderRequests every interval until ctx ends, at once again after a round
// that claimed something.
func (s *Service) LenderWorker(ctx context.Context, owner string, interval time.Duration) {
	poll.Every(ctx, interval, s.log, "lender worker", func(ctx context.Context) (int, error) { return s.RunLenderRequests(ctx, owner) })
}

// attemptLender asks the lender once for a claimed request and records what it said.
func (s *Service) attemptLender(ctx context.Context, owner string, r LenderRequest) error {
	if r.Attempts > LenderAttemptsMax {
		// Claimed again and again without an answer recorded (a crash after each call).
		return s.lenderUnanswered(ctx, owner, r, errors.New("no answer recorded after the last attempt"))
	}
	call, cancel := context.WithTimeout(ctx, LenderTimeout)
	answer, err := s.askLender(call, r)
	cancel()
	switch {
	case ctx.Err() != nil:
		return nil // shutting down: whatever the lender did, the lease lapses and the same reference is asked again
	case err != nil && fault.CodeOf(err) == fault.NotFound:
		return s.lenderAttention(ctx, owner, r, err)
	case err != nil:
		return s.lenderUnanswered(ctx, owner, r, err)
	}
	err = s.recordLender(ctx, owner, r, answer)
	if refused(err) { // the answer cannot be booked as it is: an operator looks
		return s.lenderAttention(ctx, owner, r, err)
	}
	return err
}

// askLender reads what the lender needs — outside any transaction — and calls it.
func (s *Service) askLender(ctx context.Context, r LenderRequest) (any, error) {
	switch r.Kind {
	case LenderDecision:
		var req credit.DecisionRequest
		err := s.store.Read(ctx, func(rd Reader) error {
			lr, ok := rd.(LenderReader)
			if !ok {
				return fmt.Errorf("the store keeps no lender requests")
			}
			app, err := lr.CreditApplication(ctx, r.ApplicationID)
			if err != nil {
				return notFound(err, "application")
			}
			h, err := lr.CreditHistory(ctx, r.BuyerID)
			req = credit.DecisionRequest{Reference: r.ID, Application: app, History: h, At: r.RequestedAt}
			return err
		})
		if err != nil {
			return nil, err
		}
		return s.cred.lender.Decide(ctx, req)
	case LenderDisbursement:
		return s.cred.lender.Disburse(ctx, disbursementRequest(r))
	}
	return nil, fmt.Errorf("unknown lender request kind %q", r.Kind)
}

func disbursementRequest(r LenderRequest) credit.DisbursementRequest {
	return credit.DisbursementRequest{Reference: r.ID, LoanID: r.LoanID, Amount: r.Amount, PaymentReference: r.PaymentReference,
		At: r.RequestedAt}
}

// lenderUnanswered records an attempt that got no answer: the request waits BankDebitBackoff,
// or, after LenderAttemptsMax attempts, is marked for an operator.
func (s *Service) lenderUnanswered(ctx context.Context, owner string, r LenderRequest, cause error) error {
	attention := false
	held, err := s.updateLenderRequest(ctx, owner, r.ID, func(cur *LenderRequest, now time.Time) {
		cur.LastError, cur.NextAttemptAt = trimError(cause), now.Add(BankDebitBackoff(cur.Attempts))
		if attention = cur.Attempts >= LenderAttemptsMax; attention {
			cur.Status = LenderAttention
		}
	})
	switch {
	case err != nil:
		return fmt.Errorf("record no answer for lender request %s: %w", r.ID, err)
	case !held:
		return nil
	case attention:
		s.log.Error("lender request needs an operator: no answer from the lender", "request", r.ID, "kind", r.Kind,
			"attempts", r.Attempts, "err", cause)
		s.lenderAnswered(r.Kind, string(LenderAttention))
	default:
		s.log.Warn("lender request unanswered; trying again later", "request", r.ID, "kind", r.Kind, "attempt", r.Attempts, "err", cause)
		s.lenderAnswered(r.Kind, LenderResultRetry)
	}
	return nil
}

// lenderAnswered tells OnLender what became of a request this worker held.
func (s *Service) lenderAnswered(kind LenderRequestKind, result string) {
	if s.cred.onLender != nil {
		s.cred.onLender(kind, result)
	}
}

// lenderAttention marks a request whose answer cannot be recorded for an operator: nothing was
// booked.
func (s *Service) lenderAttention(ctx context.Context, owner string, r LenderRequest, cause error) error {
	held, err := s.updateLenderRequest(ctx, owner, r.ID, func(cur *LenderRequest, _ time.Time) {
		cur.Status, cur.LastError = LenderAttention, trimError(cause)
	})
	if err != nil {
		return fmt.Errorf("mark lender request %s for an operator: %w", r.ID, err)
	}
	if held {
		s.log.Error("lender request needs an operator: the answer cannot be recorded", "request", r.ID, "kind", r.Kind,
			"loan", r.LoanID, "application", r.ApplicationID, "err", cause)
		s.lenderAnswered(r.Kind, string(LenderAttention))
	}
	return nil
}

// updateLenderRequest changes a request this worker still holds, in a transaction of its own;
// held is false when another worker took it over after this one's lease ran out.
func (s *Service) updateLenderRequest(ctx context.Context, owner, id string, f func(*LenderRequest, time.Time)) (held bool, err error) {
	err = s.store.Write(ctx, func(tx Tx) error {
		held = false
		lt, ok := tx.(LenderTx)
		if !ok {
			return fmt.Errorf("the store keeps no lender requests")
		}
		cur, err := lt.LockLenderRequest(ctx, id, owner)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		f(&cur, s.clock.Now())
		held = true
		return lt.UpdateLenderRequest(ctx, cur)
	})
	return held && err == nil, err
}

func trimError(err error) string {
	msg := err.Error()
	if len(msg) > lastErrorMax {
		msg = msg[:lastErrorMax]
	}
	return msg
}

// recordLender records the lender's answer in one transaction, only while this worker still
// holds the request.
func (s *Service) recordLender(ctx context.Context, owner string, r LenderRequest, answer any) error {
	var published []Event
	recorded := false
	err := s.store.Write(ctx, func(tx Tx) error {
		published, recorded = nil, false
		u := &unit{tx: tx, now: s.clock.Now(), actor: trade.System}
		lt, err := u.lenderTx()
		if err != nil {
			return err
		}
		var held bool
		switch a := answer.(type) {
		case credit.Decision:
			held, err = s.recordDecision(ctx, u, lt, owner, r, a)
		case credit.Disbursement:
			held, err = s.recordDisbursement(ctx, u, lt, owner, r, a)
		default:
			err = fmt.Errorf("unknown answer %T", answer)
		}
		if err != nil || !held {
			return err
		}
		cur, err := lt.LockLenderRequest(ctx, r.ID, owner)
		if err != nil {
			return err
		}
		body, err := json.Marshal(answer)
		if err != nil {
			return fmt.Errorf("marshal answer: %w", err)
		}
		at := u.now
		cur.Status, cur.RecordedAt, cur.LastError, cur.Answer = LenderRecorded, &at, "", body
		if err := lt.UpdateLenderRequest(ctx, cur); err != nil {
			return fmt.Errorf("update lender request: %w", err)
		}
		published, recorded = u.events, true
		return nil
	})
	if err != nil {
		return fmt.Errorf("record the answer to lender request %s: %w", r.ID, err)
	}
	if recorded {
		s.lenderAnswered(r.Kind, string(LenderRecorded))
	}
	if s.after != nil && len(published) > 0 {
		s.after(published)
	}
	return nil
}

// recordDecision records the lender's decision on the application: an approval opens the
// buyer's line. It reports false when another worker holds the request now.
func (s *Service) recordDecision(ctx context.Context, u *unit, lt LenderTx, owner string, r LenderRequest, d credit.Decision) (bool, error) {
	ct, err := u.creditTx()
	if err != nil {
		return false, err
	}
	if _, err := lt.LockLenderRequest(ctx, r.ID, owner); errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	app, err := lt.CreditApplication(ctx, r.ApplicationID)
	if err != nil {
		return false, notFound(err, "application")
	}
	if app.Status != credit.Submitted {
		return false, fault.New(fault.Conflict, "application_not_submitted", "the application is %s, not submitted", app.Status)
	}
	if d.FirstMonthCredit.Currency == "" { // a decline grants no credit
		d.FirstMonthCredit = usd(0)
	}
	if d.Limit.Currency == "" {
		d.Limit = usd(0)
	}
	switch d.Status {
	case credit.DecisionApproved, credit.DecisionDeclined, credit.DecisionMoreInfo:
	default:
		return false, fault.New(fault.Invalid, "invalid_decision", "the lender answered %q", d.Status)
	}
	app.Decide(d)
	var line *credit.Line
	if d.Status == credit.DecisionApproved {
		if _, err := ct.OpenCreditLine(ctx, app.BuyerID); err == nil {
			return false, fault.New(fault.Conflict, "credit_line_exists", "the buyer has a line already")
		} else if !errors.Is(err, ErrNotFound) {
			return false, err
		}
		l, err := credit.OpenLine(newID("cl"), app, d, u.now)
		if err != nil {
			return false, err // a decision that cannot open a line: for an operator
		}
		line = &l
	}
	if err := lt.UpdateCreditApplication(ctx, app); err != nil {
		return false, &dirtyError{fmt.Errorf("update credit application: %w", err)}
	}
	if err := u.appendEvent(ctx, app.BuyerID, []string{app.BuyerID}, "credit.application_decided", map[string]any{
		"application_id": app.ID, "status": app.Status, "limit": d.Limit, "reasons": d.Reasons}); err != nil {
		return false, &dirtyError{err}
	}
	if line == nil {
		return true, nil
	}
	if err := ct.InsertCreditLine(ctx, *line); err != nil {
		return false, &dirtyError{fmt.Errorf("insert credit line: %w", err)}
	}
	// The line's monthly statements close at each month's end (R11).
	if err := u.tx.PutTimer(ctx, statementTimer(line.ID, credit.PeriodOf(u.now))); err != nil {
		return false, &dirtyError{fmt.Errorf("put timer: %w", err)}
	}
	return true, u.appendEvent(ctx, app.BuyerID, []string{app.BuyerID}, "credit.line_opened", map[string]any{
		"line_id": line.ID, "limit": line.Limit, "rates": line.Rates, "first_month_credit": line.FirstMonthCredit})
}

// recordDisbursement books the lender's payment into the order's escrow (R11): checked against
// the loan, the loan is disbursed (reserved → used, loan book posted, debit timers set) and the
// money arrives through the same matching as any rail's — ReceiveFunds' allocation, method
// pay_later, with the amount and payment reference the lender confirmed — so the order counts as
// paid only now. The domain's own pay_later_disbursement transfer is not posted: the matching
// books the lender's clearing → escrow. It reports false when another worker holds the request.
func (s *Service) recordDisbursement(ctx context.Context, u *unit, lt LenderTx, owner string, r LenderRequest, d credit.Disbursement) (bool, error) {
	ct, err := u.creditTx()
	if err != nil {
		return false, err
	}
	l, err := ct.Loan(ctx, r.LoanID)
	if err != nil {
		return false, notFound(err, "loan")
	}
	o, err := u.tx.LockOrder(ctx, l.OrderID) // the order, the line, the loan, then the request
	if err != nil {
		return false, notFound(err, "order")
	}
	line, err := ct.LockCreditLine(ctx, l.LineID)
	if err != nil {
		return false, err
	}
	if l, err = ct.LockLoan(ctx, r.LoanID); err != nil {
		return false, err
	}
	if _, err := lt.LockLenderRequest(ctx, r.ID, owner); errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	prev := l.Version
	if l.State != credit.Agreed {
		return false, fault.New(fault.Conflict, credit.ReasonNotAllowed, "the lender paid loan %s, which is %s", l.ID, l.State)
	}
	p := findPayment(o, l.PaymentID)
	if p == nil || p.Status != trade.PaymentPending || p.Reference != r.PaymentReference {
		return false, fault.New(fault.Conflict, "payment_not_pending", "the lender paid for payment %s, which is no longer pending", l.PaymentID)
	}
	if err := d.Check(disbursementRequest(r), &l.Loan); err != nil {
		return false, err
	}
	fx, err := l.Disburse(credit.RoleLender, &line, u.now)
	if err != nil {
		return false, err
	}
	l.DisbursementRef = d.LenderReference
	if err := u.writeLoan(ctx, ct, l, prev, line, fx, false); err != nil {
		return false, &dirtyError{err}
	}
	alloc, err := s.allocate(ctx, u, Incoming{Method: payment.PayLater, Amount: d.Amount, Reference: d.PaymentReference, Payer: l.LenderID})
	if err != nil {
		return false, &dirtyError{err}
	}
	after, err := u.tx.Order(ctx, o.ID)
	if err != nil {
		return false, &dirtyError{err}
	}
	if q := findPayment(after, p.ID); alloc.PaymentID != p.ID || q == nil || q.Status != trade.PaymentReceived {
		// Nothing the checks above let through: roll back, and let an operator see the request.
		return false, &dirtyError{fmt.Errorf("disbursement of loan %s was not received by payment %s: %+v", l.ID, p.ID, alloc)}
	}
	return true, nil
}
