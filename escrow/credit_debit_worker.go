package escrow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/internal/poll"
	"github.com/tradeassure/tradeassure/trade"
)

// The bank worker (R11, docs/pay-later.md): it claims requested debits with a lease, asks the
// bank outside any transaction, and records each answer in a transaction of its own,
// idempotently by the request's reference.

// DebitResultRetry is what OnDebit hears, besides the statuses a request ends in, when the bank
// gave no answer and the request waits for its next attempt.
const DebitResultRetry = "retry"

// RunBankDebits asks the bank for the debits due now, each in turn, and records the answers; it
// returns how many requests it claimed. Without a bank it claims nothing: an operator records
// each answer. A request whose answer cannot be recorded (the process
// dies, the database fails) keeps its lease until BankDebitLease runs out, then it is asked
// again with the same reference, and the bank gives the same answer without debiting twice.
func (s *Service) RunBankDebits(ctx context.Context, owner string) (int, error) {
	if s.cred.bank == nil {
		return 0, nil // no bank on this machine: the requests wait for an operator (RecordBankDebitResult)
	}
	cl, ok := s.store.(BankDebitClaimer)
	if !ok {
		return 0, fault.New(fault.Internal, "pay_later_unavailable", "this store does not keep debit requests")
	}
	claimed, err := cl.ClaimBankDebits(ctx, s.clock.Now(), owner, BankDebitLease, BankDebitBatchMax)
	if err != nil {
		return 0, fmt.Errorf("claim debit requests: %w", err)
	}
	return s.debitOutbox().round(ctx, owner, claimed)
}

// BankDebitWorker runs RunBankDebits every interval until ctx ends, at once again after a round
// that claimed something.
func (s *Service) BankDebitWorker(ctx context.Context, owner string, interval time.Duration) {
	poll.Every(ctx, interval, s.log, "bank worker", func(ctx context.Context) (int, error) { return s.RunBankDebits(ctx, owner) })
}

// debitOutbox is the debit outbox as the bank worker handles it: the bank is asked whether it
// paid; a request unanswered after BankDebitAttemptsMax attempts is marked DebitAttention, and
// the loan takes no other debit until an operator retries it.
func (s *Service) debitOutbox() outbox[DebitRequest, bool, BankDebitTx] {
	return outbox[DebitRequest, bool, BankDebitTx]{s: s, name: "bank debit", noun: "debit", actor: trade.System,
		timeout: BankDebitTimeout, attemptsMax: BankDebitAttemptsMax, backoff: BankDebitBackoff,
		id:       func(d DebitRequest) string { return d.ID },
		attempts: func(d DebitRequest) int { return d.Attempts },
		logged:   func(d DebitRequest) []any { return []any{"debit", d.ID, "loan", d.LoanID} },
		ask: func(ctx context.Context, d DebitRequest) (bool, error) {
			return s.cred.bank.Debit(ctx, BankDebit{BuyerID: d.BuyerID, LoanID: d.LoanID, Kind: d.Kind, Amount: d.Amount,
				AccountLast4: d.AccountLast4, Reference: d.ID, At: d.RequestedAt})
		},
		record: s.recordDebit,
		tx:     (*unit).debitTx, lock: BankDebitTx.LockBankDebit, update: BankDebitTx.UpdateBankDebit,
		retry: func(d *DebitRequest, lastError string, next time.Time) {
			d.LastError, d.NextAttemptAt = lastError, next
		},
		attention: func(ctx context.Context, u *unit, d *DebitRequest) error {
			d.Status = DebitAttention
			// Published so that the notifier tells the platform's admins: an operator must act.
			return u.appendEvent(ctx, d.LoanID, []string{d.BuyerID}, "loan.debit_attention", map[string]any{
				"loan_id": d.LoanID, "debit_id": d.ID, "kind": d.Kind, "amount": d.Amount, "attempts": d.Attempts})
		},
		noAnswer: func(d DebitRequest, attention bool, cause error) {
			if attention {
				s.log.Error("bank debit needs an operator: no answer from the bank", "debit", d.ID, "loan", d.LoanID,
					"amount", d.Amount.String(), "attempts", d.Attempts, "err", cause)
				s.debited(d.Kind, string(DebitAttention))
				return
			}
			s.log.Warn("bank debit unanswered; trying again later", "debit", d.ID, "loan", d.LoanID, "attempt", d.Attempts, "err", cause)
			s.debited(d.Kind, DebitResultRetry)
		},
	}
}

func (s *Service) debited(kind DebitKind, result string) {
	if result != "" && s.cred.onDebit != nil {
		s.cred.onDebit(kind, result)
	}
}

