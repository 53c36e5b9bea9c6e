package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
)

// Pay Later (R11): credit applications, lines and loans. Documents are JSON; the columns beside
// them are what is searched, locked and checked (see migrations 00005).

var (
	_ escrow.CreditReader = reader{}
	_ escrow.CreditTx     = (*tx)(nil)
)

// creditLimit bounds a list of loans or applications to 1..credit.StatementLoansMax.
func creditLimit(n int) int {
	if n <= 0 || n > credit.StatementLoansMax {
		return credit.StatementLoansMax
	}
	return n
}

// InsertCreditApplication stores an application, or returns ErrDuplicate for its ID.
func (t *tx) InsertCreditApplication(ctx context.Context, a credit.Application) error {
	doc, err := marshalDoc("credit application", a)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `INSERT INTO credit_applications (id, buyer_id, status, submitted_at, doc)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		a.ID, a.BuyerID, string(a.Status), micros(a.SubmittedAt), doc)
	if err != nil {
		return t.fail(insertErr("credit application", a.ID, err))
	}
	return t.fail(changed(res, duplicate("credit application", a.ID)))
}

// CreditApplications lists a buyer's applications, newest first.
func (r reader) CreditApplications(ctx context.Context, buyerID string, limit int) ([]credit.Application, error) {
	return r.applications(ctx, buyerID, `SELECT submitted_at, doc FROM credit_applications WHERE buyer_id = $1
		ORDER BY submitted_at DESC, id DESC LIMIT $2`, buyerID, creditLimit(limit))
}

// applications runs a query of (submitted_at, doc) rows of a buyer's applications.
func (r reader) applications(ctx context.Context, buyerID, query string, args ...any) ([]credit.Application, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("select credit applications of %q: %w", buyerID, err)
	}
	return scanAll(rows, "credit applications", func(s scanner) (credit.Application, error) {
		var at int64
		var doc string
		if err := s.Scan(&at, &doc); err != nil {
			return credit.Application{}, err
		}
		var a credit.Application
		if err := json.Unmarshal([]byte(doc), &a); err != nil {
			return credit.Application{}, fmt.Errorf("decode credit application: %w", err)
		}
		a.SubmittedAt = fromMicros(at)
		return a, nil
	})
}

const lineCols = `SELECT opened_at, doc FROM credit_lines`

// InsertCreditLine stores a new line; ErrDuplicate for its ID or a second open line of a buyer.
func (t *tx) InsertCreditLine(ctx context.Context, l credit.Line) error {
	doc, err := marshalDoc("credit line", l)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `INSERT INTO credit_lines
		(id, buyer_id, status, limit_minor, used, reserved, opened_at, doc)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
		l.ID, l.BuyerID, string(l.Status), l.Limit.Minor, l.Used.Minor, l.Reserved.Minor, micros(l.OpenedAt), doc)
	if err != nil {
		return t.fail(insertErr("credit line", l.ID, err))
	}
	return t.fail(changed(res, duplicate("credit line", l.ID)))
}

// UpdateCreditLine writes a line the transaction has locked.
func (t *tx) UpdateCreditLine(ctx context.Context, l credit.Line) error {
	doc, err := marshalDoc("credit line", l)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `UPDATE credit_lines SET status = $2, limit_minor = $3, used = $4,
		reserved = $5, doc = $6 WHERE id = $1`,
		l.ID, string(l.Status), l.Limit.Minor, l.Used.Minor, l.Reserved.Minor, doc)
	if err != nil {
		return t.fail(fmt.Errorf("update credit line %q: %w", l.ID, err))
	}
	return t.fail(changed(res, notFound("credit line", l.ID)))
}

// LockCreditLine reads a line and locks it until commit.
func (t *tx) LockCreditLine(ctx context.Context, id string) (credit.Line, error) {
	l, err := t.line(ctx, lineCols+` WHERE id = $1`+t.db.d.forUpdate, "credit line", id)
	return l, t.fail(err)
}

// CreditLine reads a line.
func (r reader) CreditLine(ctx context.Context, id string) (credit.Line, error) {
	return r.line(ctx, lineCols+` WHERE id = $1`, "credit line", id)
}

