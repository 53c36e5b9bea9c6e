package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
)

// The Pay Later lender outbox (R11): applications to decide and disbursements to make, claimed
// by the lender worker with a lease; and what underwriting reads of the buyer's history
// (migration 00015).

var (
	_ escrow.LenderReader  = reader{}
	_ escrow.LenderTx      = (*tx)(nil)
	_ escrow.LenderClaimer = (*DB)(nil)
)

const lenderCols = `id, kind, buyer_id, application_id, loan_id, amount, currency, payment_reference, status, attempts,
	next_attempt_at, lease_owner, lease_until, last_error, answer, requested_at, recorded_at`

// InsertLenderRequest stores a new request; ErrDuplicate for its ID or a second open request of
// an application or a loan.
func (t *tx) InsertLenderRequest(ctx context.Context, r escrow.LenderRequest) error {
	res, err := t.q.ExecContext(ctx, `INSERT INTO lender_requests (`+lenderCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) ON CONFLICT DO NOTHING`,
		r.ID, string(r.Kind), r.BuyerID, r.ApplicationID, r.LoanID, r.Amount.Minor, string(r.Amount.Currency), r.PaymentReference,
		string(r.Status), r.Attempts, micros(r.NextAttemptAt), r.LeaseOwner, nullMicros(r.LeaseUntil), r.LastError,
		rawText(r.Answer), micros(r.RequestedAt), optMicros(r.RecordedAt))
	if err != nil {
		return t.fail(insertErr("lender request", r.ID, err))
	}
	return t.fail(changed(res, duplicate("lender request (or an open one of its application or loan)", r.ID)))
}

// LockLenderRequest reads a request and locks it until commit; with an owner, only while that
// owner holds it and it is requested.
func (t *tx) LockLenderRequest(ctx context.Context, id, owner string) (escrow.LenderRequest, error) {
	q, args := `SELECT `+lenderCols+` FROM lender_requests WHERE id = $1`, []any{id}
	if owner != "" {
		q, args = q+` AND status = 'requested' AND lease_owner = $2`, append(args, owner)
	}
	r, err := scanLenderRequest(t.q.QueryRowContext(ctx, q+t.db.d.forUpdate, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return escrow.LenderRequest{}, notFound("lender request", id)
	}
	if err != nil {
		return escrow.LenderRequest{}, t.fail(fmt.Errorf("select lender request %q: %w", id, err))
	}
	return r, nil
}

// UpdateLenderRequest writes a locked request's status, attempts, schedule, error, answer and
// record time, and clears its lease.
func (t *tx) UpdateLenderRequest(ctx context.Context, r escrow.LenderRequest) error {
	res, err := t.q.ExecContext(ctx, `UPDATE lender_requests SET status = $2, attempts = $3, next_attempt_at = $4,
		lease_owner = '', lease_until = NULL, last_error = $5, answer = $6, recorded_at = $7 WHERE id = $1`,
		r.ID, string(r.Status), r.Attempts, micros(r.NextAttemptAt), r.LastError, rawText(r.Answer), optMicros(r.RecordedAt))
	if err != nil {
		if uniqueViolation(err) {
			return t.fail(duplicate("open lender request of", r.ApplicationID+r.LoanID))
		}
		return t.fail(fmt.Errorf("update lender request %q: %w", r.ID, err))
	}
	return t.fail(changed(res, notFound("lender request", r.ID)))
}

// LenderRequest reads a request.
func (r reader) LenderRequest(ctx context.Context, id string) (escrow.LenderRequest, error) {
	lr, err := scanLenderRequest(r.q.QueryRowContext(ctx, `SELECT `+lenderCols+` FROM lender_requests WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return escrow.LenderRequest{}, notFound("lender request", id)
	}
	if err != nil {
		return escrow.LenderRequest{}, fmt.Errorf("select lender request %q: %w", id, err)
	}
	return lr, nil
}

// LenderRequests lists up to f.Limit requests after the request f.After, newest first, narrowed
// by f.
func (r reader) LenderRequests(ctx context.Context, f escrow.LenderFilter) ([]escrow.LenderRequest, error) {
	limit := f.Limit
	if limit <= 0 || limit > escrow.LenderRequestsListMax {
		limit = escrow.LenderRequestsListMax
	}
	var where []string
	args := []any{limit}
	for _, c := range []struct{ col, v string }{{"status", string(f.Status)}, {"kind", string(f.Kind)},
		{"application_id", f.ApplicationID}, {"loan_id", f.LoanID}} {
		if c.v != "" {
			args = append(args, c.v)
			where = append(where, fmt.Sprintf("%s = $%d", c.col, len(args)))
		}
	}
	if f.After != "" {
		args = append(args, f.After)
		where = append(where, fmt.Sprintf("(requested_at, id) < (SELECT requested_at, id FROM lender_requests WHERE id = $%d)", len(args)))
	}
	q := `SELECT ` + lenderCols + ` FROM lender_requests`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := r.q.QueryContext(ctx, q+` ORDER BY requested_at DESC, id DESC LIMIT $1`, args...)
	if err != nil {
		return nil, fmt.Errorf("select lender requests: %w", err)
	}
	return scanAll(rows, "lender requests", func(s scanner) (escrow.LenderRequest, error) { return scanLenderRequest(s) })
}

