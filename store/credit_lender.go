package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
)

// The Pay Later lender outbox (R11): applications to decide and disbursements to make, claimed
// by the lender worker with a lease; and what underwriting reads of the buyer's history
// (migrations 00015 and 00018: disbursements awaiting the lender's money, the money's ID, the
// sandbox's; 00019: when that money is due, and when it was marked overdue).

var (
	_ escrow.LenderReader  = reader{}
	_ escrow.LenderTx      = (*tx)(nil)
	_ escrow.LenderClaimer = (*DB)(nil)
)

const lenderCols = `id, kind, buyer_id, application_id, loan_id, amount, currency, payment_reference, status, attempts,
	next_attempt_at, lease_owner, lease_until, last_error, answer, requested_at, recorded_at, sandbox, funds_id, funds_due_at,
	overdue_at`

// InsertLenderRequest stores a new request; ErrDuplicate for its ID or a second open request of
// an application or a loan.
func (t *tx) InsertLenderRequest(ctx context.Context, r escrow.LenderRequest) error {
	res, err := t.q.ExecContext(ctx, `INSERT INTO lender_requests (`+lenderCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
		ON CONFLICT DO NOTHING`,
		r.ID, string(r.Kind), r.BuyerID, r.ApplicationID, r.LoanID, r.Amount.Minor, string(r.Amount.Currency), r.PaymentReference,
		string(r.Status), r.Attempts, micros(r.NextAttemptAt), r.LeaseOwner, nullMicros(r.LeaseUntil), r.LastError,
		rawText(r.Answer), micros(r.RequestedAt), optMicros(r.RecordedAt), flag(r.Sandbox), r.FundsID, optMicros(r.FundsDueAt),
		optMicros(r.OverdueAt))
	if err != nil {
		return t.fail(insertErr("lender request", r.ID, err))
	}
	return t.fail(changed(res, duplicate("lender request (or an open one of its application or loan)", r.ID)))
}

// lenderOutbox is the lender requests' table: claimed by the lender worker, requested and due.
var lenderOutbox = outbox[escrow.LenderRequest]{
	what: "lender requests", one: "lender request", table: "lender_requests", key: "id", cols: lenderCols,
	scan:  scanLenderRequest,
	lease: leaseTo,
	due:   `status = 'requested' AND ` + dueNow,
	order: `next_attempt_at, id`, batchMax: escrow.LenderBatchMax,
	sorted: byDue(func(r escrow.LenderRequest) (time.Time, string) { return r.NextAttemptAt, r.ID }),
	held:   `status = 'requested' AND lease_owner = $2`,
}

// LockLenderRequest reads a request and locks it until commit; with an owner, only while that
// owner holds it and it is requested.
func (t *tx) LockLenderRequest(ctx context.Context, id, owner string) (escrow.LenderRequest, error) {
	return lockRow(ctx, t, lenderOutbox, id, owner)
}

// UpdateLenderRequest writes a locked request's status, attempts, schedule, error, answer,
// record time, the money's ID, when it is due and when it was marked overdue, and clears its
// lease.
func (t *tx) UpdateLenderRequest(ctx context.Context, r escrow.LenderRequest) error {
	return t.updateRow(ctx, "lender request", r.ID, duplicate("open lender request of", r.ApplicationID+r.LoanID),
		`UPDATE lender_requests SET status = $2, attempts = $3, next_attempt_at = $4, lease_owner = '', lease_until = NULL,
		last_error = $5, answer = $6, recorded_at = $7, funds_id = $8, funds_due_at = $9, overdue_at = $10 WHERE id = $1`,
		r.ID, string(r.Status), r.Attempts, micros(r.NextAttemptAt), r.LastError, rawText(r.Answer), optMicros(r.RecordedAt),
		r.FundsID, optMicros(r.FundsDueAt), optMicros(r.OverdueAt))
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

// LenderRequests lists up to f.Limit requests after the request f.After in f.Order — newest
// first, oldest first, or by when the lender's money is due — narrowed by f.
func (r reader) LenderRequests(ctx context.Context, f escrow.LenderFilter) ([]escrow.LenderRequest, error) {
	by, err := orderOf(f.Order, escrow.NewestFirst, escrow.OldestFirst, escrow.FundsDueFirst)
	if err != nil {
		return nil, err
	}
	return page(ctx, r, lenderOutbox, []match{{"status", string(f.Status)}, {"kind", string(f.Kind)},
		{"application_id", f.ApplicationID}, {"loan_id", f.LoanID}}, by, f.After, f.Limit, escrow.LenderRequestsListMax)
}

// ClaimLenderRequests leases requested requests due at now; see escrow.LenderClaimer.
func (db *DB) ClaimLenderRequests(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int) ([]escrow.LenderRequest, error) {
	return claimDue(ctx, db, lenderOutbox, now, owner, lease, limit)
}

func scanLenderRequest(row scanner) (escrow.LenderRequest, error) {
	var r escrow.LenderRequest
	var kind, cur, status, answer string
	var amount, next, requested int64
	var lease, recorded, fundsDue, overdue sql.NullInt64
	var sandbox int64
	err := row.Scan(&r.ID, &kind, &r.BuyerID, &r.ApplicationID, &r.LoanID, &amount, &cur, &r.PaymentReference, &status,
		&r.Attempts, &next, &r.LeaseOwner, &lease, &r.LastError, &answer, &requested, &recorded, &sandbox, &r.FundsID, &fundsDue,
		&overdue)
	if err != nil {
		return escrow.LenderRequest{}, err
	}
	r.Kind, r.Status, r.Amount = escrow.LenderRequestKind(kind), escrow.LenderRequestStatus(status), money.New(amount, money.Currency(cur))
	r.NextAttemptAt, r.RequestedAt = fromMicros(next), fromMicros(requested)
	r.LeaseUntil, r.RecordedAt, r.Sandbox = fromNullMicros(lease), fromOptMicros(recorded), sandbox == 1
	r.FundsDueAt, r.OverdueAt = fromOptMicros(fundsDue), fromOptMicros(overdue)
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