// recordDebit records the bank's answer to a request in one transaction: under the loan's
// locks, and only while this worker still holds the request, so an answer is recorded once.
func (s *Service) recordDebit(ctx context.Context, owner string, d DebitRequest, paid bool) error {
	var published []Event
	var status DebitStatus
	err := s.store.Write(ctx, func(tx Tx) error {
		published, status = nil, ""
		u := &unit{tx: tx, now: s.clock.Now(), actor: trade.System}
		ct, err := u.creditTx()
		if err != nil {
			return err
		}
		dt, err := u.debitTx()
		if err != nil {
			return err
		}
		l, line, err := lockLoanAndLine(ctx, u, ct, d.LoanID)
		if err != nil {
			return err
		}
		cur, err := dt.LockBankDebit(ctx, d.ID, owner) // after the loan, as every writer of both
		if errors.Is(err, ErrNotFound) {
			return nil // another worker took it over after our lease ran out: it records the answer
		}
		if err != nil {
			return err
		}
		st, err := s.applyDebit(ctx, u, ct, cur, l, line, paid)
		if err != nil {
			return err
		}
		at := u.now
		cur.Status, cur.RecordedAt, cur.LastError = st, &at, ""
		if err := dt.UpdateBankDebit(ctx, cur); err != nil {
			return fmt.Errorf("update debit request: %w", err)
		}
		published, status = u.events, st
		return nil
	})
	if err != nil {
		return fmt.Errorf("record the answer to debit %s: %w", d.ID, err)
	}
	s.publish(published)
	if status == DebitUnapplied {
		s.log.Error("bank debit paid but not applied: the loan changed meanwhile; settle with the lender", "debit", d.ID,
			"loan", d.LoanID, "amount", d.Amount.String())
	}
	s.debited(d.Kind, string(status))
	return nil
}

// lockLoanAndLine locks a loan's line and then the loan, and returns both.
func lockLoanAndLine(ctx context.Context, u *unit, ct CreditTx, loanID string) (LoanRecord, credit.Line, error) {
	l, err := ct.Loan(ctx, loanID)
	if err != nil {
		return LoanRecord{}, credit.Line{}, notFound(err, "loan")
	}
	line, err := ct.LockCreditLine(ctx, l.LineID)
	if err != nil {
		return LoanRecord{}, credit.Line{}, err
	}
	l, err = ct.LockLoan(ctx, loanID)
	return l, line, err
}

// lockedDebit is a debit request locked for an operator's command, with its loan and the loan's
// line.
type lockedDebit struct {
	ct   CreditTx
	dt   BankDebitTx
	d    DebitRequest
	loan LoanRecord
	line credit.Line
}

// lockDebit locks debit request id after its loan's line and the loan, as every writer of both
// does.
func lockDebit(ctx context.Context, u *unit, id string) (lockedDebit, error) {
	var k lockedDebit
	var err error
	if k.ct, err = u.creditTx(); err != nil {
		return lockedDebit{}, err
	}
	if k.dt, err = u.debitTx(); err != nil {
		return lockedDebit{}, err
	}
	d, err := k.dt.BankDebit(ctx, id)
	if err != nil {
		return lockedDebit{}, notFound(err, "bank_debit")
	}
	if k.loan, k.line, err = lockLoanAndLine(ctx, u, k.ct, d.LoanID); err != nil {
		return lockedDebit{}, err
	}
	if k.d, err = k.dt.LockBankDebit(ctx, id, ""); err != nil {
		return lockedDebit{}, notFound(err, "bank_debit")
	}
	return k, nil
}

// applyDebit applies the bank's answer to the locked loan and returns the request's status. The
// amounts are the ones at the request's time: what was due (or the payoff quote) then is what
// the bank was asked for. If the loan no longer owes exactly that — a refund of its order repaid
// part of it meanwhile — a payment is not applied (DebitUnapplied, for an operator) and a
// refusal changes nothing.
func (s *Service) applyDebit(ctx context.Context, u *unit, ct CreditTx, d DebitRequest, l LoanRecord, line credit.Line, paid bool) (DebitStatus, error) {
	prev, asOf := l.Version, d.RequestedAt
	var fx credit.Effects
	var err error
	note := func(typ string, st DebitStatus) (DebitStatus, error) {
		return st, u.appendEvent(ctx, l.ID, []string{l.BuyerID}, typ, map[string]any{"loan_id": l.ID, "debit_id": d.ID,
			"kind": d.Kind, "amount": d.Amount})
	}
	if d.Kind == DebitPayoff {
		_, allowed := credit.Lookup(l.State, credit.CmdPayOff)
		switch {
		case !paid:
			return note("loan.payoff_failed", DebitRefused)
		case !allowed || l.Quote(asOf) != d.Amount:
			return note("loan.debit_unapplied", DebitUnapplied)
		}
		fx, err = l.PayOffAt(credit.RoleBuyer, &line, asOf, u.now)
	} else {
		_, allowed := credit.Lookup(l.State, credit.CmdDebit)
		due := l.Due(asOf)
		switch {
		case paid && (!allowed || due != d.Amount):
			return note("loan.debit_unapplied", DebitUnapplied)
		case !paid && (!allowed || !due.IsPositive()):
			return DebitRefused, nil // nothing is owed any more: the refusal changes nothing
		}
		wasPastDue := l.State == credit.PastDue
		fx, err = l.RecordDebit(credit.RoleSystem, &line, asOf, u.now, paid)
		if err == nil && !paid {
			if d.Kind == DebitInstallment {
				fx.Timers = append(fx.Timers, l.RetryTimers(s.cred.cal, asOf.In(s.cred.loc))...)
			}
			if tm, set := l.ChargeOffTimer(s.cred.loc); set && !wasPastDue {
				fx.Timers = append(fx.Timers, tm)
			}
		}
	}
	if err != nil {
		return "", fmt.Errorf("apply debit %s to loan %s: %w", d.ID, l.ID, err) // the checks above let no refusal through
	}
	if err := u.writeLoan(ctx, ct, l, prev, line, fx, false); err != nil {
		return "", err
	}
	if paid {
		return DebitSucceeded, nil
	}
	return DebitRefused, nil
}

