package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
)

// The outboxes — timers, webhook deliveries, notification emails, debit requests, lender
// requests and payouts — are claimed alike: one statement leases a batch of due rows to a
// worker, counting an attempt on each. Its inner SELECT picks the rows due now, oldest first (on
// PostgreSQL locking them and passing over those a concurrent claimer holds: dialect.skipLocked;
// on SQLite the one writer serializes claims); the UPDATE leases them. A lease that lapsed is due
// again: its worker died, perhaps after the outside party answered. What differs between the
// outboxes is data: an outbox value per table.

// The lease and the due rows of an outbox whose rows carry next_attempt_at, lease_owner and
// lease_until.
const (
	leaseTo = `lease_owner = $1, lease_until = $2` // leases a row to $1 until $2
	dueNow  = `next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3)`
)

// outbox is one outbox table as this file claims, locks and lists it.
type outbox[T any] struct {
	what  string // names the rows in errors: "debit requests"
	one   string // names one row: "debit request"
	table string
	from  string // the inner SELECT's FROM, when due names the table by an alias; else table
	key   string // the column a claim picks rows by
	// cols and scan are what a claim returns, and what lockRow and page read: a whole row, or
	// only its key when the caller reads the claimed rows back joined to others.
	cols string
	scan func(scanner) (T, error)
	// lease is the SET clause that leases a row to $1 until $2.
	lease string
	// due selects the rows due at $3 (next attempt reached, no live lease), narrowed by the
	// claim's extra arguments from $5 on; order puts the longest due first.
	due, order string
	// batchMax bounds a claim.
	batchMax int
	// sorted orders a claim's rows as the claim picked them (RETURNING has no order); nil for a
	// claim of keys, whose caller orders what it reads back.
	sorted func(a, b T) int
	// held narrows lockRow with an owner ($2) to a row that owner holds and that waits for its
	// worker.
	held string
}

// claimQuery is the claim's statement: $1 the owner, $2 the lease's end, $3 now, $4 the limit.
func (o outbox[T]) claimQuery(skipLocked string) string {
	from := cmp.Or(o.from, o.table)
	return `UPDATE ` + o.table + ` SET ` + o.lease + `, attempts = attempts + 1
		WHERE ` + o.key + ` IN (SELECT ` + o.key + ` FROM ` + from + ` WHERE ` + o.due + `
			ORDER BY ` + o.order + ` LIMIT $4` + skipLocked + `)
		RETURNING ` + o.cols
}

// checkLease refuses a claim without an owner or a lease: a bug in the caller.
func checkLease(what, owner string, lease time.Duration) error {
	if owner == "" || lease <= 0 {
		return fmt.Errorf("claim %s: want an owner and a positive lease", what)
	}
	return nil
}

// claimDueIn leases up to limit (1..o.batchMax) rows of o due at now to owner until now+lease, in
// t, and returns them in no order. args are the claim's extra arguments, $5 on.
func claimDueIn[T any](ctx context.Context, t *tx, o outbox[T], now time.Time, owner string, lease time.Duration, limit int,
	args ...any) ([]T, error) {
	if limit <= 0 || limit > o.batchMax {
		limit = o.batchMax
	}
	rows, err := t.q.QueryContext(ctx, o.claimQuery(t.db.d.skipLocked),
		append([]any{owner, micros(now.Add(lease)), micros(now), limit}, args...)...)
	if err != nil {
		return nil, t.fail(fmt.Errorf("claim %s: %w", o.what, err))
	}
	out, err := scanAll(rows, o.what, o.scan)
	return out, t.fail(err)
}

