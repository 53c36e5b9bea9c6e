package store

import (
	"context"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/access"
)

// loginTx implements access.LoginTx on one write transaction. On PostgreSQL the upsert in
// Throttle locks the subject's row until commit; on SQLite the one writer connection runs one
// transaction at a time, which is stronger.
type loginTx struct{ t *tx }

var _ access.LoginTx = loginTx{}

// LoginTx runs fn in one write transaction over the login throttles, rerun (at most
// WriteRetriesMax times) when the database reports a deadlock or a serialization failure.
func (s accessStore) LoginTx(ctx context.Context, fn func(access.LoginTx) error) error {
	return s.db.write(ctx, func(t *tx) error { return fn(loginTx{t}) })
}

// Throttle creates the subject's row if it is new, marks it used at at, and returns it locked.
func (l loginTx) Throttle(ctx context.Context, scope, subject string, at time.Time) (access.Throttle, error) {
	var until int64
	var th access.Throttle
	err := l.t.q.QueryRowContext(ctx, `INSERT INTO login_throttles (scope, subject, locked_until, strikes, updated_at)
		VALUES ($1, $2, 0, 0, $3)
		ON CONFLICT (scope, subject) DO UPDATE SET updated_at = excluded.updated_at
		RETURNING locked_until, strikes`, scope, subject, micros(at)).Scan(&until, &th.Strikes)
	if err != nil {
		return access.Throttle{}, l.t.fail(fmt.Errorf("lock login throttle: %w", err))
	}
	if until != 0 {
		th.LockedUntil = fromMicros(until)
	}
	return th, nil
}

// SetThrottle stores the subject's lockout and strikes; a zero LockedUntil is stored as 0.
func (l loginTx) SetThrottle(ctx context.Context, scope, subject string, th access.Throttle) error {
	var until int64
	if !th.LockedUntil.IsZero() {
		until = micros(th.LockedUntil)
	}
	_, err := l.t.q.ExecContext(ctx, `UPDATE login_throttles SET locked_until = $3, strikes = $4
		WHERE scope = $1 AND subject = $2`, scope, subject, until, th.Strikes)
	if err != nil {
		return l.t.fail(fmt.Errorf("set login throttle: %w", err))
	}
	return nil
}

// Failures counts the subject's recorded attempts at or after since.
func (l loginTx) Failures(ctx context.Context, scope, subject string, since time.Time) (int, error) {
	var n int
	err := l.t.q.QueryRowContext(ctx, `SELECT count(*) FROM login_failures
		WHERE scope = $1 AND subject = $2 AND at >= $3`, scope, subject, micros(since)).Scan(&n)
	if err != nil {
		return 0, l.t.fail(fmt.Errorf("count login failures: %w", err))
	}
	return n, nil
}

// AddFailure records one attempt against the subject.
func (l loginTx) AddFailure(ctx context.Context, attempt, scope, subject string, at time.Time) error {
	_, err := l.t.q.ExecContext(ctx, `INSERT INTO login_failures (attempt, scope, subject, at) VALUES ($1, $2, $3, $4)`,
		attempt, scope, subject, micros(at))
	if err != nil {
		return l.t.fail(fmt.Errorf("record login failure: %w", err))
	}
	return nil
}

// ClearFailures deletes the subject's recorded attempts, or only attempt's when it is not "".
func (l loginTx) ClearFailures(ctx context.Context, scope, subject, attempt string) error {
	q, args := `DELETE FROM login_failures WHERE scope = $1 AND subject = $2`, []any{scope, subject}
	if attempt != "" {
		q, args = q+` AND attempt = $3`, append(args, attempt)
	}
	if _, err := l.t.q.ExecContext(ctx, q, args...); err != nil {
		return l.t.fail(fmt.Errorf("clear login failures: %w", err))
	}
	return nil
}

// SweepLogins deletes up to max failures recorded before failedBefore, and up to max throttles
// neither used nor locked since idleBefore; it returns how many rows it deleted. Each DELETE is
// its own statement, so a sweep never holds the writer long; the outer condition is checked
// again on a row an attempt changed meanwhile (PostgreSQL), so a subject in use is kept.
func (s accessStore) SweepLogins(ctx context.Context, failedBefore, idleBefore time.Time, max int) (int64, error) {
	res, err := s.db.w.ExecContext(ctx, `DELETE FROM login_failures WHERE (attempt, scope) IN
		(SELECT attempt, scope FROM login_failures WHERE at < $1 ORDER BY at LIMIT $2)`, micros(failedBefore), max)
	if err != nil {
		return 0, fmt.Errorf("sweep login failures: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sweep login failures: %w", err)
	}
	res, err = s.db.w.ExecContext(ctx, `DELETE FROM login_throttles WHERE updated_at < $1 AND locked_until < $1 AND (scope, subject) IN
		(SELECT scope, subject FROM login_throttles WHERE updated_at < $1 AND locked_until < $1
		ORDER BY updated_at LIMIT $2)`, micros(idleBefore), max)
	if err != nil {
		return n, fmt.Errorf("sweep login throttles: %w", err)
	}
	m, err := res.RowsAffected()
	if err != nil {
		return n, fmt.Errorf("sweep login throttles: %w", err)
	}
	return n + m, nil
}
