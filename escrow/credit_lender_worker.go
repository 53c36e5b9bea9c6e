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
	return s.lenderOutbox().round(ctx, owner, claimed)
}

// LenderWorker runs RunLenderRequests every interval until ctx ends, at once again after a round
// that claimed something.
func (s *Service) LenderWorker(ctx context.Context, owner string, interval time.Duration) {
	poll.Every(ctx, interval, s.log, "lender worker", func(ctx context.Context) (int, error) { return s.RunLenderRequests(ctx, owner) })
}

// lenderOutbox is the lender outbox as the lender worker handles it: the lender is asked to
// decide or to pay; a request unanswered after LenderAttemptsMax attempts (waiting
// BankDebitBackoff between them), or whose answer cannot be booked, is marked LenderAttention.
func (s *Service) lenderOutbox() outbox[LenderRequest, lenderAnswer, LenderTx] {
	return outbox[LenderRequest, lenderAnswer, LenderTx]{s: s, name: "lender request", noun: "lender request", actor: trade.System,
		timeout: LenderTimeout, attemptsMax: LenderAttemptsMax, backoff: BankDebitBackoff,
		id:       func(r LenderRequest) string { return r.ID },
		attempts: func(r LenderRequest) int { return r.Attempts },
		logged:   func(r LenderRequest) []any { return []any{"request", r.ID, "kind", r.Kind} },
		ask: func(ctx context.Context, r LenderRequest) (lenderAnswer, error) {
			answer, err := s.askLender(ctx, r)
			if err != nil && fault.CodeOf(err) == fault.NotFound {
				return lenderAnswer{unbookable: err}, nil // no outage: nothing the lender says can be booked
			}
			return lenderAnswer{answer: answer}, err
		},
		record: s.recordLenderAnswer,
		tx:     (*unit).lenderTx, lock: LenderTx.LockLenderRequest, update: LenderTx.UpdateLenderRequest,
		retry: func(r *LenderRequest, lastError string, next time.Time) {
			r.LastError, r.NextAttemptAt = lastError, next
		},
		attention: func(ctx context.Context, u *unit, r *LenderRequest) error {
			r.Status = LenderAttention
			// Published so that the notifier tells the platform's admins: an operator must act.
			return lenderAttentionEvent(ctx, u, *r)
		},
		noAnswer: func(r LenderRequest, attention bool, cause error) {
			if attention {
				s.log.Error("lender request needs an operator: no answer from the lender", "request", r.ID, "kind", r.Kind,
					"attempts", r.Attempts, "err", cause)
				s.lenderAnswered(r.Kind, string(LenderAttention))
				return
			}
			s.log.Warn("lender request unanswered; trying again later", "request", r.ID, "kind", r.Kind, "attempt", r.Attempts, "err", cause)
			s.lenderAnswered(r.Kind, LenderResultRetry)
		},
	}
}

// lenderAnswer is what asking the lender gave: its answer (a credit.Decision or a
// credit.Disbursement), or why the request cannot be booked whatever the lender says (its
// application is gone).
type lenderAnswer struct {
	answer     any
	unbookable error
}

