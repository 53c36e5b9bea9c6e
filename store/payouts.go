package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// Supplier payouts: the payout records (migrations 00008), and the ledger and timer reads and
// locks a payout needs.

var (
	_ escrow.PayoutReader = reader{}
	_ escrow.PayoutTx     = (*tx)(nil)
)

// InsertPayout stores a payout, or returns ErrDuplicate for its ID.
func (t *tx) InsertPayout(ctx context.Context, p trade.Payout) error {
	doc, err := marshalDoc("payout", p)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `INSERT INTO payouts
		(id, supplier_id, currency, payable_before, netted, sent, status, created_at, doc)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		p.ID, p.SupplierID, string(p.Currency), p.PayableBefore, p.Netted, p.Sent, string(p.Status), micros(p.CreatedAt), doc)
	if err != nil {
		return t.fail(insertErr("payout", p.ID, err))
	}
	return t.fail(changed(res, duplicate("payout", p.ID)))
}

// Payout returns one payout.
func (r reader) Payout(ctx context.Context, id string) (trade.Payout, error) {
	ps, err := r.payouts(ctx, `SELECT created_at, doc FROM payouts WHERE id = $1`, id)
	if err != nil {
		return trade.Payout{}, err
	}
	if len(ps) == 0 {
		return trade.Payout{}, notFound("payout", id)
	}
	return ps[0], nil
}

// Payouts lists payouts newest first (by ID, descending: IDs are time-ordered).
func (r reader) Payouts(ctx context.Context, f escrow.PayoutFilter) ([]trade.Payout, error) {
	q, args := `SELECT created_at, doc FROM payouts WHERE 1 = 1`, []any{}
	if f.SupplierID != "" {
		args = append(args, f.SupplierID)
		q += fmt.Sprintf(` AND supplier_id = $%d`, len(args))
	}
	if f.Before != "" {
		args = append(args, f.Before)
		q += fmt.Sprintf(` AND id < $%d`, len(args))
	}
	args = append(args, clampLimit(f.Limit))
	return r.payouts(ctx, q+fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
}

func (r reader) payouts(ctx context.Context, query string, args ...any) ([]trade.Payout, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("select payouts: %w", err)
	}
	defer rows.Close()
	var out []trade.Payout
	for rows.Next() {
		var at int64
		var doc string
		if err := rows.Scan(&at, &doc); err != nil {
			return nil, fmt.Errorf("scan payout: %w", err)
		}
		var p trade.Payout
		if err := json.Unmarshal([]byte(doc), &p); err != nil {
			return nil, fmt.Errorf("decode payout: %w", err)
		}
		p.CreatedAt = fromMicros(at)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select payouts: %w", err)
	}
	return out, nil
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
