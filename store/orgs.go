package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/trade"
)

// Org reads an organization.
func (r reader) Org(ctx context.Context, id string) (trade.Org, error) {
	return r.org(ctx, id, "")
}

// LockOrg reads an organization and locks it until commit.
func (t *tx) LockOrg(ctx context.Context, id string) (trade.Org, error) {
	o, err := t.org(ctx, id, t.db.d.forUpdate)
	return o, t.fail(err)
}

func (r reader) org(ctx context.Context, id, lock string) (trade.Org, error) {
	var doc string
	err := r.q.QueryRowContext(ctx, `SELECT doc FROM orgs WHERE id = $1`+lock, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return trade.Org{}, notFound("org", id)
	}
	if err != nil {
		return trade.Org{}, fmt.Errorf("select org %q: %w", id, err)
	}
	var o trade.Org
	if err := json.Unmarshal([]byte(doc), &o); err != nil {
		return trade.Org{}, fmt.Errorf("decode org %q: %w", id, err)
	}
	return o, nil
}

// Orgs lists the organizations of a kind (all of them for ""), by ID.
func (r reader) Orgs(ctx context.Context, kind trade.OrgKind) ([]trade.Org, error) {
	q, args := `SELECT doc FROM orgs ORDER BY id`, []any(nil)
	if kind != "" {
		q, args = `SELECT doc FROM orgs WHERE kind = $1 ORDER BY id`, []any{string(kind)}
	}
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("select orgs: %w", err)
	}
	defer rows.Close()
	var out []trade.Org
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("scan org: %w", err)
		}
		var o trade.Org
		if err := json.Unmarshal([]byte(doc), &o); err != nil {
			return nil, fmt.Errorf("decode org: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select orgs: %w", err)
	}
	return out, nil
}

// InsertOrg stores a new organization, or returns ErrDuplicate.
func (t *tx) InsertOrg(ctx context.Context, o trade.Org) error {
	doc, err := marshalDoc("org", o)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx,
		`INSERT INTO orgs (id, kind, doc, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		o.ID, string(o.Kind), doc, micros(t.db.now()))
	if err != nil {
		return t.fail(insertErr("org", o.ID, err))
	}
	return t.fail(changed(res, duplicate("org", o.ID)))
}

// UpdateOrg replaces a stored organization, or returns ErrNotFound.
func (t *tx) UpdateOrg(ctx context.Context, o trade.Org) error {
	doc, err := marshalDoc("org", o)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `UPDATE orgs SET kind = $2, doc = $3, updated_at = $4 WHERE id = $1`,
		o.ID, string(o.Kind), doc, micros(t.db.now()))
	if err != nil {
		return t.fail(fmt.Errorf("update org %q: %w", o.ID, err))
	}
	return t.fail(changed(res, notFound("org", o.ID)))
}

// AppendOrgHistory records a change to an organization.
func (t *tx) AppendOrgHistory(ctx context.Context, c escrow.OrgChange) error {
	actor, err := marshalDoc("actor", c.Actor)
	if err != nil {
		return err
	}
	_, err = t.q.ExecContext(ctx,
		`INSERT INTO org_history (org_id, at, actor, field, change) VALUES ($1, $2, $3, $4, $5)`,
		c.OrgID, micros(c.At), actor, c.Field, rawText(c.Change))
	if err != nil {
		return t.fail(fmt.Errorf("insert org history of %q: %w", c.OrgID, err))
	}
	return nil
}

// OrgHistory lists an organization's changes, oldest first.
func (r reader) OrgHistory(ctx context.Context, orgID string) ([]escrow.OrgChange, error) {
	rows, err := r.q.QueryContext(ctx,
		`SELECT at, actor, field, change FROM org_history WHERE org_id = $1 ORDER BY id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("select org history of %q: %w", orgID, err)
	}
	defer rows.Close()
	var out []escrow.OrgChange
	for rows.Next() {
		c := escrow.OrgChange{OrgID: orgID}
		var at int64
		var actor, change string
		if err := rows.Scan(&at, &actor, &c.Field, &change); err != nil {
			return nil, fmt.Errorf("scan org history: %w", err)
		}
		if err := json.Unmarshal([]byte(actor), &c.Actor); err != nil {
			return nil, fmt.Errorf("decode org history actor: %w", err)
		}
		c.At, c.Change = fromMicros(at), fromRawText(change)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select org history of %q: %w", orgID, err)
	}
	return out, nil
}

// Command returns the record of an idempotent command, or nil, nil when there is none.
func (t *tx) Command(ctx context.Context, scope, key string) (*escrow.CommandRecord, error) {
	c := escrow.CommandRecord{Scope: scope, Key: key}
	var result string
	var at int64
	err := t.q.QueryRowContext(ctx,
		`SELECT request_hash, result, at FROM commands WHERE scope = $1 AND key = $2`, scope, key).
		Scan(&c.RequestHash, &result, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, t.fail(fmt.Errorf("select command %s/%s: %w", scope, key, err))
	}
	c.Result, c.At = fromRawText(result), fromMicros(at)
	return &c, nil
}

// SaveCommand records an idempotent command, or returns ErrDuplicate.
func (t *tx) SaveCommand(ctx context.Context, c escrow.CommandRecord) error {
	id := c.Scope + "/" + c.Key
	res, err := t.q.ExecContext(ctx,
		`INSERT INTO commands (scope, key, request_hash, result, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		c.Scope, c.Key, c.RequestHash, rawText(c.Result), micros(c.At))
	if err != nil {
		return t.fail(insertErr("command", id, err))
	}
	return t.fail(changed(res, duplicate("command", id)))
}