// ClaimLenderRequests leases requested requests due at now; see escrow.LenderClaimer.
func (db *DB) ClaimLenderRequests(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int) ([]escrow.LenderRequest, error) {
	if owner == "" || lease <= 0 {
		return nil, fmt.Errorf("claim lender requests: want an owner and a positive lease")
	}
	if limit <= 0 || limit > escrow.LenderBatchMax {
		limit = escrow.LenderBatchMax
	}
	var out []escrow.LenderRequest
	err := db.write(ctx, func(t *tx) error {
		// One statement: the inner SELECT picks the due requests (on PostgreSQL locking them and
		// skipping those a concurrent claimer holds), the UPDATE leases them. A lapsed lease is
		// due again: its worker died, perhaps after the lender answered.
		rows, err := t.q.QueryContext(ctx, `UPDATE lender_requests SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
			WHERE id IN (SELECT id FROM lender_requests
				WHERE status = 'requested' AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3)
				ORDER BY next_attempt_at, id LIMIT $4`+db.d.skipLocked+`)
			RETURNING `+lenderCols, owner, micros(now.Add(lease)), micros(now), limit)
		if err != nil {
			return t.fail(fmt.Errorf("claim lender requests: %w", err))
		}
		out, err = scanAll(rows, "lender requests", func(s scanner) (escrow.LenderRequest, error) { return scanLenderRequest(s) })
		return t.fail(err)
	})
	if err != nil {
		return nil, err
	}
	// RETURNING has no order.
	slices.SortFunc(out, func(a, b escrow.LenderRequest) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func scanLenderRequest(row interface{ Scan(...any) error }) (escrow.LenderRequest, error) {
	var r escrow.LenderRequest
	var kind, cur, status, answer string
	var amount, next, requested int64
	var lease, recorded sql.NullInt64
	err := row.Scan(&r.ID, &kind, &r.BuyerID, &r.ApplicationID, &r.LoanID, &amount, &cur, &r.PaymentReference, &status,
		&r.Attempts, &next, &r.LeaseOwner, &lease, &r.LastError, &answer, &requested, &recorded)
	if err != nil {
		return escrow.LenderRequest{}, err
	}
	r.Kind, r.Status, r.Amount = escrow.LenderRequestKind(kind), escrow.LenderRequestStatus(status), money.New(amount, money.Currency(cur))
	r.NextAttemptAt, r.RequestedAt = fromMicros(next), fromMicros(requested)
	r.LeaseUntil, r.RecordedAt = fromNullMicros(lease), fromOptMicros(recorded)
	if answer != "" {
		r.Answer = json.RawMessage(answer)
	}
	return r, nil
}

// UpdateCreditApplication writes an application's status and document; ErrDuplicate when the
// buyer would have two applications being decided.
func (t *tx) UpdateCreditApplication(ctx context.Context, a credit.Application) error {
	doc, err := marshalDoc("credit application", a)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `UPDATE credit_applications SET status = $2, doc = $3 WHERE id = $1`, a.ID, string(a.Status), doc)
	if err != nil {
		if uniqueViolation(err) {
			return t.fail(duplicate("credit application being decided of", a.BuyerID))
		}
		return t.fail(fmt.Errorf("update credit application %q: %w", a.ID, err))
	}
	return t.fail(changed(res, notFound("credit application", a.ID)))
}

// CreditApplication reads one application.
func (r reader) CreditApplication(ctx context.Context, id string) (credit.Application, error) {
	var at int64
	var doc string
	err := r.q.QueryRowContext(ctx, `SELECT submitted_at, doc FROM credit_applications WHERE id = $1`, id).Scan(&at, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return credit.Application{}, notFound("credit application", id)
	}
	if err != nil {
		return credit.Application{}, fmt.Errorf("select credit application %q: %w", id, err)
	}
	var a credit.Application
	if err := json.Unmarshal([]byte(doc), &a); err != nil {
		return credit.Application{}, fmt.Errorf("decode credit application %q: %w", id, err)
	}
	a.SubmittedAt = fromMicros(at)
	return a, nil
}

// CreditHistory counts the buyer's charged-off loans and its loans past due now, on every line
// it ever had.
func (r reader) CreditHistory(ctx context.Context, buyerID string) (credit.History, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT state, COUNT(*) FROM loans WHERE buyer_id = $1 AND state IN ($2, $3) GROUP BY state`,
		buyerID, string(credit.ChargedOff), string(credit.PastDue))
	if err != nil {
		return credit.History{}, fmt.Errorf("select loans of %q: %w", buyerID, err)
	}
	defer rows.Close()
	var h credit.History
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return credit.History{}, fmt.Errorf("scan loan states: %w", err)
		}
		switch credit.State(state) {
		case credit.ChargedOff:
			h.ChargedOffLoans = n
		case credit.PastDue:
			h.PastDueLoans = n
		}
	}
	if err := rows.Err(); err != nil {
		return credit.History{}, fmt.Errorf("select loans of %q: %w", buyerID, err)
	}
	return h, nil
}
