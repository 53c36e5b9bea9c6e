package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
)

// The Pay Later debit outbox (R11): debit requests, claimed by the bank worker with a lease
// (migration 00011).

var (
	_ escrow.BankDebitReader  = reader{}
	_ escrow.BankDebitTx      = (*tx)(nil)
	_ escrow.BankDebitClaimer = (*DB)(nil)
)

const debitCols = `id, loan_id, buyer_id, kind, amount, currency, account_last4, loan_version, status, attempts,
	next_attempt_at, lease_owner, lease_until, last_error, requested_at, recorded_at, sandbox, recorded_by`

// InsertBankDebit stores a new request; ErrDuplicate for its ID or a second open request of a loan.
func (t *tx) InsertBankDebit(ctx context.Context, d escrow.DebitRequest) error {
	res, err := t.q.ExecContext(ctx, `INSERT INTO bank_debits (`+debitCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) ON CONFLICT DO NOTHING`,
		d.ID, d.LoanID, d.BuyerID, string(d.Kind), d.Amount.Minor, string(d.Amount.Currency), d.AccountLast4, d.LoanVersion,
		string(d.Status), d.Attempts, micros(d.NextAttemptAt), d.LeaseOwner, nullMicros(d.LeaseUntil), d.LastError,
		micros(d.RequestedAt), optMicros(d.RecordedAt), flag(d.Sandbox), d.RecordedBy)
	if err != nil {
		return t.fail(insertErr("debit request", d.ID, err))
	}
	return t.fail(changed(res, duplicate("debit request (or an open one of loan "+d.LoanID+")", d.ID)))
}

// LockBankDebit reads a request and locks it until commit; with an owner, only while that owner
// holds it and it is requested.
func (t *tx) LockBankDebit(ctx context.Context, id, owner string) (escrow.DebitRequest, error) {
	q, args := `SELECT `+debitCols+` FROM bank_debits WHERE id = $1`, []any{id}
	if owner != "" {
		q, args = q+` AND status = 'requested' AND lease_owner = $2`, append(args, owner)
	}
	d, err := scanDebit(t.q.QueryRowContext(ctx, q+t.db.d.forUpdate, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return escrow.DebitRequest{}, notFound("debit request", id)
	}
	if err != nil {
		return escrow.DebitRequest{}, t.fail(fmt.Errorf("select debit request %q: %w", id, err))
	}
	return d, nil
}

// UpdateBankDebit writes a locked request's status, attempts, schedule, error and record time,
// and clears its lease.
func (t *tx) UpdateBankDebit(ctx context.Context, d escrow.DebitRequest) error {
	res, err := t.q.ExecContext(ctx, `UPDATE bank_debits SET status = $2, attempts = $3, next_attempt_at = $4,
		lease_owner = '', lease_until = NULL, last_error = $5, recorded_at = $6, sandbox = $7, recorded_by = $8 WHERE id = $1`,
		d.ID, string(d.Status), d.Attempts, micros(d.NextAttemptAt), d.LastError, optMicros(d.RecordedAt), flag(d.Sandbox),
		d.RecordedBy)
	if err != nil {
		if uniqueViolation(err) {
			return t.fail(duplicate("open debit request of loan", d.LoanID))
		}
		return t.fail(fmt.Errorf("update debit request %q: %w", d.ID, err))
	}
	return t.fail(changed(res, notFound("debit request", d.ID)))
}

// OpenBankDebit reads the loan's open request (requested or attention).
func (r reader) OpenBankDebit(ctx context.Context, loanID string) (escrow.DebitRequest, error) {
	return r.debit(ctx, `SELECT `+debitCols+` FROM bank_debits WHERE loan_id = $1 AND status IN ('requested', 'attention')`,
		"open debit request of loan", loanID)
}

// LatestBankDebit reads the loan's newest request.
func (r reader) LatestBankDebit(ctx context.Context, loanID string) (escrow.DebitRequest, error) {
	return r.debit(ctx, `SELECT `+debitCols+` FROM bank_debits WHERE loan_id = $1 ORDER BY requested_at DESC, id DESC LIMIT 1`,
		"debit request of loan", loanID)
}

// BankDebit reads a request.
func (r reader) BankDebit(ctx context.Context, id string) (escrow.DebitRequest, error) {
	return r.debit(ctx, `SELECT `+debitCols+` FROM bank_debits WHERE id = $1`, "debit request", id)
}

func (r reader) debit(ctx context.Context, query, what, arg string) (escrow.DebitRequest, error) {
	d, err := scanDebit(r.q.QueryRowContext(ctx, query, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return escrow.DebitRequest{}, notFound(what, arg)
	}
	if err != nil {
		return escrow.DebitRequest{}, fmt.Errorf("select %s %q: %w", what, arg, err)
	}
	return d, nil
}

// BankDebits lists up to f.Limit requests after the request f.After, newest first, narrowed by f.
func (r reader) BankDebits(ctx context.Context, f escrow.DebitFilter) ([]escrow.DebitRequest, error) {
	limit := f.Limit
	if limit <= 0 || limit > escrow.BankDebitsListMax {
		limit = escrow.BankDebitsListMax
	}
	var where []string
	args := []any{limit}
	if f.Status != "" {
		args = append(args, string(f.Status))
		where = append(where, fmt.Sprintf("status = $%d", len(args)))
	}
	if f.LoanID != "" {
		args = append(args, f.LoanID)
		where = append(where, fmt.Sprintf("loan_id = $%d", len(args)))
	}
	if f.After != "" {
		args = append(args, f.After)
		where = append(where, fmt.Sprintf("(requested_at, id) < (SELECT requested_at, id FROM bank_debits WHERE id = $%d)", len(args)))
	}
	q := `SELECT ` + debitCols + ` FROM bank_debits`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := r.q.QueryContext(ctx, q+` ORDER BY requested_at DESC, id DESC LIMIT $1`, args...)
	if err != nil {
		return nil, fmt.Errorf("select debit requests: %w", err)
	}
	return scanDebits(rows)
}

// ClaimBankDebits leases requested debits due at now; see escrow.BankDebitClaimer.
func (db *DB) ClaimBankDebits(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int) ([]escrow.DebitRequest, error) {
	if owner == "" || lease <= 0 {
		return nil, fmt.Errorf("claim debit requests: want an owner and a positive lease")
	}
	if limit <= 0 || limit > escrow.BankDebitBatchMax {
		limit = escrow.BankDebitBatchMax
	}
	var out []escrow.DebitRequest
	err := db.write(ctx, func(t *tx) error {
		// One statement: the inner SELECT picks the due requests (on PostgreSQL locking them and
		// skipping those a concurrent claimer holds), the UPDATE leases them. A lapsed lease is
		// due again: its worker died, perhaps after the bank answered.
		rows, err := t.q.QueryContext(ctx, `UPDATE bank_debits SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
			WHERE id IN (SELECT id FROM bank_debits
				WHERE status = 'requested' AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3)
				ORDER BY next_attempt_at, id LIMIT $4`+db.d.skipLocked+`)
			RETURNING `+debitCols, owner, micros(now.Add(lease)), micros(now), limit)
		if err != nil {
			return t.fail(fmt.Errorf("claim debit requests: %w", err))
		}
		out, err = scanDebits(rows)
		return t.fail(err)
	})
	if err != nil {
		return nil, err
	}
	// RETURNING has no order.
	slices.SortFunc(out, func(a, b escrow.DebitRequest) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func scanDebits(rows *sql.Rows) ([]escrow.DebitRequest, error) {
	return scanAll(rows, "debit requests", func(r scanner) (escrow.DebitRequest, error) { return scanDebit(r) })
}

func scanDebit(row interface{ Scan(...any) error }) (escrow.DebitRequest, error) {
	var d escrow.DebitRequest
	var kind, cur, status string
	var amount, next, requested int64
	var lease, recorded sql.NullInt64
	var sandbox int64
	err := row.Scan(&d.ID, &d.LoanID, &d.BuyerID, &kind, &amount, &cur, &d.AccountLast4, &d.LoanVersion, &status,
		&d.Attempts, &next, &d.LeaseOwner, &lease, &d.LastError, &requested, &recorded, &sandbox, &d.RecordedBy)
	if err != nil {
		return escrow.DebitRequest{}, err
	}
	d.Kind, d.Status, d.Amount = escrow.DebitKind(kind), escrow.DebitStatus(status), money.New(amount, money.Currency(cur))
	d.NextAttemptAt, d.RequestedAt = fromMicros(next), fromMicros(requested)
	d.LeaseUntil, d.RecordedAt, d.Sandbox = fromNullMicros(lease), fromOptMicros(recorded), sandbox == 1
	if d.Amount.Currency != credit.USD {
		return escrow.DebitRequest{}, fmt.Errorf("debit request %s in %s: Pay Later is USD only", d.ID, cur) // the CHECK forbids it
	}
	return d, nil
}