// claimDue is claimDueIn in a write transaction of its own, ordered as the claim picked the rows.
func claimDue[T any](ctx context.Context, db *DB, o outbox[T], now time.Time, owner string, lease time.Duration, limit int,
	args ...any) ([]T, error) {
	if err := checkLease(o.what, owner, lease); err != nil {
		return nil, err
	}
	var out []T
	err := db.write(ctx, func(t *tx) error {
		var err error
		out, err = claimDueIn(ctx, t, o, now, owner, lease, limit, args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, o.sorted)
	return out, nil
}

// byDue orders claimed rows as a claim picks them: by when they were due, then by key.
func byDue[T any, K cmp.Ordered](due func(T) (time.Time, K)) func(a, b T) int {
	return func(a, b T) int {
		at, ak := due(a)
		bt, bk := due(b)
		return cmp.Or(at.Compare(bt), cmp.Compare(ak, bk))
	}
}

// lockRow reads row id of o and locks it until commit; with an owner, only while o.held: else
// ErrNotFound (another worker took it over, or an operator answered).
func lockRow[T any](ctx context.Context, t *tx, o outbox[T], id, owner string) (T, error) {
	q, args := `SELECT `+o.cols+` FROM `+o.table+` WHERE id = $1`, []any{id}
	if owner != "" {
		q, args = q+` AND `+o.held, append(args, owner)
	}
	v, err := o.scan(t.q.QueryRowContext(ctx, q+t.db.d.forUpdate, args...))
	if errors.Is(err, sql.ErrNoRows) {
		var zero T
		return zero, notFound(o.one, id)
	}
	if err != nil {
		var zero T
		return zero, t.fail(fmt.Errorf("select %s %q: %w", o.one, id, err))
	}
	return v, nil
}

// updateRow runs query, an UPDATE of row id of an outbox, in t: a unique violation is dup (the
// row would be a second open one of its subject; nil: no such index), no row changed is
// ErrNotFound.
func (t *tx) updateRow(ctx context.Context, one, id string, dup error, query string, args ...any) error {
	res, err := t.q.ExecContext(ctx, query, args...)
	if err != nil {
		if dup != nil && uniqueViolation(err) {
			return t.fail(dup)
		}
		return t.fail(fmt.Errorf("update %s %q: %w", one, id, err))
	}
	return t.fail(changed(res, notFound(one, id)))
}

// match is one equality filter of a page: an empty value matches every row.
type match struct{ col, v string }

// pageOrder is the order of a page of an outbox: by cols (a time, then the ID), ascending
// unless desc; where narrows the page to the rows that have the order's columns.
type pageOrder struct {
	cols  []string
	desc  bool
	where string
}

// The orders of escrow.ListOrder.
var (
	newestFirst   = pageOrder{cols: []string{"requested_at", "id"}, desc: true}
	oldestFirst   = pageOrder{cols: []string{"requested_at", "id"}}
	fundsDueFirst = pageOrder{cols: []string{"funds_due_at", "id"}, where: "funds_due_at IS NOT NULL"}
)

// orderOf is the page order o names, among those the list has.
func orderOf(o escrow.ListOrder, has ...escrow.ListOrder) (pageOrder, error) {
	if !slices.Contains(has, o) {
		return pageOrder{}, fmt.Errorf("list order %q: not one of this list's", o) // a bug in the caller
	}
	switch o {
	case escrow.OldestFirst:
		return oldestFirst, nil
	case escrow.FundsDueFirst:
		return fundsDueFirst, nil
	}
	return newestFirst, nil
}

// page lists up to limit (1..max) rows of o after the row after in the order by, narrowed by
// the filters; a cursor naming no row gives an empty page.
func page[T any](ctx context.Context, r reader, o outbox[T], filters []match, by pageOrder, after string, limit, max int) ([]T, error) {
	if limit <= 0 || limit > max {
		limit = max
	}
	var where []string
	args := []any{limit}
	for _, f := range filters {
		if f.v != "" {
			args = append(args, f.v)
			where = append(where, fmt.Sprintf("%s = $%d", f.col, len(args)))
		}
	}
	if by.where != "" {
		where = append(where, by.where)
	}
	cols, cmpOp, dir := strings.Join(by.cols, ", "), ">", ""
	if by.desc {
		cmpOp, dir = "<", " DESC"
	}
	if after != "" {
		args = append(args, after)
		where = append(where, fmt.Sprintf("(%s) %s (SELECT %s FROM %s WHERE id = $%d)", cols, cmpOp, cols, o.table, len(args)))
	}
	q := `SELECT ` + o.cols + ` FROM ` + o.table
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := r.q.QueryContext(ctx, q+` ORDER BY `+strings.Join(by.cols, dir+", ")+dir+` LIMIT $1`, args...)
	if err != nil {
		return nil, fmt.Errorf("select %s: %w", o.what, err)
	}
	return scanAll(rows, o.what, o.scan)
}
