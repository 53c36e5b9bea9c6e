package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
)

// reader implements escrow.Reader on one transaction, read-only or not.
type reader struct {
	db *DB
	q  querier
}

// tx implements escrow.Tx.
type tx struct {
	reader
	// broken is set by an error after which the transaction must not commit even if fn
	// swallows it: a NegativeError, or a statement that failed after others had written.
	broken error
	// newAccounts are ledger accounts this transaction inserted: known to exist once it commits.
	newAccounts []string
	// eventsLocked records that dialect.lockEvents ran in this transaction.
	eventsLocked bool
	// posted counts this transaction's ledger transfers by code, added to DB.posted on commit.
	posted map[string]int64
}

var (
	_ escrow.Reader = reader{}
	_ escrow.Tx     = (*tx)(nil)
)

// fail marks the transaction broken by err, unless err is one of the escrow sentinels, which
// leave a transaction usable on both databases (they come from row counts, not failed SQL).
func (t *tx) fail(err error) error {
	if err != nil && !errors.Is(err, escrow.ErrNotFound) && !errors.Is(err, escrow.ErrDuplicate) &&
		!errors.Is(err, escrow.ErrConflict) && t.broken == nil {
		t.broken = err
	}
	return err
}

// micros is how a time is stored: unix microseconds.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros is how a stored time is returned: UTC, microsecond precision.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullMicros stores the zero time as NULL.
func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// fromNullMicros returns NULL as the zero time.
func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

// rawText stores raw JSON as text, unchanged.
func rawText(m json.RawMessage) string { return string(m) }

// fromRawText returns stored raw JSON byte for byte; empty text as nil.
func fromRawText(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

// marshalDoc encodes a document.
func marshalDoc(what string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", what, err)
	}
	return string(b), nil
}

// clampLimit bounds a page size to 1..PageSizeMax; zero or less asks for a full page.
func clampLimit(n int) int {
	if n <= 0 || n > escrow.PageSizeMax {
		return escrow.PageSizeMax
	}
	return n
}

// notFound wraps escrow.ErrNotFound with what was looked for.
func notFound(what, id string) error {
	return fmt.Errorf("%s %q: %w", what, id, escrow.ErrNotFound)
}

// duplicate wraps escrow.ErrDuplicate with what exists already.
func duplicate(what, id string) error {
	return fmt.Errorf("%s %q: %w", what, id, escrow.ErrDuplicate)
}

// insertErr translates the error of an INSERT … ON CONFLICT DO NOTHING: a unique violation
// can still surface from a constraint the conflict clause does not cover.
func insertErr(what, id string, err error) error {
	if uniqueViolation(err) {
		return duplicate(what, id)
	}
	return fmt.Errorf("insert %s %q: %w", what, id, err)
}

// changed returns none when an UPDATE or an INSERT … ON CONFLICT DO NOTHING changed no row.
func changed(res sql.Result, none error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return none
	}
	return nil
}
