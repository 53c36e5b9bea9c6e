package escrow

import (
	"context"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// Collections (R11): a refused automatic debit is retried by timers (collect, in credit.go); a
// loan past due for credit.ChargeOffDaysPastDue days is charged off by its timer here, or earlier
// by an admin. See docs/pay-later.md.

// chargeOff fires a loan's charge-off timer: a loan still past due since at least
// credit.ChargeOffDaysPastDue days is charged off — the line closes, and the loan book moves what
// it owed from its receivable to the lender's credit loss. A loan cured meanwhile is left alone
// (the timer is skipped); one whose oldest overdue installment is more recent than the timer
// thought (a refund repaid the oldest) gets the timer again at the new date.
func (s *Service) chargeOff(ctx context.Context, u *unit, t StoredTimer) (string, error) {
	loanID := t.Ref
	ct, err := u.creditTx()
	if err != nil {
		return "", err
	}
	l, err := ct.Loan(ctx, loanID)
	if err != nil {
		return "", notFound(err, "loan")
	}
	if l.State != credit.PastDue {
		return "", fault.New(fault.Conflict, credit.ReasonNotAllowed, "the loan is %s, not past due", l.State)
	}
	if dt, err := u.debitTx(); err != nil {
		return "", err
	} else if open, err := openDebit(ctx, dt, l.ID); err != nil || open != nil {
		if err != nil {
			return "", err
		}
		return u.postpone(ctx, t, *open) // the debit may cure the loan: wait for the bank's answer
	}
	if at := l.ChargeOffAt(s.cred.loc); u.now.Before(at) {
		tm, _ := l.ChargeOffTimer(s.cred.loc)
		if err := u.tx.PutTimer(ctx, trade.Timer{Key: tm.Key, Kind: trade.TimerKind(tm.Kind), OrderID: l.ID,
			DueAt: tm.DueAt, Ref: l.ID}); err != nil {
			return "", fmt.Errorf("put timer: %w", err)
		}
		return "postponed to " + at.Format(time.RFC3339), nil
	}
	out, err := s.onLoan(ctx, u, loanID, func(_ CreditTx, l *LoanRecord, line *credit.Line) (credit.Effects, bool, error) {
		fx, err := l.ChargeOff(credit.RoleSystem, line, u.now)
		return fx, false, err
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("charged off after %d days past due; line closed", credit.ChargeOffDaysPastDue), checkChargedOff(out)
}

// checkChargedOff asserts what only a bug could break: a charged-off loan owes nothing on the
// platform's book.
func checkChargedOff(l LoanRecord) error {
	if l.State != credit.ChargedOff || !l.Balance().IsZero() {
		return &dirtyError{fmt.Errorf("loan %s is %s with balance %s after a charge-off: %w", l.ID, l.State, l.Balance(), errInvariant)}
	}
	return nil
}

// ChargeOffLoan is an admin charging off a past-due loan before its timer does (R11): the loan
// leaves the platform's servicing and the lender collects what it owes directly; the line is
// closed; the loan book moves the balance from the loan's receivable to the lender's credit
// loss. Only a past-due loan can be charged off (transition_not_allowed otherwise).
func (s *Service) ChargeOffLoan(ctx context.Context, a trade.Actor, key, loanID string) (LoanRecord, error) {
	if err := requireAdmin(a); err != nil {
		return LoanRecord{}, err
	}
	return run(ctx, s, a, key, []any{"loan_charge_off", loanID}, func(u *unit) (LoanRecord, error) {
		out, err := s.onLoan(ctx, u, loanID, func(_ CreditTx, l *LoanRecord, line *credit.Line) (credit.Effects, bool, error) {
			dt, err := u.debitTx()
			if err != nil {
				return credit.Effects{}, false, err
			}
			if open, err := openDebit(ctx, dt, l.ID); err != nil || open != nil {
				if err != nil {
					return credit.Effects{}, false, err
				}
				return credit.Effects{}, false, fault.New(fault.Conflict, "debit_pending",
					"a debit of %s from the buyer's account is waiting for the bank's answer (%s)", open.Amount, open.ID)
			}
			fx, err := l.ChargeOff(credit.RoleAdmin, line, u.now)
			return fx, false, err
		})
		if err != nil {
			return LoanRecord{}, err
		}
		return out, checkChargedOff(out)
	})
}
