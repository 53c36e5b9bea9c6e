package escrow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// Monthly statements (R11). A line's statement covers a calendar month in UTC and closes at
// 00:00 UTC on the 1st of the next month: a durable timer (credit.TimerStatement, filed under the
// line) then builds it from the line's loans, stores it for good and sets the next month's timer.
// A closed month is read from storage; a month not closed yet is computed on request and marked
// in progress. See docs/pay-later.md.

// statementTimer closes the line's statement of p at the end of p.
func statementTimer(lineID string, p credit.Period) trade.Timer {
	return trade.Timer{Key: lineID + "/statement/" + p.String(), Kind: trade.TimerKind(credit.TimerStatement),
		OrderID: lineID, DueAt: p.End(), Ref: p.String()}
}

// ensureStatementTimer sets the timer that closes the current month's statement of a line
// that has none pending: a line opened before statements were stored gets its first one with
// its next loan transition.
func (u *unit) ensureStatementTimer(ctx context.Context, line credit.Line) error {
	if line.Status == credit.LineClosed {
		return nil
	}
	ts, err := u.tx.Timers(ctx, line.ID)
	if err != nil {
		return fmt.Errorf("timers of line %s: %w", line.ID, err)
	}
	for _, t := range ts {
		if t.Kind == trade.TimerKind(credit.TimerStatement) && (t.State == TimerPending || t.State == TimerClaimed) {
			return nil
		}
	}
	return u.tx.PutTimer(ctx, statementTimer(line.ID, credit.PeriodOf(u.now)))
}

// closeStatement fires a line's statement timer: under the line's lock (so no loan of the line
// changes meanwhile) it builds the month's statement from the loans, stores it as closed — once:
// a second attempt finds it stored and is skipped — publishes credit.statement_closed to the
// buyer, and sets the next month's timer while the line has anything left to state.
func (s *Service) closeStatement(ctx context.Context, u *unit, t StoredTimer) (string, error) {
	p, err := credit.ParsePeriod(t.Ref)
	if err != nil {
		return "", fmt.Errorf("statement timer %d: %w", t.ID, err)
	}
	ct, err := u.creditTx()
	if err != nil {
		return "", err
	}
	line, err := ct.LockCreditLine(ctx, t.OrderID)
	if err != nil {
		return "", notFound(err, "credit_line")
	}
	recs, err := ct.LoansOfLine(ctx, line.ID, credit.StatementLoansMax)
	if err != nil {
		return "", err
	}
	loans := make([]credit.Loan, 0, len(recs))
	for _, r := range recs {
		loans = append(loans, r.Loan)
	}
	st, err := credit.NewStatement(line, loans, p)
	if err != nil {
		return "", err
	}
	st.Close(u.now)
	switch err := ct.InsertCreditStatement(ctx, st); {
	case errors.Is(err, ErrDuplicate):
		return "", fault.New(fault.Conflict, "credit_statement_closed", "the statement of %s is stored already", p)
	case err != nil:
		return "", fmt.Errorf("insert credit statement: %w", err)
	}
	if err := u.appendEvent(ctx, line.BuyerID, []string{line.BuyerID}, "credit.statement_closed", map[string]any{
		"line_id": line.ID, "period": p.String(), "closing_balance": st.Closing, "next_due_date": st.NextDueDate,
		"next_due_amount": st.NextDueAmount, "past_due": st.PastDue}); err != nil {
		return "", &dirtyError{err}
	}
	if statementsContinue(line, loans, p) {
		if err := u.tx.PutTimer(ctx, statementTimer(line.ID, p.Next())); err != nil {
			return "", &dirtyError{fmt.Errorf("put timer: %w", err)}
		}
	}
	return fmt.Sprintf("closed %s: closing balance %s", p, st.Closing), nil
}

// statementsContinue reports whether the month after p needs a statement: the line is open, a
// loan of it is still running, or something was posted after p.
func statementsContinue(line credit.Line, loans []credit.Loan, p credit.Period) bool {
	if line.Status != credit.LineClosed {
		return true
	}
	for _, l := range loans {
		if !l.State.Terminal() {
			return true
		}
		for _, post := range l.Postings {
			if !post.At.Before(p.End()) {
				return true
			}
		}
	}
	return false
}

// statementLine resolves whose statements an actor may read: a buyer its own, an admin any
// buyer's; everyone else is told there is no such statement (404), as a buyer is for another
// buyer's. It returns the buyer's line: the open one, or the last one opened.
func (s *Service) statementLine(ctx context.Context, r CreditReader, a trade.Actor, buyerID string) (credit.Line, error) {
	switch a.Role {
	case trade.RoleBuyer:
		buyerID = a.OrgID
	case trade.RoleAdmin:
	default:
		return credit.Line{}, fault.New(fault.NotFound, "credit_statement_not_found", "no such statement")
	}
	line, err := r.LatestCreditLine(ctx, buyerID)
	return line, notFound(err, "credit_line")
}

// CreditStatement returns the monthly statement of the buyer's line (R11) for period p: the
// stored statement once its month has closed (Status closed, never changing), or for the
// current month — or a month whose closing has not run yet — the statement computed now
// (Status in_progress). It has the opening balance, draws, fees, credits (the first-month fee
// credit), payments, refunds applied, anything charged off, the closing balance and the next due
// date and amount. The buyer reads its own, an admin names the buyer; anyone else, and a month
// before the line opened or not begun, gets credit_statement_not_found. A buyer whose lines are
// all closed reads the statements of the last one.
func (s *Service) CreditStatement(ctx context.Context, a trade.Actor, buyerID string, p credit.Period) (credit.Statement, error) {
	if !p.Valid() {
		return credit.Statement{}, fault.FieldErr("period", "invalid_period", "give the month as YYYY-MM")
	}
	now := s.clock.Now()
	var st credit.Statement
	err := s.creditRead(ctx, func(r CreditReader) error {
		line, err := s.statementLine(ctx, r, a, buyerID)
		if err != nil {
			return err
		}
		st, err = r.CreditStatement(ctx, line.ID, p)
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		switch {
		case p.Start().After(now):
			return fault.New(fault.NotFound, "credit_statement_not_found", "the month of %s has not begun", p)
		case !p.End().After(line.OpenedAt):
			return fault.New(fault.NotFound, "credit_statement_not_found", "the line opened on %s, after %s",
				line.OpenedAt.UTC().Format(time.DateOnly), p)
		}
		recs, err := r.LoansOfLine(ctx, line.ID, credit.StatementLoansMax)
		if err != nil {
			return err
		}
		loans := make([]credit.Loan, 0, len(recs))
		for _, l := range recs {
			loans = append(loans, l.Loan)
		}
		st, err = credit.NewStatement(line, loans, p)
		return err
	})
	return st, err
}

// CreditStatements lists the buyer's closed statements (R11), newest month first, at most
// StatementsListMax; the current month's, in progress, is CreditStatement of
// credit.PeriodOf(now). The buyer reads its own, an admin names the buyer; anyone else gets
// credit_statement_not_found.
func (s *Service) CreditStatements(ctx context.Context, a trade.Actor, buyerID string) ([]credit.Statement, error) {
	var out []credit.Statement
	err := s.creditRead(ctx, func(r CreditReader) error {
		line, err := s.statementLine(ctx, r, a, buyerID)
		if err != nil {
			return err
		}
		out, err = r.CreditStatements(ctx, line.BuyerID, StatementsListMax)
		return err
	})
	return out, err
}