// OpenCreditLine reads the buyer's line that is not closed.
func (r reader) OpenCreditLine(ctx context.Context, buyerID string) (credit.Line, error) {
	return r.line(ctx, lineCols+` WHERE buyer_id = $1 AND status <> 'closed'`, "open credit line of buyer", buyerID)
}

func (r reader) line(ctx context.Context, query, what, arg string) (credit.Line, error) {
	var opened int64
	var doc string
	err := r.q.QueryRowContext(ctx, query, arg).Scan(&opened, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return credit.Line{}, notFound(what, arg)
	}
	if err != nil {
		return credit.Line{}, fmt.Errorf("select %s %q: %w", what, arg, err)
	}
	var l credit.Line
	if err := json.Unmarshal([]byte(doc), &l); err != nil {
		return credit.Line{}, fmt.Errorf("decode credit line: %w", err)
	}
	l.OpenedAt = fromMicros(opened)
	return l, nil
}

const loanCols = `SELECT created_at, doc FROM loans`

// InsertLoan stores a new loan; ErrDuplicate for its ID or a second accepted loan of a payment.
func (t *tx) InsertLoan(ctx context.Context, l escrow.LoanRecord) error {
	l.BankDebit = nil // read from bank_debits, never kept in the loan
	doc, err := marshalDoc("loan", l)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `INSERT INTO loans
		(id, line_id, buyer_id, order_id, payment_id, state, version, created_at, doc)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		l.ID, l.LineID, l.BuyerID, l.OrderID, l.PaymentID, string(l.State), l.Version, micros(l.CreatedAt), doc)
	if err != nil {
		return t.fail(insertErr("loan", l.ID, err))
	}
	return t.fail(changed(res, duplicate("loan", l.ID)))
}

// UpdateLoan writes l if the stored version is prevVersion, else returns ErrConflict.
func (t *tx) UpdateLoan(ctx context.Context, l escrow.LoanRecord, prevVersion int) error {
	if l.Version <= prevVersion {
		return fmt.Errorf("update loan %q: version %d not after %d", l.ID, l.Version, prevVersion) // a bug in the caller
	}
	l.BankDebit = nil // read from bank_debits, never kept in the loan
	doc, err := marshalDoc("loan", l)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `UPDATE loans SET state = $3, version = $4, doc = $5
		WHERE id = $1 AND version = $2`, l.ID, prevVersion, string(l.State), l.Version, doc)
	if err != nil {
		if uniqueViolation(err) {
			return t.fail(duplicate("accepted loan of payment", l.PaymentID))
		}
		return t.fail(fmt.Errorf("update loan %q: %w", l.ID, err))
	}
	return t.fail(changed(res, fmt.Errorf("update loan %q from version %d: %w", l.ID, prevVersion, escrow.ErrConflict)))
}

// LockLoan reads a loan and locks it until commit.
func (t *tx) LockLoan(ctx context.Context, id string) (escrow.LoanRecord, error) {
	l, err := t.loan(ctx, id, t.db.d.forUpdate)
	return l, t.fail(err)
}

// Loan reads a loan.
func (r reader) Loan(ctx context.Context, id string) (escrow.LoanRecord, error) {
	return r.loan(ctx, id, "")
}

func (r reader) loan(ctx context.Context, id, lock string) (escrow.LoanRecord, error) {
	l, err := scanLoan(r.q.QueryRowContext(ctx, loanCols+` WHERE id = $1`+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		return escrow.LoanRecord{}, notFound("loan", id)
	}
	if err != nil {
		return escrow.LoanRecord{}, fmt.Errorf("select loan %q: %w", id, err)
	}
	return l, nil
}

// LoansOfLine lists a line's loans by ID.
func (r reader) LoansOfLine(ctx context.Context, lineID string, limit int) ([]escrow.LoanRecord, error) {
	return r.loans(ctx, lineID, loanCols+` WHERE line_id = $1 ORDER BY id LIMIT $2`, lineID, creditLimit(limit))
}

// LoansOfOrder lists the loans of an order's payments by ID.
func (r reader) LoansOfOrder(ctx context.Context, orderID string) ([]escrow.LoanRecord, error) {
	return r.loans(ctx, orderID, loanCols+` WHERE order_id = $1 ORDER BY id LIMIT $2`, orderID, credit.StatementLoansMax)
}

// loans runs a query of loan rows; owner (the line or order) names them in errors.
func (r reader) loans(ctx context.Context, owner, query string, args ...any) ([]escrow.LoanRecord, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("select loans of %q: %w", owner, err)
	}
	return scanAll(rows, "loans", func(s scanner) (escrow.LoanRecord, error) { return scanLoan(s) })
}

func scanLoan(row interface{ Scan(...any) error }) (escrow.LoanRecord, error) {
	var created int64
	var doc string
	if err := row.Scan(&created, &doc); err != nil {
		return escrow.LoanRecord{}, err
	}
	var l escrow.LoanRecord
	if err := json.Unmarshal([]byte(doc), &l); err != nil {
		return escrow.LoanRecord{}, fmt.Errorf("decode loan: %w", err)
	}
	l.CreatedAt = fromMicros(created)
	return l, nil
}

// LatestCreditLine reads the buyer's line that is not closed, or else the one opened last.
func (r reader) LatestCreditLine(ctx context.Context, buyerID string) (credit.Line, error) {
	return r.line(ctx, lineCols+` WHERE buyer_id = $1
		ORDER BY CASE WHEN status = 'closed' THEN 1 ELSE 0 END, opened_at DESC, id DESC LIMIT 1`, "credit line of buyer", buyerID)
}

// InsertCreditStatement stores a closed statement, or returns ErrDuplicate for its line and month.
func (t *tx) InsertCreditStatement(ctx context.Context, st credit.Statement) error {
	if st.Status != credit.StatementClosed || st.ClosedAt.IsZero() {
		return fmt.Errorf("insert credit statement %s/%s: not closed", st.LineID, st.Period) // a bug in the caller
	}
	doc, err := marshalDoc("credit statement", st)
	if err != nil {
		return err
	}
	key := st.LineID + "/" + st.Period.String()
	res, err := t.q.ExecContext(ctx, `INSERT INTO credit_statements
		(line_id, period, buyer_id, closed_at, opening_balance, closing_balance, doc)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
		st.LineID, st.Period.String(), st.BuyerID, micros(st.ClosedAt), st.Opening.Minor, st.Closing.Minor, doc)
	if err != nil {
		return t.fail(insertErr("credit statement", key, err))
	}
	return t.fail(changed(res, duplicate("credit statement", key)))
}

