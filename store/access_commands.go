package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/access"
)

// SetPasswordOnce replaces a user's password hash with a one-time password's, so that they must
// change it at their next login, unless key was used before, in one
// transaction with the record of key and the audit records: it reports applied=false for a repeat on the same user,
// access.ErrDuplicate when key was used for something else, access.ErrNotFound for an unknown
// user.
func (s accessStore) SetPasswordOnce(ctx context.Context, key, userID, hash string, at time.Time, audit ...access.Record) (bool, error) {
	const kind = "reset_password"
	applied := false
	err := s.db.write(ctx, func(t *tx) error {
		applied = false
		res, err := t.q.ExecContext(ctx, `INSERT INTO access_commands (key, kind, target, at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (key) DO NOTHING`, key, kind, userID, micros(at))
		if err != nil {
			return t.fail(fmt.Errorf("record access command: %w", err))
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return t.fail(fmt.Errorf("record access command: %w", err))
			}
			var k, target string
			err := t.q.QueryRowContext(ctx, `SELECT kind, target FROM access_commands WHERE key = $1`, key).Scan(&k, &target)
			if errors.Is(err, sql.ErrNoRows) || err == nil && (k != kind || target != userID) {
				return access.ErrDuplicate
			}
			if err != nil {
				return t.fail(fmt.Errorf("read access command: %w", err))
			}
			return nil // a repeat: nothing to do
		}
		res, err = t.q.ExecContext(ctx, `UPDATE users SET password_hash = $2, must_change_password = 1 WHERE id = $1`, userID, hash)
		if err != nil {
			return t.fail(fmt.Errorf("set password of %q: %w", userID, err))
		}
		if err := changed(res, access.ErrNotFound); err != nil {
			return err // rolls the record of key back with it
		}
		applied = true
		return appendAudit(ctx, t, audit)
	})
	return applied, err
}
