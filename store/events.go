package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tradeassure/tradeassure/escrow"
)

const eventCols = `SELECT global_seq, stream, seq, type, actor, at, payload, prev_hash, hash FROM events`

// AppendEvent appends e to its stream and records its audience, or returns ErrDuplicate when
// (Stream, Seq) exists. The payload is stored as text, byte for byte, since it is hashed.
func (t *tx) AppendEvent(ctx context.Context, e escrow.Event) error {
	id := e.Stream + "#" + strconv.FormatInt(e.Seq, 10)
	if e.Stream == "" || e.Seq < 1 {
		return fmt.Errorf("append event %s: want a stream and a seq from 1", id) // a bug in the caller
	}
	if lock := t.db.d.lockEvents; lock != "" && !t.eventsLocked {
		if _, err := t.q.ExecContext(ctx, lock); err != nil {
			return t.fail(fmt.Errorf("lock event log: %w", err))
		}
		t.eventsLocked = true
	}
	actor, err := marshalDoc("actor", e.Actor)
	if err != nil {
		return err
	}
	var global int64
	err = t.q.QueryRowContext(ctx, `INSERT INTO events (stream, seq, type, actor, at, payload, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING global_seq`,
		e.Stream, e.Seq, e.Type, actor, micros(e.At), rawText(e.Payload), e.PrevHash, e.Hash).Scan(&global)
	if errors.Is(err, sql.ErrNoRows) {
		return duplicate("event", id)
	}
	if err != nil {
		return t.fail(insertErr("event", id, err))
	}
	return t.appendAudience(ctx, id, global, e.Audience)
}

// EventAudienceMax bounds the organizations one event is shown to.
const EventAudienceMax = 16

// appendAudience records who may see event global, in one statement.
func (t *tx) appendAudience(ctx context.Context, id string, global int64, orgs []string) error {
	if len(orgs) == 0 {
		return nil
	}
	if len(orgs) > EventAudienceMax {
		return t.fail(fmt.Errorf("append event %s: audience of %d, at most %d", id, len(orgs), EventAudienceMax)) // a bug in the caller
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO event_audience (org_id, global_seq) VALUES `)
	args := []any{global}
	for i, org := range orgs {
		if i > 0 {
			q.WriteString(", ")
		}
		args = append(args, org)
		fmt.Fprintf(&q, "($%d, $1)", len(args))
	}
	q.WriteString(` ON CONFLICT DO NOTHING`)
	if _, err := t.q.ExecContext(ctx, q.String(), args...); err != nil {
		return t.fail(fmt.Errorf("append audience of event %s: %w", id, err))
	}
	return nil
}

// LastEvent returns the seq and hash of a stream's last event: 0, "" when it has none.
func (t *tx) LastEvent(ctx context.Context, stream string) (seq int64, hash string, err error) {
	err = t.q.QueryRowContext(ctx, `SELECT seq, hash FROM events WHERE stream = $1 ORDER BY seq DESC LIMIT 1`, stream).
		Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", t.fail(fmt.Errorf("select last event of %q: %w", stream, err))
	}
	return seq, hash, nil
}

// Events lists a stream by Seq.
func (r reader) Events(ctx context.Context, stream string) ([]escrow.Event, error) {
	return r.events(ctx, eventCols+` WHERE stream = $1 ORDER BY seq`, stream)
}

// EventsAfter lists up to limit events with GlobalSeq > after, by GlobalSeq.
func (r reader) EventsAfter(ctx context.Context, after int64, limit int) ([]escrow.Event, error) {
	return r.events(ctx, eventCols+` WHERE global_seq > $1 ORDER BY global_seq LIMIT $2`, after, clampLimit(limit))
}

func (r reader) events(ctx context.Context, query string, args ...any) ([]escrow.Event, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("select events: %w", err)
	}
	defer rows.Close()
	var out []escrow.Event
	for rows.Next() {
		var e escrow.Event
		var actor, payload string
		var at int64
		if err := rows.Scan(&e.GlobalSeq, &e.Stream, &e.Seq, &e.Type, &actor, &at, &payload, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("scan event: %w", err)
		}
		if err := json.Unmarshal([]byte(actor), &e.Actor); err != nil {
			return nil, fmt.Errorf("decode event actor: %w", err)
		}
		e.At, e.Payload = fromMicros(at), fromRawText(payload)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select events: %w", err)
	}
	return out, nil
}

// StreamIDs lists up to limit event streams after the given one, ascending.
func (r reader) StreamIDs(ctx context.Context, after string, limit int) ([]string, error) {
	rows, err := r.q.QueryContext(ctx,
		`SELECT DISTINCT stream FROM events WHERE stream > $1 ORDER BY stream LIMIT $2`, after, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("select streams: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("scan stream: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select streams: %w", err)
	}
	return out, nil
}
