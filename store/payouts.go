package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// Supplier payouts: the payout records and their lifecycle (migrations 00008, 00017), the
// flags a returned payout puts on a supplier's account, the payout rail worker's claim, and the
// ledger and timer reads and locks a payout needs.

var (
	_ escrow.PayoutReader  = reader{}
	_ escrow.PayoutTx      = (*tx)(nil)
	_ escrow.PayoutClaimer = (*DB)(nil)
)

// payoutCols are read by scanPayout: the document, and the columns that are the truth about
// the payout's state and its outbox.
const payoutCols = `created_at, doc, status, sandbox, attempts, next_attempt_at, lease_owner, lease_until, last_error, attention`

// InsertPayout stores a payout, or returns ErrDuplicate for its ID.
func (t *tx) InsertPayout(ctx context.Context, p trade.Payout) error {
	doc, err := marshalDoc("payout", p)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `INSERT INTO payouts
		(id, supplier_id, currency, payable_before, netted, sent, status, created_at, doc, sandbox, attempts,
		next_attempt_at, last_error, attention, recorded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, '', 0, $13) ON CONFLICT DO NOTHING`,
		p.ID, p.SupplierID, string(p.Currency), p.PayableBefore, p.Netted, p.Sent, string(p.Status), micros(p.CreatedAt), doc,
		flag(p.Sandbox), p.Attempts, nextAttempt(p), recordedAt(p))
	if err != nil {
		return t.fail(insertErr("payout", p.ID, err))
	}
	return t.fail(changed(res, duplicate("payout", p.ID)))
}

// nextAttempt is when the payout rail's worker asks next: only a requested payout waits.
func nextAttempt(p trade.Payout) any {
	if p.Status != trade.PayoutRequested {
		return nil
	}
	return micros(p.NextAttemptAt)
}

// recordedAt is when the payout's state was last settled: its netting, or the rail's last answer.
func recordedAt(p trade.Payout) any {
	switch {
	case p.ReturnedAt != nil:
		return micros(*p.ReturnedAt)
	case p.SentAt != nil:
		return micros(*p.SentAt)
	case p.Status == trade.PayoutNetted:
		return micros(p.CreatedAt)
	}
	return nil
}

// payoutOutbox is the payouts' table as the payout rail's worker claims it: requested, not
// waiting for an operator, of the rail's kind (sandbox, $5) and due.
var payoutOutbox = outbox[trade.Payout]{
	what: "payouts", one: "payout", table: "payouts", key: "id", cols: payoutCols, scan: scanPayout,
	lease: leaseTo,
	due:   `status = 'requested' AND attention = 0 AND sandbox = $5 AND ` + dueNow,
	order: `next_attempt_at, id`, batchMax: escrow.PayoutSendBatchMax,
	sorted: byDue(func(p trade.Payout) (time.Time, string) { return p.NextAttemptAt, p.ID }),
	held:   `status = 'requested' AND attention = 0 AND lease_owner = $2`,
}

// LockPayout reads a payout and locks it until commit; with an owner, only while that owner
// holds it and it waits for the rail.
func (t *tx) LockPayout(ctx context.Context, id, owner string) (trade.Payout, error) {
	return lockRow(ctx, t, payoutOutbox, id, owner)
}

// UpdatePayout writes a locked payout's lifecycle and clears its lease. The amounts, the
// supplier and the sandbox flag are never written; the triggers refuse a status change the
// lifecycle does not allow.
func (t *tx) UpdatePayout(ctx context.Context, p trade.Payout) error {
	doc, err := marshalDoc("payout", p)
	if err != nil {
		return err
	}
	return t.updateRow(ctx, "payout", p.ID, nil, `UPDATE payouts SET status = $2, doc = $3, attempts = $4, next_attempt_at = $5,
		lease_owner = '', lease_until = NULL, last_error = $6, attention = $7, recorded_at = $8 WHERE id = $1`,
		p.ID, string(p.Status), doc, p.Attempts, nextAttempt(p), p.LastError, flag(p.Attention), recordedAt(p))
}

// Payout returns one payout.
func (r reader) Payout(ctx context.Context, id string) (trade.Payout, error) {
	ps, err := r.payouts(ctx, `SELECT `+payoutCols+` FROM payouts WHERE id = $1`, id)
	if err != nil {
		return trade.Payout{}, err
	}
	if len(ps) == 0 {
		return trade.Payout{}, notFound("payout", id)
	}
	return ps[0], nil
}