// recordLenderAnswer records the lender's answer; one that cannot be booked as it is marks the
// request for an operator, with nothing booked.
func (s *Service) recordLenderAnswer(ctx context.Context, owner string, r LenderRequest, a lenderAnswer) error {
	if a.unbookable != nil {
		return s.lenderAttention(ctx, owner, r, a.unbookable)
	}
	err := s.recordLender(ctx, owner, r, a.answer)
	if refused(err) {
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

// lenderAnswered tells OnLender what became of a request this worker held.
func (s *Service) lenderAnswered(kind LenderRequestKind, result string) {
	if s.cred.onLender != nil {
		s.cred.onLender(kind, result)
	}
}

// lenderAttention marks a request whose answer cannot be recorded for an operator: nothing was
// booked.
func (s *Service) lenderAttention(ctx context.Context, owner string, r LenderRequest, cause error) error {
	o := s.lenderOutbox()
	held, err := o.updateHeld(ctx, owner, r.ID, func(u *unit, cur *LenderRequest) error {
		cur.LastError = clip(cause.Error(), lastErrorMax)
		return o.attention(ctx, u, cur)
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

// lenderAttentionEvent publishes that r waits for an operator: on the loan's stream for a
// disbursement, on the buyer's for a decision (seen by the buyer and the platform, as the
// retry that follows).
func lenderAttentionEvent(ctx context.Context, u *unit, r LenderRequest) error {
	stream := r.BuyerID
	payload := map[string]any{"request_id": r.ID, "kind": r.Kind, "attempts": r.Attempts, "reason": r.LastError}
	if r.LoanID != "" {
		stream, payload["loan_id"], payload["amount"] = r.LoanID, r.LoanID, r.Amount
	} else {
		payload["application_id"] = r.ApplicationID
	}
	return u.appendEvent(ctx, stream, []string{r.BuyerID}, "credit.lender_request_attention", payload)
}

// recordLender records the lender's answer in one transaction, only while this worker still
// holds the request: a decision is recorded; a disbursement the lender accepted waits for its
// money (awaiting_funds), which the sandbox simulates at once on a sandbox server (recorded).
func (s *Service) recordLender(ctx context.Context, owner string, r LenderRequest, answer any) error {
	var published []Event
	var status LenderRequestStatus
	err := s.store.Write(ctx, func(tx Tx) error {
		published, status = nil, ""
		u := &unit{tx: tx, now: s.clock.Now(), actor: trade.System}
		lt, err := u.lenderTx()
		if err != nil {
			return err
		}
		held, st, due := false, LenderRecorded, time.Time{}
		switch a := answer.(type) {
		case credit.Decision:
			held, err = s.recordDecision(ctx, u, lt, owner, r, a)
		case credit.Disbursement:
			held, st, due, err = s.recordDisbursement(ctx, u, lt, owner, r, a)
		default:
			err = fmt.Errorf("unknown answer %T", answer)
		}
		if err != nil || !held {
			return err
		}
		// Held: locked by this transaction since the answer's checks (the sandbox's money may
		// have recorded it already, clearing the lease).
		cur, err := lt.LockLenderRequest(ctx, r.ID, "")
		if err != nil {
			return err
		}
		body, err := json.Marshal(answer)
		if err != nil {
			return fmt.Errorf("marshal answer: %w", err)
		}
		cur.Status, cur.LastError, cur.Answer = st, "", body
		if st == LenderRecorded && cur.RecordedAt == nil {
			at := u.now
			cur.RecordedAt = &at
		}
		if st == LenderAwaitingFunds {
			cur.FundsDueAt = &due
		}
		if err := lt.UpdateLenderRequest(ctx, cur); err != nil {
			return fmt.Errorf("update lender request: %w", err)
		}
		published, status = u.events, st
		return nil
	})
	if err != nil {
		return fmt.Errorf("record the answer to lender request %s: %w", r.ID, err)
	}
	if status != "" {
		s.lenderAnswered(r.Kind, string(status))
	}
	s.publish(published)
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

// recordDisbursement records the lender's acceptance to pay an accepted loan into its order's
// escrow (R11), checked against the loan: the principal, quoting the order payment's reference.
// The acceptance is not money, and books nothing: the request then waits for the lender's money
// on the pay_later rail (awaiting_funds; fundLoan records it) until the returned due time, the
// end of the latest disbursement day, when its timer marks it overdue if the money has not
// arrived (credit_overdue.go). On a sandbox server the sandbox pays for the lender at once —
// simulated money from its own clearing account, through the same matching (fundLoan),
// labelled sandbox — and the request is recorded. It reports false when another worker holds
// the request now.
func (s *Service) recordDisbursement(ctx context.Context, u *unit, lt LenderTx, owner string, r LenderRequest,
	d credit.Disbursement) (bool, LenderRequestStatus, time.Time, error) {
	ct, err := u.creditTx()
	if err != nil {
		return false, "", time.Time{}, err
	}
	l, err := ct.Loan(ctx, r.LoanID)
	if err != nil {
		return false, "", time.Time{}, notFound(err, "loan")
	}
	o, err := u.tx.LockOrder(ctx, l.OrderID) // the order, the line, the loan, then the request
	if err != nil {
		return false, "", time.Time{}, notFound(err, "order")
	}
	if _, err := ct.LockCreditLine(ctx, l.LineID); err != nil {
		return false, "", time.Time{}, err
	}
	if l, err = ct.LockLoan(ctx, r.LoanID); err != nil {
		return false, "", time.Time{}, err
	}
	if _, err := lt.LockLenderRequest(ctx, r.ID, owner); errors.Is(err, ErrNotFound) {
		return false, "", time.Time{}, nil
	} else if err != nil {
		return false, "", time.Time{}, err
	}
	if l.State != credit.Agreed {
		return false, "", time.Time{}, fault.New(fault.Conflict, credit.ReasonNotAllowed, "the lender accepted to pay loan %s, which is %s",
			l.ID, l.State)
	}
	p := findPayment(o, l.PaymentID)
	if p == nil || p.Status != trade.PaymentPending || p.Reference != r.PaymentReference {
		return false, "", time.Time{}, fault.New(fault.Conflict, "payment_not_pending",
			"the lender accepted to pay payment %s, which is no longer pending", l.PaymentID)
	}
	if err := d.Check(disbursementRequest(r), &l.Loan); err != nil {
		return false, "", time.Time{}, err
	}
	if r.Sandbox && s.sbx.Enabled {
		// The sandbox pays for the lender; a refusal writes nothing, and an operator looks.
		err := s.fundLoan(ctx, u, o.ID, p.ID, loanFunds{ID: sandboxFunds(r.ID), Amount: d.Amount,
			Source: trade.SandboxAccount(credit.USD), Sandbox: true})
		return err == nil, LenderRecorded, time.Time{}, err
	}
	// Real money: the lender's transfer, reported on the pay_later rail, pays the order. A request
	// made on a sandbox server waits for real money too once the sandbox is off.
	due := l.Agreement.FundsDeadline(s.cred.loc).UTC()
	if err := u.appendEvent(ctx, l.ID, []string{l.BuyerID}, "loan.disbursement_accepted", map[string]any{
		"loan_id": l.ID, "order_id": l.OrderID, "request_id": r.ID, "amount": d.Amount, "payment_reference": d.PaymentReference,
		"lender_reference": d.LenderReference, "funds_due_at": due}); err != nil {
		return false, "", time.Time{}, &dirtyError{err}
	}
	if err := u.tx.PutTimer(ctx, fundsOverdueTimer(l.ID, r.ID, due)); err != nil {
		return false, "", time.Time{}, &dirtyError{fmt.Errorf("put timer: %w", err)}
	}
	return true, LenderAwaitingFunds, due, nil
}
