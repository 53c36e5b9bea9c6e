package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
)

// Session store limits.
const (
	// SessionSweepEvery is how often, at most, a commit also deletes expired sessions: the
	// table stays small without a goroutine of its own.
	SessionSweepEvery = 10 * time.Minute
	// SessionSweepMax bounds the rows one sweep deletes, so a sweep never holds the writer long;
	// what is left goes at the next sweep.
	SessionSweepMax = 1000
	// SessionTokenMax bounds a token: scs makes 43 characters (or a 64-character hash).
	SessionTokenMax = 128
	// SessionDataMax bounds one session's encoded data.
	SessionDataMax = 64 << 10
)

// Sessions keeps the web portal's sessions (an scs.Store) in the same database as everything
// else, so that a session survives a restart and any server process can serve it. Every
// statement is a single one on the writer or the reader handle, never inside an escrow
// transaction.
type Sessions struct {
	db *DB

	mu        sync.Mutex
	lastSweep time.Time
}

var _ scs.CtxStore = (*Sessions)(nil)

// Sessions returns the session store. Call it once and share the result: the sweep timing
// lives in it.
func (db *DB) Sessions() *Sessions { return &Sessions{db: db} }

// FindCtx returns the data of a live session. An unknown, expired or oversized token is not
// found, without an error: the caller starts a new session.
func (s *Sessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	if token == "" || len(token) > SessionTokenMax {
		return nil, false, nil
	}
	var b []byte
	err := s.db.r.QueryRowContext(ctx, `SELECT data FROM sessions WHERE token = $1 AND expiry > $2`,
		token, micros(s.db.now())).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("find session: %w", err)
	}
	return b, true, nil
}

// CommitCtx stores a session's data and expiry, replacing what the token had.
func (s *Sessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if token == "" || len(token) > SessionTokenMax {
		return fmt.Errorf("commit session: token of %d bytes", len(token))
	}
	if len(b) > SessionDataMax {
		return fmt.Errorf("commit session: %d bytes of data, at most %d", len(b), SessionDataMax)
	}
	if b == nil {
		b = []byte{} // the column is NOT NULL
	}
	_, err := s.db.w.ExecContext(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`,
		token, b, micros(expiry))
	if err != nil {
		return fmt.Errorf("commit session: %w", err)
	}
	if s.sweepDue() {
		if _, err := s.DeleteExpired(ctx); err != nil {
			return err
		}
	}
	return nil
}

// DeleteCtx removes a session; an unknown token is not an error.
func (s *Sessions) DeleteCtx(ctx context.Context, token string) error {
	if _, err := s.db.w.ExecContext(ctx, `DELETE FROM sessions WHERE token = $1`, token); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpired deletes up to SessionSweepMax expired sessions and returns how many it deleted.
func (s *Sessions) DeleteExpired(ctx context.Context) (int64, error) {
	res, err := s.db.w.ExecContext(ctx, `DELETE FROM sessions WHERE token IN
		(SELECT token FROM sessions WHERE expiry <= $1 ORDER BY expiry LIMIT $2)`,
		micros(s.db.now()), SessionSweepMax)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}

// sweepDue reports whether SessionSweepEvery has passed since the last sweep, and if so
// claims this sweep.
func (s *Sessions) sweepDue() bool {
	now := s.db.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.lastSweep) < SessionSweepEvery {
		return false
	}
	s.lastSweep = now
	return true
}

// Find is FindCtx without a context, for scs.Store.
func (s *Sessions) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// Commit is CommitCtx without a context, for scs.Store.
func (s *Sessions) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// Delete is DeleteCtx without a context, for scs.Store.
func (s *Sessions) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}
