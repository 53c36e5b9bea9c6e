package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/trade"
)

// Bounds on the access lists, which have no pages: an organization has a few people and keys.
const (
	UsersListMax   = 1000 // Users returns at most this many users of an organization, oldest first
	APIKeysListMax = 1000 // APIKeys returns at most this many keys of an organization, oldest first
)

// accessStore implements access.Store on the same database as the escrow store. Every write is
// one transaction on the writer handle: its statement and the audit records it was given (on
// SQLite the single connection, taken only for that transaction, so it never waits on itself);
// every read is one statement on the reader pool.
//
// It returns access.ErrNotFound and access.ErrDuplicate unwrapped: the access service compares
// them with ==, and what was looked for (an email, a credential's ID) does not belong in error
// text that ends up in logs.
type accessStore struct{ db *DB }

var _ access.Store = accessStore{}

// Access returns the store of users and API keys.
func (db *DB) Access() access.Store { return accessStore{db: db} }

const userColumns = `id, org_id, email, name, role, password_hash, created_at, disabled_at, must_change_password`

// InsertUser stores a new user with its audit records, or returns access.ErrDuplicate when its
// ID or email exists.
func (s accessStore) InsertUser(ctx context.Context, u access.User, audit ...access.Record) error {
	return s.audited(ctx, audit, func(q querier) error { return insertUser(ctx, q, u) })
}

func insertUser(ctx context.Context, q querier, u access.User) error {
	res, err := q.ExecContext(ctx,
		`INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		u.ID, u.OrgID, u.Email, u.Name, string(u.Role), u.PasswordHash, micros(u.CreatedAt), optMicros(u.DisabledAt), flag(u.MustChangePassword))
	if err != nil {
		if uniqueViolation(err) {
			return access.ErrDuplicate
		}
		return fmt.Errorf("insert user %q: %w", u.ID, err)
	}
	return changed(res, access.ErrDuplicate)
}

// UserByEmail reads the user with this exact email, or returns access.ErrNotFound.
func (s accessStore) UserByEmail(ctx context.Context, email string) (access.User, error) {
	return scanUser(s.db.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, email))
}

// User reads a user, or returns access.ErrNotFound.
func (s accessStore) User(ctx context.Context, id string) (access.User, error) {
	return scanUser(s.db.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
}

// UpdateUser replaces a user's email, name, role, password hash, disabled time and whether they
// must change their password, with its audit records; its organization and creation time never
// change. It returns access.ErrNotFound for an unknown ID and access.ErrDuplicate when the new
// email belongs to another user.
func (s accessStore) UpdateUser(ctx context.Context, u access.User, audit ...access.Record) error {
	return s.audited(ctx, audit, func(q querier) error { return updateUser(ctx, q, u) })
}

func updateUser(ctx context.Context, q querier, u access.User) error {
	res, err := q.ExecContext(ctx,
		`UPDATE users SET email = $2, name = $3, role = $4, password_hash = $5, disabled_at = $6, must_change_password = $7 WHERE id = $1`,
		u.ID, u.Email, u.Name, string(u.Role), u.PasswordHash, optMicros(u.DisabledAt), flag(u.MustChangePassword))
	if err != nil {
		if uniqueViolation(err) {
			return access.ErrDuplicate
		}
		return fmt.Errorf("update user %q: %w", u.ID, err)
	}
	return changed(res, access.ErrNotFound)
}

// Users lists an organization's users by creation time then ID, at most UsersListMax.
func (s accessStore) Users(ctx context.Context, orgID string) ([]access.User, error) {
	rows, err := s.db.r.QueryContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE org_id = $1 ORDER BY created_at, id LIMIT $2`, orgID, UsersListMax)
	if err != nil {
		return nil, fmt.Errorf("select users of %q: %w", orgID, err)
	}
	defer rows.Close()
	out := []access.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select users of %q: %w", orgID, err)
	}
	return out, nil
}

// accessRow is a *sql.Row or *sql.Rows.
type accessRow interface{ Scan(dest ...any) error }

func scanUser(r accessRow) (access.User, error) {
	var u access.User
	var role string
	var created int64
	var disabled sql.NullInt64
	var mustChange int64
	err := r.Scan(&u.ID, &u.OrgID, &u.Email, &u.Name, &role, &u.PasswordHash, &created, &disabled, &mustChange)
	if errors.Is(err, sql.ErrNoRows) {
		return access.User{}, access.ErrNotFound
	}
	if err != nil {
		return access.User{}, fmt.Errorf("scan user: %w", err)
	}
	u.Role, u.CreatedAt, u.DisabledAt = trade.Role(role), fromMicros(created), fromOptMicros(disabled)
	u.MustChangePassword = mustChange != 0
	return u, nil
}

const apiKeyColumns = `id, org_id, role, name, hash, created_at, created_by, revoked_at`

// InsertAPIKey stores a new key with its audit records, or returns access.ErrDuplicate when its
// ID exists.
func (s accessStore) InsertAPIKey(ctx context.Context, k access.APIKey, audit ...access.Record) error {
	return s.audited(ctx, audit, func(q querier) error { return insertAPIKey(ctx, q, k) })
}