// BankDebits lists the newest debit requests, at most f.Limit (1..BankDebitsListMax), newest
// first (admin): the first page of BankDebitsPage.
func (s *Service) BankDebits(ctx context.Context, a trade.Actor, f DebitFilter) ([]DebitRequest, error) {
	ds, _, err := s.BankDebitsPage(ctx, a, f)
	return ds, err
}

// RetryBankDebit puts a request marked for an operator back in the worker's hands (admin): the
// bank is asked again with the same reference, so a debit that did go through is not debited
// twice. Only a request in attention can be retried.
func (s *Service) RetryBankDebit(ctx context.Context, a trade.Actor, key, id string) (DebitRequest, error) {
	if err := requireAdmin(a); err != nil {
		return DebitRequest{}, err
	}
	return run(ctx, s, a, key, []any{"bank_debit_retry", id}, func(u *unit) (DebitRequest, error) {
		k, err := lockDebit(ctx, u, id)
		if err != nil {
			return DebitRequest{}, err
		}
		d, dt := k.d, k.dt
		if d.Status != DebitAttention {
			return DebitRequest{}, fault.New(fault.Conflict, "bank_debit_not_in_attention", "the debit is %s, not waiting for an operator", d.Status)
		}
		d.Status, d.Attempts, d.NextAttemptAt, d.LastError = DebitRequested, 0, u.now, ""
		if err := dt.UpdateBankDebit(ctx, d); err != nil {
			return DebitRequest{}, &dirtyError{err}
		}
		return d, u.appendEvent(ctx, d.LoanID, []string{d.BuyerID}, "loan.debit_retried", map[string]any{
			"loan_id": d.LoanID, "debit_id": d.ID, "amount": d.Amount, "by": u.actor.UserID})
	})
}

// RecordBankDebitResult records the bank's answer to a debit request by hand (admin): where no
// bank adapter runs, an operator reads the bank's report (or a bank file) and says whether the
// debit was paid. The answer is applied as the bank worker's would be, under the loan's locks.
// Recording the same answer again returns the request unchanged; a different answer for a
// request already answered is refused (bank_debit_recorded), and so is one the bank worker is
// asking the bank about right now (bank_debit_in_progress).
func (s *Service) RecordBankDebitResult(ctx context.Context, a trade.Actor, key, id string, paid bool) (DebitRequest, error) {
	if err := requireAdmin(a); err != nil {
		return DebitRequest{}, err
	}
	recorded := false
	d, err := run(ctx, s, a, key, []any{"bank_debit_result", id, paid}, func(u *unit) (DebitRequest, error) {
		recorded = false
		k, err := lockDebit(ctx, u, id)
		if err != nil {
			return DebitRequest{}, err
		}
		d, dt := k.d, k.dt
		switch {
		case !d.Status.Open() && (d.Status == DebitRefused) == !paid:
			return d, nil // the same answer, recorded already
		case !d.Status.Open():
			return DebitRequest{}, fault.New(fault.Conflict, "bank_debit_recorded", "the debit is %s already", d.Status)
		case d.LeaseOwner != "" && d.LeaseUntil.After(u.now):
			return DebitRequest{}, fault.New(fault.Conflict, "bank_debit_in_progress",
				"the bank worker is asking the bank about this debit now; try again in a few minutes")
		}
		st, err := s.applyDebit(ctx, u, k.ct, d, k.loan, k.line, paid)
		if err != nil {
			return DebitRequest{}, &dirtyError{err}
		}
		at := u.now
		d.Status, d.RecordedAt, d.LastError, d.RecordedBy, d.Sandbox = st, &at, "", "admin:"+u.actor.UserID, false
		if err := dt.UpdateBankDebit(ctx, d); err != nil {
			return DebitRequest{}, &dirtyError{fmt.Errorf("update debit request: %w", err)}
		}
		recorded = true
		return d, nil
	})
	if err == nil && recorded {
		s.debited(d.Kind, string(d.Status))
	}
	return d, err
}
