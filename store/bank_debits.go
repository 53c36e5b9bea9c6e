package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

// debitOutbox is the debit requests' table: claimed by the bank worker, requested and due.
var debitOutbox = outbox[escrow.DebitRequest]{
	what: "debit requests", one: "debit request", table: "bank_debits", key: "id", cols: debitCols, scan: scanDebit,
	lease: leaseTo,
	due:   `status = 'requested' AND ` + dueNow,
	order: `next_attempt_at, id`, batchMax: escrow.BankDebitBatchMax,
	sorted: byDue(func(d escrow.DebitRequest) (time.Time, string) { return d.NextAttemptAt, d.ID }),
	held:   `status = 'requested' AND lease_owner = $2`,
}

// LockBankDebit reads a request and locks it until commit; with an owner, only while that owner
// holds it and it is requested.
func (t *tx) LockBankDebit(ctx context.Context, id, owner string) (escrow.DebitRequest, error) {
	return lockRow(ctx, t, debitOutbox, id, owner)
}

// UpdateBankDebit writes a locked request's status, attempts, schedule, error and record time,
// and clears its lease.
func (t *tx) UpdateBankDebit(ctx context.Context, d escrow.DebitRequest) error {
	return t.updateRow(ctx, "debit request", d.ID, duplicate("open debit request of loan", d.LoanID),
		`UPDATE bank_debits SET status = $2, attempts = $3, next_attempt_at = $4, lease_owner = '', lease_until = NULL,
		last_error = $5, recorded_at = $6, sandbox = $7, recorded_by = $8 WHERE id = $1`,
		d.ID, string(d.Status), d.Attempts, micros(d.NextAttemptAt), d.LastError, optMicros(d.RecordedAt), flag(d.Sandbox),
		d.RecordedBy)
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

// BankDebits lists up to f.Limit requests after the request f.After, newest first or oldest
// first (f.Order), narrowed by f.
func (r reader) BankDebits(ctx context.Context, f escrow.DebitFilter) ([]escrow.DebitRequest, error) {
	by, err := orderOf(f.Order, escrow.NewestFirst, escrow.OldestFirst)
	if err != nil {
		return nil, err
	}
	return page(ctx, r, debitOutbox, []match{{"status", string(f.Status)}, {"loan_id", f.LoanID}}, by, f.After, f.Limit,
		escrow.BankDebitsListMax)
}

// ClaimBankDebits leases requested debits due at now; see escrow.BankDebitClaimer.
func (db *DB) ClaimBankDebits(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int) ([]escrow.DebitRequest, error) {
	return claimDue(ctx, db, debitOutbox, now, owner, lease, limit)
}

func scanDebit(row scanner) (escrow.DebitRequest, error) {
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
