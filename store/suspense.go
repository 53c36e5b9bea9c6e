package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tradeassure/tradeassure/escrow"
)

const suspenseCols = `SELECT received_at, doc FROM suspense`

// InsertSuspense records money that matched no payment, or returns ErrDuplicate.
func (t *tx) InsertSuspense(ctx context.Context, s escrow.SuspenseItem) error {
	doc, err := marshalDoc("suspense item", s)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `INSERT INTO suspense
		(id, method, currency, amount, reference, received_at, state, doc)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
		s.ID, string(s.Method), string(s.Amount.Currency), s.Amount.Minor, s.Reference,
		micros(s.ReceivedAt), string(s.State), doc)
	if err != nil {
		return t.fail(insertErr("suspense item", s.ID, err))
	}
	return t.fail(changed(res, duplicate("suspense item", s.ID)))
}

// UpdateSuspense replaces a suspense item, or returns ErrNotFound.
func (t *tx) UpdateSuspense(ctx context.Context, s escrow.SuspenseItem) error {
	doc, err := marshalDoc("suspense item", s)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `UPDATE suspense SET method = $2, currency = $3, amount = $4,
		reference = $5, received_at = $6, state = $7, doc = $8 WHERE id = $1`,
		s.ID, string(s.Method), string(s.Amount.Currency), s.Amount.Minor, s.Reference,
		micros(s.ReceivedAt), string(s.State), doc)
	if err != nil {
		return t.fail(fmt.Errorf("update suspense item %q: %w", s.ID, err))
	}
	return t.fail(changed(res, notFound("suspense item", s.ID)))
}

// Suspense reads a suspense item.
func (r reader) Suspense(ctx context.Context, id string) (escrow.SuspenseItem, error) {
	s, err := scanSuspense(r.q.QueryRowContext(ctx, suspenseCols+` WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return escrow.SuspenseItem{}, notFound("suspense item", id)
	}
	if err != nil {
		return escrow.SuspenseItem{}, fmt.Errorf("select suspense item %q: %w", id, err)
	}
	return s, nil
}

// SuspenseItems lists up to limit items in a state (any state for ""), by ReceivedAt.
func (r reader) SuspenseItems(ctx context.Context, state escrow.SuspenseState, limit int) ([]escrow.SuspenseItem, error) {
	q, args := suspenseCols+` ORDER BY received_at, id LIMIT $1`, []any{clampLimit(limit)}
	if state != "" {
		// A separate text, not "state = $2 OR $2 = ''", so the (state, received_at) index serves it.
		q, args = suspenseCols+` WHERE state = $2 ORDER BY received_at, id LIMIT $1`, append(args, string(state))
	}
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("select suspense items: %w", err)
	}
	defer rows.Close()
	var out []escrow.SuspenseItem
	for rows.Next() {
		s, err := scanSuspense(rows)
		if err != nil {
			return nil, fmt.Errorf("scan suspense item: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select suspense items: %w", err)
	}
	return out, nil
}

func scanSuspense(row interface{ Scan(...any) error }) (escrow.SuspenseItem, error) {
	var received int64
	var doc string
	if err := row.Scan(&received, &doc); err != nil {
		return escrow.SuspenseItem{}, err
	}
	var s escrow.SuspenseItem
	if err := json.Unmarshal([]byte(doc), &s); err != nil {
		return escrow.SuspenseItem{}, fmt.Errorf("decode suspense item: %w", err)
	}
	s.ReceivedAt = fromMicros(received)
	return s, nil
}
