package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/trade"
)

const timerCols = `id, key, kind, order_id, ref, due_at, state, owner, lease_until, attempts, outcome, fired_at`

// PutTimer schedules a timer, replacing the live (pending or claimed) one with the same key.
func (t *tx) PutTimer(ctx context.Context, tm trade.Timer) error {
	if tm.Key == "" {
		return fmt.Errorf("put timer: empty key") // a bug in the caller
	}
	_, err := t.q.ExecContext(ctx,
		`UPDATE timers SET state = 'replaced' WHERE key = $1 AND state IN ('pending', 'claimed')`, tm.Key)
	if err != nil {
		return t.fail(fmt.Errorf("replace timer %q: %w", tm.Key, err))
	}
	_, err = t.q.ExecContext(ctx, `INSERT INTO timers
		(key, kind, order_id, ref, due_at, state, owner, lease_until, attempts, outcome, fired_at)
		VALUES ($1, $2, $3, $4, $5, 'pending', '', NULL, 0, '', NULL)`,
		tm.Key, string(tm.Kind), tm.OrderID, tm.Ref, micros(tm.DueAt))
	if err != nil {
		// A unique violation here means another transaction put the same key concurrently.
		return t.fail(insertErr("timer", tm.Key, err))
	}
	return nil
}

// RetireTimers marks an order's pending timers replaced: the given keys, or all when keys is nil.
func (t *tx) RetireTimers(ctx context.Context, orderID string, keys []string) error {
	if keys == nil {
		_, err := t.q.ExecContext(ctx, `UPDATE timers SET state = 'replaced' WHERE order_id = $1 AND state = 'pending'`, orderID)
		if err != nil {
			return t.fail(fmt.Errorf("retire timers of %q: %w", orderID, err))
		}
		return nil
	}
	for _, k := range keys {
		_, err := t.q.ExecContext(ctx, `UPDATE timers SET state = 'replaced' WHERE key = $1 AND order_id = $2 AND state = 'pending'`, k, orderID)
		if err != nil {
			return t.fail(fmt.Errorf("retire timer %q: %w", k, err))
		}
	}
	return nil
}

// LockTimer locks a timer that owner has claimed and not finished, else returns ErrNotFound.
func (t *tx) LockTimer(ctx context.Context, id int64, owner string) (escrow.StoredTimer, error) {
	st, err := scanTimer(t.q.QueryRowContext(ctx, `SELECT `+timerCols+` FROM timers
		WHERE id = $1 AND state = 'claimed' AND owner = $2`+t.db.d.forUpdate, id, owner))
	if errors.Is(err, sql.ErrNoRows) {
		return escrow.StoredTimer{}, notFound("timer claimed by "+owner, strconv.FormatInt(id, 10))
	}
	if err != nil {
		return escrow.StoredTimer{}, t.fail(fmt.Errorf("select timer %d: %w", id, err))
	}
	return st, nil
}

// FinishTimer records how a timer ended: fired (outcome "fired" or "skipped: …") or dead.
func (t *tx) FinishTimer(ctx context.Context, id int64, state escrow.TimerState, outcome string, at time.Time) error {
	if state != escrow.TimerFired && state != escrow.TimerDead {
		return fmt.Errorf("finish timer %d: state %q, want fired or dead", id, state) // a bug in the caller
	}
	res, err := t.q.ExecContext(ctx, `UPDATE timers SET state = $2, outcome = $3, fired_at = $4 WHERE id = $1`,
		id, string(state), outcome, micros(at))
	if err != nil {
		return t.fail(fmt.Errorf("finish timer %d: %w", id, err))
	}
	return t.fail(changed(res, notFound("timer", strconv.FormatInt(id, 10))))
}

// Timers lists an order's timers by ID, finished ones included.
func (r reader) Timers(ctx context.Context, orderID string) ([]escrow.StoredTimer, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+timerCols+` FROM timers WHERE order_id = $1 ORDER BY id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("select timers of %q: %w", orderID, err)
	}
	return scanTimers(rows)
}

// LiveTimers lists the pending and claimed timers of the orders named, by order and ID; see
// escrow.Reader. The caller bounds the list (escrow.PageSizeMax).
func (r reader) LiveTimers(ctx context.Context, orderIDs []string) ([]escrow.StoredTimer, error) {
	if len(orderIDs) == 0 {
		return nil, nil
	}
	args := make([]any, len(orderIDs))
	marks := make([]string, len(orderIDs))
	for i, id := range orderIDs {
		args[i], marks[i] = id, "$"+strconv.Itoa(i+1)
	}
	rows, err := r.q.QueryContext(ctx, `SELECT `+timerCols+` FROM timers
		WHERE order_id IN (`+strings.Join(marks, ", ")+`) AND state IN ('pending', 'claimed') ORDER BY order_id, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("select live timers of %d orders: %w", len(orderIDs), err)
	}
	return scanTimers(rows)
}

// timerOutbox is the timers' table: a timer is claimed when it is due, or when its claim's
// lease lapsed. Unlike the other outboxes a claim moves it to the claimed state, and a lease
// never runs on a pending one.
var timerOutbox = outbox[escrow.StoredTimer]{
	what: "timers", one: "timer", table: "timers", key: "id", cols: timerCols, scan: scanTimer,
	lease: `state = 'claimed', owner = $1, lease_until = $2`,
	due:   `(state = 'pending' AND due_at <= $3) OR (state = 'claimed' AND lease_until < $3)`,
	order: `due_at, id`, batchMax: escrow.PageSizeMax,
	sorted: byDue(func(st escrow.StoredTimer) (time.Time, int64) { return st.DueAt, st.ID }),
}

// ClaimTimers claims up to limit due timers for owner until now+lease; see escrow.Store.
func (db *DB) ClaimTimers(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int) ([]escrow.StoredTimer, error) {
	return claimDue(ctx, db, timerOutbox, now, owner, lease, limit)
}

func scanTimers(rows *sql.Rows) ([]escrow.StoredTimer, error) {
	return scanAll(rows, "timers", scanTimer)
}

func scanTimer(row scanner) (escrow.StoredTimer, error) {
	var st escrow.StoredTimer
	var kind, state string
	var due int64
	var lease, fired sql.NullInt64
	err := row.Scan(&st.ID, &st.Key, &kind, &st.OrderID, &st.Ref, &due, &state, &st.Owner, &lease,
		&st.Attempts, &st.Outcome, &fired)
	if err != nil {
		return escrow.StoredTimer{}, err
	}
	st.Kind, st.State, st.DueAt = trade.TimerKind(kind), escrow.TimerState(state), fromMicros(due)
	st.LeaseUntil = fromNullMicros(lease)
	if fired.Valid {
		at := fromMicros(fired.Int64)
		st.FiredAt = &at
	}
	return st, nil
}
