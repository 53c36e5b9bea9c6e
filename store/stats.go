package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"time"
)

// Stats are the numbers an operator watches, read from the database at scrape time, so every
// serve process reports the same values for the shared state.
type Stats struct {
	TimersDue  int64     // pending or claimed timers whose due time has passed: work the workers owe
	OldestDue  time.Time // the due time of the oldest of them; zero when there are none
	TimersDead int64     // timers that failed TimerAttemptsMax times and wait for an operator
	Suspense   int64     // incoming payments that matched no order and wait for an admin
	// BankDebitsAttention and LenderAttention are the Pay Later requests the bank and lender
	// workers gave up on, waiting for an operator (status attention).
	BankDebitsAttention int64
	LenderAttention     int64
}

// Stats reads the gauges of the shared state as of now.
func (db *DB) Stats(ctx context.Context, now time.Time) (Stats, error) {
	var st Stats
	var oldest sql.NullInt64
	err := db.r.QueryRowContext(ctx, `SELECT COUNT(*), MIN(due_at) FROM timers
		WHERE state IN ('pending', 'claimed') AND due_at <= $1`, micros(now)).Scan(&st.TimersDue, &oldest)
	if err != nil {
		return Stats{}, fmt.Errorf("stats: timers due: %w", err)
	}
	if oldest.Valid {
		st.OldestDue = fromMicros(oldest.Int64)
	}
	err = db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM timers WHERE state = 'dead'`).Scan(&st.TimersDead)
	if err != nil {
		return Stats{}, fmt.Errorf("stats: dead timers: %w", err)
	}
	err = db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM suspense WHERE state = 'open'`).Scan(&st.Suspense)
	if err != nil {
		return Stats{}, fmt.Errorf("stats: suspense: %w", err)
	}
	// Both served by the (status, next_attempt_at, id) indexes of the workers' claims.
	err = db.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM bank_debits WHERE status = 'attention'),
		(SELECT COUNT(*) FROM lender_requests WHERE status = 'attention')`).Scan(&st.BankDebitsAttention, &st.LenderAttention)
	if err != nil {
		return Stats{}, fmt.Errorf("stats: Pay Later requests in attention: %w", err)
	}
	return st, nil
}

// TransfersPosted returns how many ledger transfers this process has committed since it
// opened the database, by transfer code. A counter: it only grows, and restarts at zero.
func (db *DB) TransfersPosted() map[string]int64 {
	db.postedMu.Lock()
	defer db.postedMu.Unlock()
	return maps.Clone(db.posted)
}