func insertAPIKey(ctx context.Context, q querier, k access.APIKey) error {
	res, err := q.ExecContext(ctx,
		`INSERT INTO api_keys (`+apiKeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
		k.ID, k.OrgID, string(k.Role), k.Name, k.Hash, micros(k.CreatedAt), k.CreatedBy, optMicros(k.RevokedAt))
	if err != nil {
		if uniqueViolation(err) {
			return access.ErrDuplicate
		}
		return fmt.Errorf("insert API key %q: %w", k.ID, err)
	}
	return changed(res, access.ErrDuplicate)
}

// APIKey reads a key, revoked or not, or returns access.ErrNotFound.
func (s accessStore) APIKey(ctx context.Context, id string) (access.APIKey, error) {
	return scanAPIKey(s.db.r.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = $1`, id))
}

// APIKeys lists an organization's keys, revoked ones too, by creation time then ID, at most
// APIKeysListMax.
func (s accessStore) APIKeys(ctx context.Context, orgID string) ([]access.APIKey, error) {
	rows, err := s.db.r.QueryContext(ctx,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE org_id = $1 ORDER BY created_at, id LIMIT $2`, orgID, APIKeysListMax)
	if err != nil {
		return nil, fmt.Errorf("select API keys of %q: %w", orgID, err)
	}
	defer rows.Close()
	out := []access.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select API keys of %q: %w", orgID, err)
	}
	return out, nil
}

// RevokeAPIKey marks a key revoked at at and appends its audit records, or returns
// access.ErrNotFound. Revoking a revoked key changes nothing and records nothing: the first
// revocation time stays.
func (s accessStore) RevokeAPIKey(ctx context.Context, id string, at time.Time, audit ...access.Record) error {
	return s.db.write(ctx, func(t *tx) error {
		// The condition makes concurrent revocations one: only the first changes the row.
		res, err := t.q.ExecContext(ctx,
			`UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, micros(at))
		if err != nil {
			return t.fail(fmt.Errorf("revoke API key %q: %w", id, err))
		}
		if err := changed(res, errUnchanged); err == errUnchanged {
			var one int
			err := t.q.QueryRowContext(ctx, `SELECT 1 FROM api_keys WHERE id = $1`, id).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return access.ErrNotFound
			}
			if err != nil {
				return t.fail(fmt.Errorf("read API key %q: %w", id, err))
			}
			return nil // revoked before
		} else if err != nil {
			return t.fail(err)
		}
		return appendAudit(ctx, t, audit)
	})
}

// errUnchanged says a conditional statement changed no row.
var errUnchanged = errors.New("unchanged")

// audited runs one write statement and appends audit in the same transaction; an error from
// the statement rolls both back.
func (s accessStore) audited(ctx context.Context, audit []access.Record, stmt func(querier) error) error {
	return s.db.write(ctx, func(t *tx) error {
		if err := stmt(t.q); err != nil {
			return err
		}
		return appendAudit(ctx, t, audit)
	})
}

// appendAudit appends records to the audit of account administration.
func appendAudit(ctx context.Context, t *tx, audit []access.Record) error {
	for _, r := range audit {
		_, err := t.q.ExecContext(ctx, `INSERT INTO access_audit (org_id, at, actor_role, actor_org, actor_id, action, target, detail)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			r.OrgID, micros(r.At), string(r.Actor.Role), r.Actor.OrgID, r.Actor.UserID, string(r.Action), r.Target, r.Detail)
		if err != nil {
			return t.fail(fmt.Errorf("append access audit of %q: %w", r.OrgID, err))
		}
	}
	return nil
}

// AccessAudit lists an organization's audit records, newest first, at most max.
func (s accessStore) AccessAudit(ctx context.Context, orgID string, max int) ([]access.Record, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT id, at, actor_role, actor_org, actor_id, action, target, detail
		FROM access_audit WHERE org_id = $1 ORDER BY id DESC LIMIT $2`, orgID, max)
	if err != nil {
		return nil, fmt.Errorf("select access audit of %q: %w", orgID, err)
	}
	defer rows.Close()
	out := []access.Record{}
	for rows.Next() {
		r := access.Record{OrgID: orgID}
		var at int64
		var role, action string
		if err := rows.Scan(&r.ID, &at, &role, &r.Actor.OrgID, &r.Actor.UserID, &action, &r.Target, &r.Detail); err != nil {
			return nil, fmt.Errorf("scan access audit: %w", err)
		}
		r.At, r.Actor.Role, r.Action = fromMicros(at), trade.Role(role), access.Action(action)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select access audit of %q: %w", orgID, err)
	}
	return out, nil
}

func scanAPIKey(r accessRow) (access.APIKey, error) {
	var k access.APIKey
	var role string
	var created int64
	var revoked sql.NullInt64
	err := r.Scan(&k.ID, &k.OrgID, &role, &k.Name, &k.Hash, &created, &k.CreatedBy, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return access.APIKey{}, access.ErrNotFound
	}
	if err != nil {
		return access.APIKey{}, fmt.Errorf("scan API key: %w", err)
	}
	k.Role, k.CreatedAt, k.RevokedAt = trade.Role(role), fromMicros(created), fromOptMicros(revoked)
	return k, nil
}

// flag stores a bool as the 0 or 1 of an INTEGER column (the same type in both databases).
func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// optMicros stores a nil time as NULL.
func optMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return micros(*t)
}

// fromOptMicros returns NULL as nil.
func fromOptMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}