// Payouts lists payouts newest first (by ID, descending: IDs are time-ordered), or oldest first
// with f.OldestFirst.
func (r reader) Payouts(ctx context.Context, f escrow.PayoutFilter) ([]trade.Payout, error) {
	q, args := `SELECT `+payoutCols+` FROM payouts WHERE 1 = 1`, []any{}
	if f.SupplierID != "" {
		args = append(args, f.SupplierID)
		q += fmt.Sprintf(` AND supplier_id = $%d`, len(args))
	}
	if f.Status != "" {
		args = append(args, string(f.Status))
		q += fmt.Sprintf(` AND status = $%d`, len(args))
	}
	if f.Attention {
		q += ` AND attention = 1`
	}
	order := `id DESC`
	switch {
	case f.OldestFirst:
		order = `id`
		if f.After != "" {
			args = append(args, f.After)
			q += fmt.Sprintf(` AND id > $%d`, len(args))
		}
	case f.Before != "":
		args = append(args, f.Before)
		q += fmt.Sprintf(` AND id < $%d`, len(args))
	}
	args = append(args, clampLimit(f.Limit))
	return r.payouts(ctx, q+fmt.Sprintf(` ORDER BY %s LIMIT $%d`, order, len(args)), args...)
}

func (r reader) payouts(ctx context.Context, query string, args ...any) ([]trade.Payout, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("select payouts: %w", err)
	}
	return scanAll(rows, "payouts", scanPayout)
}

// scanPayout reads payoutCols: the document, with the columns over it.
func scanPayout(s scanner) (trade.Payout, error) {
	var at, sandbox, attention int64
	var doc, status string
	var next, lease sql.NullInt64
	var p trade.Payout
	var attempts int
	var owner, lastErr string
	if err := s.Scan(&at, &doc, &status, &sandbox, &attempts, &next, &owner, &lease, &lastErr, &attention); err != nil {
		return trade.Payout{}, err
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return trade.Payout{}, fmt.Errorf("decode payout: %w", err)
	}
	p.CreatedAt, p.Status, p.Sandbox = fromMicros(at), trade.PayoutStatus(status), sandbox == 1
	p.Attempts, p.NextAttemptAt, p.LeaseOwner, p.LeaseUntil = attempts, fromNullMicros(next), owner, fromNullMicros(lease)
	p.LastError, p.Attention = lastErr, attention == 1
	return p, nil
}

// ClaimPayouts leases requested payouts due at now; see escrow.PayoutClaimer.
func (db *DB) ClaimPayouts(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int, sandbox bool) ([]trade.Payout, error) {
	return claimDue(ctx, db, payoutOutbox, now, owner, lease, limit, flag(sandbox))
}

// PayoutsInTransit sums the supplier's requested payouts per currency.
func (r reader) PayoutsInTransit(ctx context.Context, supplierID string) (map[money.Currency]int64, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT currency, SUM(sent) FROM payouts
		WHERE supplier_id = $1 AND status = 'requested' GROUP BY currency`, supplierID)
	if err != nil {
		return nil, fmt.Errorf("select payouts in transit of %q: %w", supplierID, err)
	}
	type sum struct {
		c money.Currency
		n int64
	}
	sums, err := scanAll(rows, "payouts in transit", func(s scanner) (sum, error) {
		var x sum
		var c string
		err := s.Scan(&c, &x.n)
		x.c = money.Currency(c)
		return x, err
	})
	if err != nil {
		return nil, err
	}
	out := map[money.Currency]int64{}
	for _, x := range sums {
		out[x.c] = x.n
	}
	return out, nil
}

const flagCols = `payout_id, supplier_id, reason, flagged_at, cleared_at, cleared_by`

// OpenPayoutFlag returns the supplier's flag no admin has cleared.
func (r reader) OpenPayoutFlag(ctx context.Context, supplierID string) (trade.PayoutAccountFlag, error) {
	return r.payoutFlag(ctx, supplierID, "")
}

func (r reader) payoutFlag(ctx context.Context, supplierID, lock string) (trade.PayoutAccountFlag, error) {
	var f trade.PayoutAccountFlag
	var flagged int64
	var cleared sql.NullInt64
	err := r.q.QueryRowContext(ctx, `SELECT `+flagCols+` FROM payout_account_flags
		WHERE supplier_id = $1 AND cleared_at IS NULL`+lock, supplierID).
		Scan(&f.PayoutID, &f.SupplierID, &f.Reason, &flagged, &cleared, &f.ClearedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return trade.PayoutAccountFlag{}, notFound("open payout account flag of", supplierID)
	}
	if err != nil {
		return trade.PayoutAccountFlag{}, fmt.Errorf("select payout account flag of %q: %w", supplierID, err)
	}
	f.FlaggedAt, f.ClearedAt = fromMicros(flagged), fromOptMicros(cleared)
	return f, nil
}

// FlagPayoutAccount stores f as the supplier's open flag; an open flag already there stays.
func (t *tx) FlagPayoutAccount(ctx context.Context, f trade.PayoutAccountFlag) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO payout_account_flags (`+flagCols+`)
		VALUES ($1, $2, $3, $4, NULL, '') ON CONFLICT DO NOTHING`, f.PayoutID, f.SupplierID, f.Reason, micros(f.FlaggedAt))
	if err != nil {
		return t.fail(fmt.Errorf("flag the payout account of %q: %w", f.SupplierID, err))
	}
	return nil
}