// CreditStatement reads a line's stored statement of a month.
func (r reader) CreditStatement(ctx context.Context, lineID string, p credit.Period) (credit.Statement, error) {
	var doc string
	err := r.q.QueryRowContext(ctx, `SELECT doc FROM credit_statements WHERE line_id = $1 AND period = $2`,
		lineID, p.String()).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return credit.Statement{}, notFound("credit statement", lineID+"/"+p.String())
	}
	if err != nil {
		return credit.Statement{}, fmt.Errorf("select credit statement %s/%s: %w", lineID, p, err)
	}
	return decodeStatement(doc)
}

// CreditStatements lists a buyer's stored statements, newest month first.
func (r reader) CreditStatements(ctx context.Context, buyerID string, limit int) ([]credit.Statement, error) {
	if limit <= 0 || limit > escrow.StatementsListMax {
		limit = escrow.StatementsListMax
	}
	return r.statements(ctx, buyerID, `SELECT doc FROM credit_statements WHERE buyer_id = $1
		ORDER BY period DESC, closed_at DESC, line_id LIMIT $2`, buyerID, limit)
}

// statements runs a query of the doc column of a buyer's statements.
func (r reader) statements(ctx context.Context, buyerID, query string, args ...any) ([]credit.Statement, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("select credit statements of %q: %w", buyerID, err)
	}
	return scanAll(rows, "credit statements", func(s scanner) (credit.Statement, error) {
		var doc string
		if err := s.Scan(&doc); err != nil {
			return credit.Statement{}, err
		}
		return decodeStatement(doc)
	})
}

func decodeStatement(doc string) (credit.Statement, error) {
	var st credit.Statement
	if err := json.Unmarshal([]byte(doc), &st); err != nil {
		return credit.Statement{}, fmt.Errorf("decode credit statement: %w", err)
	}
	return st, nil
}