// LockPayoutFlag reads the supplier's open flag and locks it until commit.
func (t *tx) LockPayoutFlag(ctx context.Context, supplierID string) (trade.PayoutAccountFlag, error) {
	f, err := t.payoutFlag(ctx, supplierID, t.db.d.forUpdate)
	return f, t.fail(err)
}

// ClearPayoutFlag records the clearing of the locked open flag f.
func (t *tx) ClearPayoutFlag(ctx context.Context, f trade.PayoutAccountFlag) error {
	if f.ClearedAt == nil {
		return fmt.Errorf("clear payout account flag of %q: no clearing time", f.SupplierID)
	}
	res, err := t.q.ExecContext(ctx, `UPDATE payout_account_flags SET cleared_at = $2, cleared_by = $3
		WHERE payout_id = $1 AND cleared_at IS NULL`, f.PayoutID, micros(*f.ClearedAt), f.ClearedBy)
	if err != nil {
		return t.fail(fmt.Errorf("clear payout account flag of %q: %w", f.SupplierID, err))
	}
	return t.fail(changed(res, notFound("open payout account flag", f.PayoutID)))
}

// PayableCredits lists the credits to a supplier's payable account in c, newest first.
func (r reader) PayableCredits(ctx context.Context, supplierID string, c money.Currency, limit int) ([]trade.PayableCredit, error) {
	if limit <= 0 || limit > escrow.PayoutReleasesMax {
		limit = escrow.PayoutReleasesMax
	}
	rows, err := r.q.QueryContext(ctx, `SELECT t.id, t.code, t.order_id, t.at, e.amount
		FROM ledger_entries e JOIN ledger_transfers t ON t.seq = e.transfer_seq
		WHERE e.account_id = $1 AND e.amount < 0 ORDER BY e.transfer_seq DESC LIMIT $2`,
		trade.PayableAccount(supplierID, c).ID(), limit)
	if err != nil {
		return nil, fmt.Errorf("select payable credits of %q: %w", supplierID, err)
	}
	defer rows.Close()
	var out []trade.PayableCredit
	for rows.Next() {
		var pc trade.PayableCredit
		var at, amount int64
		if err := rows.Scan(&pc.TransferID, &pc.Code, &pc.OrderID, &at, &amount); err != nil {
			return nil, fmt.Errorf("scan payable credit: %w", err)
		}
		pc.At, pc.Amount = fromMicros(at), -amount
		out = append(out, pc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select payable credits of %q: %w", supplierID, err)
	}
	return out, nil
}

// SupplierBalances returns the signed balances of a supplier's payable and receivable accounts.
func (r reader) SupplierBalances(ctx context.Context, supplierID string) (ledger.Balances, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT b.account_id, b.balance
		FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id
		WHERE a.owner = $1 AND a.kind IN ($2, $3)`,
		supplierID, string(ledger.SupplierPayable), string(ledger.SupplierReceivable))
	if err != nil {
		return nil, fmt.Errorf("select balances of %q: %w", supplierID, err)
	}
	defer rows.Close()
	out := ledger.Balances{}
	for rows.Next() {
		var id string
		var balance int64
		if err := rows.Scan(&id, &balance); err != nil {
			return nil, fmt.Errorf("scan balance: %w", err)
		}
		out[id] = balance
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select balances of %q: %w", supplierID, err)
	}
	return out, nil
}

// LiveTimer returns the pending or claimed timer with key.
func (r reader) LiveTimer(ctx context.Context, key string) (escrow.StoredTimer, error) {
	return r.liveTimer(ctx, key, "")
}

func (r reader) liveTimer(ctx context.Context, key, lock string) (escrow.StoredTimer, error) {
	st, err := scanTimer(r.q.QueryRowContext(ctx, `SELECT `+timerCols+` FROM timers
		WHERE key = $1 AND state IN ('pending', 'claimed')`+lock, key))
	if errors.Is(err, sql.ErrNoRows) {
		return escrow.StoredTimer{}, notFound("live timer", key)
	}
	if err != nil {
		return escrow.StoredTimer{}, fmt.Errorf("select timer %q: %w", key, err)
	}
	return st, nil
}

// LockLiveTimer returns the pending or claimed timer with key and locks it until commit.
func (t *tx) LockLiveTimer(ctx context.Context, key string) (escrow.StoredTimer, error) {
	st, err := t.liveTimer(ctx, key, t.db.d.forUpdate)
	return st, t.fail(err)
}

// LockBalance reads an account's signed balance and locks its row until commit. On SQLite the
// one writer connection already serializes every write transaction.
func (t *tx) LockBalance(ctx context.Context, accountID string) (int64, error) {
	var balance int64
	err := t.q.QueryRowContext(ctx, `SELECT balance FROM ledger_balances WHERE account_id = $1`+t.db.d.forUpdate,
		accountID).Scan(&balance)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, t.fail(fmt.Errorf("lock balance of %s: %w", accountID, err))
	}
	return balance, nil
}
